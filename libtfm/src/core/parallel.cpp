#include "tfm/core/parallel.h"

#include <cstdio>
#include <exception>
#include <thread>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/core/line_io.h"

namespace tfm {

namespace {

void write_stdout(std::string_view data) {
  if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size())
    throw IoError("<stdout>", "write failed", errno);
}

// A chunk's lines live in one buffer (no allocation per line).
struct Chunk {
  std::string text;
  std::vector<std::size_t> ends;  // line i is text[ends[i-1], ends[i])
  std::size_t first_line_number = 0;
  std::vector<std::string> outputs;
  std::size_t size() const { return ends.size(); }
  std::string_view line(std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(text).substr(begin, ends[i] - begin);
  }
};

// Transforms chunk lines [begin, end) into outputs; returns the first error.
std::exception_ptr transform_range(Chunk& chunk, std::size_t begin, std::size_t end,
                                   const LineTransform& transform) {
  try {
    for (std::size_t i = begin; i < end; ++i) {
      chunk.outputs[i].clear();
      transform(chunk.line(i), chunk.first_line_number + i, chunk.outputs[i]);
    }
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

void process_chunk(Chunk& chunk, int threads, const LineTransform& transform) {
  const std::size_t n = chunk.size();
  chunk.outputs.resize(n);
  const std::size_t workers = std::min<std::size_t>(static_cast<std::size_t>(threads), n);
  std::vector<std::exception_ptr> errors(std::max<std::size_t>(workers, 1));
  if (workers <= 1) {
    errors[0] = transform_range(chunk, 0, n, transform);
  } else {
    std::vector<std::jthread> pool;
    for (std::size_t w = 0; w < workers; ++w)
      pool.emplace_back([&, w] {
        errors[w] = transform_range(chunk, n * w / workers, n * (w + 1) / workers, transform);
      });
  }
  for (auto& error : errors)
    if (error) std::rethrow_exception(error);  // ranges are in order: earliest line first
}

}  // namespace

void filter_lines(LineReader& reader, const LineFilterOptions& options, const LineTransform& transform) {
  std::string_view line;
  if (options.unbuffered) {
    std::string out;
    while (reader.next(line)) {
      out.clear();
      transform(line, reader.line_number(), out);
      if (reader.had_newline() || !options.keep_missing_newline) out.push_back('\n');
      write_stdout(out);
      std::fflush(stdout);
    }
    return;
  }
  const std::size_t chunk_size = options.chunk_lines * static_cast<std::size_t>(std::max(1, options.threads));
  Chunk chunk;
  for (bool more = true; more;) {
    chunk.text.clear();
    chunk.ends.clear();
    chunk.first_line_number = reader.line_number() + 1;
    while (chunk.size() < chunk_size && (more = reader.next(line))) {
      chunk.text += line;
      chunk.ends.push_back(chunk.text.size());
    }
    if (chunk.ends.empty()) break;
    process_chunk(chunk, options.threads, transform);
    // Only the last line of the input can lack its newline.
    const bool drop_last_newline = options.keep_missing_newline && !reader.had_newline();
    for (std::size_t i = 0; i < chunk.outputs.size(); ++i) {
      std::string& out = chunk.outputs[i];
      if (!(drop_last_newline && i + 1 == chunk.outputs.size())) out.push_back('\n');
      write_stdout(out);
    }
  }
}

int available_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace tfm
