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

struct Chunk {
  std::vector<std::string> lines;  // strings reused from chunk to chunk: no allocation per line
  std::size_t first_line_number = 0;
  bool last_newline = true;  // whether the last line's output ends with '\n'
  std::vector<std::string> outputs;
};

// Transforms chunk lines [begin, end) into outputs; returns the first error.
std::exception_ptr transform_range(Chunk& chunk, std::size_t begin, std::size_t end,
                                   const LineTransform& transform) {
  try {
    for (std::size_t i = begin; i < end; ++i) {
      chunk.outputs[i].clear();
      transform(chunk.lines[i], chunk.first_line_number + i, chunk.outputs[i]);
    }
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

void process_chunk(Chunk& chunk, int threads, const LineTransform& transform) {
  const std::size_t n = chunk.lines.size();
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

// Whether the output of `line`, just read, ends with '\n'.
bool newline_after(const LineReader& reader, const LineFilterOptions& options, std::string_view line) {
  return reader.had_newline() || !options.terminate_last_line || options.terminate_last_line(line);
}

// Reads up to `size` lines into `chunk`; false at the end of the input.
bool read_chunk(LineReader& reader, const LineFilterOptions& options, std::size_t size, Chunk& chunk) {
  std::string_view line;
  std::size_t count = 0;
  chunk.first_line_number = reader.line_number() + 1;
  for (; count < size && reader.next(line); ++count) {
    if (count < chunk.lines.size()) chunk.lines[count].assign(line);
    else chunk.lines.emplace_back(line);
  }
  chunk.lines.resize(count);
  if (count > 0) chunk.last_newline = newline_after(reader, options, chunk.lines.back());
  return count > 0;
}

// Writes a processed chunk with one call; `buffer` is reused.
void write_chunk(const Chunk& chunk, std::string& buffer) {
  buffer.clear();
  const std::size_t n = chunk.lines.size();
  for (std::size_t i = 0; i < n; ++i) {
    buffer.append(chunk.outputs[i]);
    if (i + 1 < n || chunk.last_newline) buffer.push_back('\n');
  }
  write_stdout(buffer);
}

void filter_unbuffered(LineReader& reader, const LineFilterOptions& options, const LineTransform& transform) {
  std::string_view line;
  std::string out;
  while (reader.next(line)) {
    out.clear();
    transform(line, reader.line_number(), out);
    if (newline_after(reader, options, line)) out.push_back('\n');
    write_stdout(out);
    std::fflush(stdout);
  }
}

// With several threads, the calling thread reads the next chunk and writes
// the previous one while the workers transform the current one.
void filter_pipelined(LineReader& reader, const LineFilterOptions& options, const LineTransform& transform) {
  const std::size_t chunk_size = options.chunk_lines * static_cast<std::size_t>(options.threads);
  Chunk chunks[2];
  std::string buffer;
  int current = 0;
  bool have = read_chunk(reader, options, chunk_size, chunks[0]), previous = false;
  while (have) {
    Chunk& chunk = chunks[current];
    Chunk& other = chunks[1 - current];
    std::exception_ptr error;
    {
      std::jthread worker([&] {
        try {
          process_chunk(chunk, options.threads, transform);
        } catch (...) {
          error = std::current_exception();
        }
      });
      if (previous) write_chunk(other, buffer);
      have = read_chunk(reader, options, chunk_size, other);
    }
    if (error) std::rethrow_exception(error);
    previous = true;
    current = 1 - current;
  }
  if (previous) write_chunk(chunks[1 - current], buffer);
}

}  // namespace

void filter_lines(LineReader& reader, const LineFilterOptions& options, const LineTransform& transform) {
  if (options.unbuffered) return filter_unbuffered(reader, options, transform);
  if (options.threads > 1) return filter_pipelined(reader, options, transform);
  // One thread: lines go straight from the reader's buffer to the transform,
  // outputs are gathered and written 64 KiB at a time.
  std::string_view line;
  std::string out, buffer;
  while (reader.next(line)) {
    out.clear();
    transform(line, reader.line_number(), out);
    buffer.append(out);
    if (newline_after(reader, options, line)) buffer.push_back('\n');
    if (buffer.size() >= (1u << 16)) {
      write_stdout(buffer);
      buffer.clear();
    }
  }
  write_stdout(buffer);
}

int available_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace tfm
