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

// A fixed pool. Tasks are claimed one at a time from a shared counter, so a
// worker that the OS has not scheduled yet delays nothing: the caller runs
// whatever is left (which thread runs a task never changes its result).
// Workers sleep on a condition variable between jobs.
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
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, g = generation_] { loop(g); });
  }

  int threads() const { return threads_; }

  void run(std::int64_t n, FunctionRef<void(std::int64_t)> fn) {
    if (threads_ == 1 || n <= 1) {
      for (std::int64_t i = 0; i < n; ++i) fn(i);
      return;
    }
    Job job(fn, n);
    {
      std::lock_guard lock(mutex_);
      job_ = &job;
      ++generation_;
    }
    wake_.notify_all();
    work(job);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return job.done.load() == n && active_ == 0; });
    job_ = nullptr;
    if (job.error) std::rethrow_exception(job.error);
  }

 private:
  struct Job {
    Job(FunctionRef<void(std::int64_t)> f, std::int64_t count) : fn(f), n(count) {}
    FunctionRef<void(std::int64_t)> fn;
    std::int64_t n;
    std::atomic<std::int64_t> next{0}, done{0};
    std::exception_ptr error;
  };

  void work(Job& job) {
    for (std::int64_t i; (i = job.next.fetch_add(1)) < job.n;) {
      try {
        job.fn(i);
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!job.error) job.error = std::current_exception();
      }
      if (job.done.fetch_add(1) + 1 == job.n) {
        std::lock_guard lock(mutex_);  // so the caller cannot miss the wake-up
        done_.notify_all();
      }
    }
  }

  void loop(std::uint64_t seen) {
    for (;;) {
      Job* job = nullptr;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
        if (!job_) continue;  // that job is over already
        job = job_;
        ++active_;
      }
      work(*job);
      std::lock_guard lock(mutex_);
      --active_;
      done_.notify_all();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  Job* job_ = nullptr;
  int threads_ = 1, active_ = 0;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
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
