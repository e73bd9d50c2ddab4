#include "tfm/train/collective.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"

#ifdef TFM_HAVE_MPI
#include <mpi.h>
#endif

namespace tfm {

namespace {

class SingleProcess : public Collective {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(double*, std::size_t) override {}
  void start_sum(float*, std::size_t) override {}
  void advance() override {}
  void finish_sums() override {}
  void broadcast(void*, std::size_t) override {}

 protected:
  void end_job(const std::string& message, int) override { std::cerr << tool_name() << ": " << message << std::endl; }
};

#ifdef TFM_HAVE_MPI

// MPI counts are ints: longer buffers go in pieces of this many elements.
constexpr std::size_t kMaxCount = std::size_t{1} << 28;

class MpiJob : public Collective {
 public:
  explicit MpiJob(double timeout_seconds) : timeout_(timeout_seconds) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      // Only the main thread calls MPI; the engine's threads never do.
      int provided = 0;
      if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        throw Error("MPI_Init_thread failed");
      owns_mpi_ = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiJob() override {
    if (owns_mpi_) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void sum(double* values, std::size_t n) override {
    std::vector<MPI_Request> requests;
    for (std::size_t i = 0; i < n; i += kMaxCount)
      requests.push_back(start([&](MPI_Request* r) {
        return MPI_Iallreduce(MPI_IN_PLACE, values + i, count(n - i), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, r);
      }));
    wait(requests, "summing statistics");
  }
  void start_sum(float* values, std::size_t n) override {
    for (std::size_t i = 0; i < n; i += kMaxCount)
      pending_.push_back(start([&](MPI_Request* r) {
        return MPI_Iallreduce(MPI_IN_PLACE, values + i, count(n - i), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, r);
      }));
  }
  void advance() override {
    if (pending_.empty()) return;
    int done = 0;
    check(MPI_Testall(static_cast<int>(pending_.size()), pending_.data(), &done, MPI_STATUSES_IGNORE),
          "summing gradients");
    if (done) pending_.clear();
  }
  void finish_sums() override {
    wait(pending_, "summing gradients");
    pending_.clear();
  }
  void broadcast(void* data, std::size_t bytes) override {
    std::vector<MPI_Request> requests;
    auto* p = static_cast<char*>(data);
    for (std::size_t i = 0; i < bytes; i += kMaxCount)
      requests.push_back(start([&](MPI_Request* r) {
        return MPI_Ibcast(p + i, count(bytes - i), MPI_BYTE, 0, MPI_COMM_WORLD, r);
      }));
    wait(requests, "receiving rank 0's model");
  }

 protected:
  void end_job(const std::string& message, int exit_code) override {
    std::cerr << tool_name() << ": rank " << rank_ << ": " << message << std::endl;
    MPI_Abort(MPI_COMM_WORLD, exit_code);
  }

 private:
  static int count(std::size_t left) { return static_cast<int>(std::min(left, kMaxCount)); }
  void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    abort(fmt::format("MPI error while {}: {}", what, std::string(text, static_cast<std::size_t>(length))), 1);
  }
  // Calls a non-blocking MPI operation and returns its request.
  template <class Call>
  MPI_Request start(Call call) {
    MPI_Request request = MPI_REQUEST_NULL;
    check(call(&request), "starting a collective operation");
    return request;
  }
  // Polls until every request completes. Open MPI moves a non-blocking
  // collective on only inside MPI calls, so the loop keeps calling (a sleep
  // between polls made a 20 MB sum take most of a second); it yields the core
  // to other processes between polls and looks at the clock now and then.
  void wait(std::vector<MPI_Request>& requests, const char* what) {
    if (requests.empty()) return;
    auto begin = std::chrono::steady_clock::now();
    for (long polls = 1;; ++polls) {
      int done = 0;
      check(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE), what);
      if (done) return;
      std::this_thread::yield();
      if (polls % 256 == 0) {
        double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
        if (waited > timeout_)
          abort(fmt::format("no answer from the other ranks for {:.0f} s while {} (a rank died or hangs; "
                            "see --mpi-timeout)",
                            waited, what),
                1);
      }
    }
  }

  double timeout_;
  bool owns_mpi_ = false;
  int rank_ = 0, size_ = 1;
  std::vector<MPI_Request> pending_;
};

#endif

}  // namespace

void Collective::abort(const std::string& message, int exit_code) {
  end_job(message, exit_code);
  std::_Exit(exit_code);
}

bool launched_by_mpi() {
  // Open MPI, MPICH/Hydra and PMIx-based launchers each set one of these.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(name)) return true;
  return false;
}

bool built_with_mpi() {
#ifdef TFM_HAVE_MPI
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Collective> single_process() { return std::make_unique<SingleProcess>(); }

std::unique_ptr<Collective> join_job(double timeout_seconds) {
  if (!launched_by_mpi()) return single_process();
#ifdef TFM_HAVE_MPI
  if (!(timeout_seconds > 0)) throw UsageError("--mpi-timeout must be positive");
  return std::make_unique<MpiJob>(timeout_seconds);
#else
  throw UsageError("started by mpirun, but this tfm was built without MPI (install libopenmpi-dev and rebuild)");
#endif
}

std::uint64_t fingerprint_bytes(const void* data, std::size_t bytes, std::uint64_t hash) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::size_t i = 0;
  // Eight bytes at a time: FNV-1a's mixing per 64-bit word.
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, 8);
    hash = (hash ^ word) * 1099511628211ull;
  }
  for (; i < bytes; ++i) hash = (hash ^ p[i]) * 1099511628211ull;
  return hash;
}

}  // namespace tfm
