// Streaming line processing in parallel with output in input order, for the
// filters (tokenize, bpe apply, ...). The result never depends on the thread
// count: each line is transformed independently and written in order.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace tfm {

class AtomicFile;
class LineReader;

struct LineFilterOptions {
  int threads = 1;
  std::size_t chunk_lines = 4096;  // lines read before work is shared out
  bool unbuffered = false;         // one line at a time, flushed (for pipes)
  // For a last input line that lacks its '\n': whether its output gets one.
  // Unset: always. (tokenizer.perl copies blank lines verbatim, so a blank
  // unterminated last line stays unterminated.)
  std::function<bool(std::string_view line)> terminate_last_line;
};

// Transforms a line into its output (without the '\n'). Called concurrently
// from several threads with distinct `out` buffers; `line_number` is 1-based.
// Throwing InputError stops the run; the error of the earliest line wins.
using LineTransform =
    std::function<void(std::string_view line, std::size_t line_number, std::string& out)>;

// Reads all lines of `reader`, applies `transform`, writes each result plus
// '\n' to `out` in input order (the caller commits it). With several threads, a pool of workers
// transforms one chunk (chunk_lines × threads lines) while the calling thread
// reads the next and writes the previous: memory is bounded by two chunks.
// Output is written as it is ready, so a failing run leaves the output of
// the lines before the failing chunk in `out`. Throws IoError when writing fails.
void filter_lines(LineReader& reader, AtomicFile& out, const LineFilterOptions& options,
                  const LineTransform& transform);

// Hardware threads available to this process (at least 1).
int available_threads();

}  // namespace tfm
