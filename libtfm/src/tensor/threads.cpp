#include "tfm/tensor/threads.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <cblas.h>

namespace tfm {
namespace {

// A fixed pool: workers sleep on a condition variable between jobs; the
// caller takes slice 0 itself.
class Pool {
 public:
  ~Pool() { resize(1); }

  void resize(int threads) {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      ++generation_;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_ = false;
    threads_ = std::max(1, threads);
    for (int i = 1; i < threads_; ++i)
      workers_.emplace_back([this, i, g = generation_] { loop(i, g); });
  }

  int threads() const { return threads_; }

  void run(std::int64_t n, FunctionRef<void(std::int64_t)> fn) {
    if (threads_ == 1 || n <= 1) {
      for (std::int64_t i = 0; i < n; ++i) fn(i);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      job_ = &fn;
      n_ = n;
      pending_ = threads_ - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    work(0);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work(int slice) {
    std::int64_t begin = n_ * slice / threads_, end = n_ * (slice + 1) / threads_;
    try {
      for (std::int64_t i = begin; i < end; ++i) (*job_)(i);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }

  void loop(int slice, std::uint64_t seen) {
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
      }
      work(slice);
      std::lock_guard lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const FunctionRef<void(std::int64_t)>* job_ = nullptr;
  std::int64_t n_ = 0;
  int threads_ = 1, pending_ = 0;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool p;
  static bool once = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)once;
  return p;
}

}  // namespace

void set_engine_threads(int threads) { pool().resize(threads); }
int engine_threads() { return pool().threads(); }

void parallel_tasks(std::int64_t n_tasks, FunctionRef<void(std::int64_t)> fn) {
  pool().run(n_tasks, fn);
}

void parallel_range(std::int64_t n, std::int64_t grain,
                    FunctionRef<void(std::int64_t, std::int64_t)> fn) {
  grain = std::max<std::int64_t>(grain, 1);
  std::int64_t blocks = (n + grain - 1) / grain;
  parallel_tasks(blocks, [&](std::int64_t b) { fn(b * grain, std::min(n, (b + 1) * grain)); });
}

}  // namespace tfm
