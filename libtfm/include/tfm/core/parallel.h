// Work over threads outside the tensor engine, always cut by fixed splits so
// that results never depend on the thread count: for_each_range (a range of
// items per thread: metrics, resampling, the two sides of a corpus) and
// filter_lines (streaming line filters — tokenize, bpe apply, ... — with
// output in input order).
// The engine keeps its own pool (tensor/threads.h), for a measured reason:
// it is called once per product and per fused kernel (400 calls per update
// of a 2+2-layer test model, so over a thousand for 6+6 layers, and tens per
// decoded position), often on microseconds of work, and a call costs its
// sleeping workers 0.1-0.5 µs where for_each_range, which starts threads per
// call, costs 130-210 µs (2 threads, AMD Zen 5, busy machine).
// Word counting (text/word_counts.cpp) keeps its own too: its threads take
// turns reading the next chunk while the others count, where rounds of
// for_each_range (a chunk per thread, read by the caller between rounds)
// made tfm-bpe vocab on Multi30k x10 with 2 threads 1.20x as slow in wall
// time, where the rest of that build was 1.03x (medians of 9 and 11
// alternated whole-process runs, busy machine).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace tfm {

class AtomicFile;
class LineReader;

// Where part t of `parts` starts when n items are cut into parts of equal
// size (± 1): items [split_point(n, t, parts), split_point(n, t + 1, parts)).
inline std::size_t split_point(std::size_t n, std::size_t t, std::size_t parts) { return n * t / parts; }

// Runs body(begin, end) for each of the `parts` ranges of [0, n) given by
// split_point, each on a thread of its own (on the caller when parts ≤ 1),
// and returns when all are done. Bodies must write only what belongs to their
// range. Rethrows the error of the earliest range that threw.
void for_each_range(std::size_t n, std::size_t parts, const std::function<void(std::size_t, std::size_t)>& body);

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
