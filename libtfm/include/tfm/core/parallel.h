// Streaming line processing in parallel with output in input order, for the
// filters (tokenize, bpe apply, ...). The result never depends on the thread
// count: each line is transformed independently and written in order.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace tfm {

class LineReader;

struct LineFilterOptions {
  int threads = 1;
  std::size_t chunk_lines = 4096;  // lines read before work is shared out
  bool unbuffered = false;         // one line at a time, flushed (for pipes)
  bool keep_missing_newline = false;  // a last input line without '\n' gets none
};

// Transforms a line into its output (without the '\n'). Called concurrently
// from several threads with distinct `out` buffers; `line_number` is 1-based.
// Throwing InputError stops the run; the error of the earliest line wins.
using LineTransform =
    std::function<void(std::string_view line, std::size_t line_number, std::string& out)>;

// Reads all lines of `reader`, applies `transform`, writes each result plus
// '\n' to stdout in input order. Memory is bounded by chunk_lines × threads.
void filter_lines(LineReader& reader, const LineFilterOptions& options, const LineTransform& transform);

// Hardware threads available to this process (at least 1).
int available_threads();

}  // namespace tfm
