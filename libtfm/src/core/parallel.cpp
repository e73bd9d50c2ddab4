#include "tfm/core/parallel.h"

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/core/line_io.h"

namespace tfm {

namespace {

// A batch of lines stored back to back, and their outputs: one buffer per
// worker holding its share of the lines' outputs, each ended by '\n'.
struct Chunk {
  std::string text;
  std::vector<std::size_t> ends;  // end of each line in text
  std::size_t first_line_number = 0;
  bool last_newline = true;  // whether the last line's output ends with '\n'
  std::vector<std::string> outputs;

  std::size_t size() const { return ends.size(); }
  std::string_view line(std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(text).substr(begin, ends[i] - begin);
  }
};

// Transforms chunk lines [begin, end) into `out`; returns the first error.
std::exception_ptr transform_range(const Chunk& chunk, std::size_t begin, std::size_t end,
                                   const LineTransform& transform, std::string& out) {
  out.clear();
  try {
    std::string line_out;
    for (std::size_t i = begin; i < end; ++i) {
      line_out.clear();
      transform(chunk.line(i), chunk.first_line_number + i, line_out);
      out.append(line_out);
      if (i + 1 < chunk.size() || chunk.last_newline) out.push_back('\n');
    }
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

// Threads kept for the whole run (their thread_local state, such as a
// transform's scratch buffers, lives on), each running its share of one job
// at a time: start() hands out a job, wait() returns when all are done.
class WorkerPool {
 public:
  using Job = std::function<void(std::size_t worker, std::size_t workers)>;

  explicit WorkerPool(std::size_t workers) {
    for (std::size_t w = 0; w < workers; ++w) threads_.emplace_back([this, w] { loop(w); });
  }
  ~WorkerPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_) thread.join();
  }
  void start(Job job) {
    {
      std::lock_guard lock(mutex_);
      job_ = std::move(job);
      pending_ = threads_.size();
      ++generation_;
    }
    wake_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  void loop(std::size_t worker) {
    std::uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      lock.unlock();
      job_(worker, threads_.size());  // jobs catch their own exceptions
      lock.lock();
      if (--pending_ == 0) done_.notify_all();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  Job job_;
  std::uint64_t generation_ = 0;
  std::size_t pending_ = 0;
  bool stop_ = false;
};

// Starts transforming `chunk` on the pool; `errors` gets one slot per worker.
void start_chunk(WorkerPool& pool, Chunk& chunk, std::vector<std::exception_ptr>& errors,
                 const LineTransform& transform) {
  const std::size_t n = chunk.size();
  chunk.outputs.resize(errors.size());
  pool.start([&chunk, &errors, &transform, n](std::size_t w, std::size_t workers) {
    errors[w] = transform_range(chunk, split_point(n, w, workers), split_point(n, w + 1, workers), transform,
                                chunk.outputs[w]);
  });
}

// Whether the output of `line`, just read, ends with '\n'.
bool newline_after(const LineReader& reader, const LineFilterOptions& options, std::string_view line) {
  return reader.had_newline() || !options.terminate_last_line || options.terminate_last_line(line);
}

// Reads up to `size` lines into `chunk`; false at the end of the input.
bool read_chunk(LineReader& reader, const LineFilterOptions& options, std::size_t size, Chunk& chunk) {
  std::string_view line;
  chunk.text.clear();
  chunk.ends.clear();
  chunk.first_line_number = reader.line_number() + 1;
  while (chunk.ends.size() < size && reader.next(line)) {
    chunk.text.append(line);
    chunk.ends.push_back(chunk.text.size());
  }
  if (chunk.ends.empty()) return false;
  chunk.last_newline = newline_after(reader, options, chunk.line(chunk.size() - 1));
  return true;
}

void write_chunk(const Chunk& chunk, AtomicFile& sink) {
  for (const auto& out : chunk.outputs) sink.write(out);
}

void filter_unbuffered(LineReader& reader, AtomicFile& sink, const LineFilterOptions& options,
                       const LineTransform& transform) {
  std::string_view line;
  std::string out;
  while (reader.next(line)) {
    out.clear();
    transform(line, reader.line_number(), out);
    if (newline_after(reader, options, line)) out.push_back('\n');
    sink.write(out);
    sink.flush();
  }
}

// With several threads, the calling thread reads the next chunk and writes
// the previous one while the workers transform the current one.
void filter_pipelined(LineReader& reader, AtomicFile& sink, const LineFilterOptions& options,
                      const LineTransform& transform) {
  const auto threads = static_cast<std::size_t>(options.threads);
  const std::size_t chunk_size = options.chunk_lines * threads;
  WorkerPool pool(threads);
  std::vector<std::exception_ptr> errors(threads);
  Chunk chunks[2];
  int current = 0;
  bool have = read_chunk(reader, options, chunk_size, chunks[0]), previous = false;
  while (have) {
    Chunk& chunk = chunks[current];
    Chunk& other = chunks[1 - current];
    start_chunk(pool, chunk, errors, transform);
    try {
      if (previous) write_chunk(other, sink);
      have = read_chunk(reader, options, chunk_size, other);
    } catch (...) {
      pool.wait();
      throw;
    }
    pool.wait();
    for (auto& error : errors)
      if (error) std::rethrow_exception(error);  // ranges are in order: earliest line first
    previous = true;
    current = 1 - current;
  }
  if (previous) write_chunk(chunks[1 - current], sink);
}

}  // namespace

void filter_lines(LineReader& reader, AtomicFile& sink, const LineFilterOptions& options,
                  const LineTransform& transform) {
  if (options.unbuffered) return filter_unbuffered(reader, sink, options, transform);
  if (options.threads > 1) return filter_pipelined(reader, sink, options, transform);
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
      sink.write(buffer);
      buffer.clear();
    }
  }
  sink.write(buffer);
}

void for_each_range(std::size_t n, std::size_t parts, const std::function<void(std::size_t, std::size_t)>& body) {
  if (parts <= 1) return body(0, n);
  std::vector<std::exception_ptr> errors(parts);
  {
    std::vector<std::jthread> threads;  // joined when leaving the block, also on an error
    for (std::size_t t = 0; t < parts; ++t)
      threads.emplace_back([&, t] {
        try {
          body(split_point(n, t, parts), split_point(n, t + 1, parts));
        } catch (...) {
          errors[t] = std::current_exception();
        }
      });
  }
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
}

int available_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace tfm
