// The processes of a data-parallel training job and what they do together:
// sums across ranks (all-reduce), a broadcast from rank 0, a job-wide abort.
//
// A plain process is a job of one rank whose operations change nothing.
// Started by mpirun or mpiexec (and tfm built with MPI), the ranks are
// MPI_COMM_WORLD. Every wait for the other ranks gives up after a timeout
// and aborts the whole job with a message, so a rank that died or hangs never
// leaves the others waiting forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tfm {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // In place on every rank: values[i] becomes the sum of values[i] over the ranks.
  virtual void sum(double* values, std::size_t n) = 0;
  // Starts the same for floats without waiting; finish_sums() completes every
  // started sum and advance() lets them progress meanwhile. The buffers must
  // stay untouched until finish_sums(), and every rank starts the same sums
  // in the same order.
  virtual void start_sum(float* values, std::size_t n) = 0;
  virtual void advance() = 0;
  virtual void finish_sums() = 0;
  // Rank 0's `bytes` bytes at `data` to every rank.
  virtual void broadcast(void* data, std::size_t bytes) = 0;
  // Ends every rank at once after printing "<tool>: rank R: message" here:
  // the one place the library exits (see core/error.h for why).
  [[noreturn]] void abort(const std::string& message, int exit_code);

 protected:
  // Prints and stops the other ranks; abort() then exits this process.
  virtual void end_job(const std::string& message, int exit_code) = 0;
};

// True when this process was started as one rank of an MPI job.
bool launched_by_mpi();
// True when tfm was built with MPI.
bool built_with_mpi();

// The job this process belongs to: MPI_COMM_WORLD when launched_by_mpi()
// (UsageError when tfm was built without MPI), otherwise one rank alone.
// `timeout_seconds` bounds every wait for the other ranks.
std::unique_ptr<Collective> join_job(double timeout_seconds);
// A job of one rank.
std::unique_ptr<Collective> single_process();

// A 64-bit fingerprint of `bytes` bytes, continuing from `hash`: cheap
// evidence that the ranks hold the same parameters and vocabulary. FNV-1a's
// offset basis and prime, but applied to whole 64-bit words (the last bytes
// one at a time), so it is not FNV-1a's value; it only ever meets itself.
inline constexpr std::uint64_t kFingerprintStart = 14695981039346656037ull;
std::uint64_t fingerprint_bytes(const void* data, std::size_t bytes, std::uint64_t hash = kFingerprintStart);

}  // namespace tfm
