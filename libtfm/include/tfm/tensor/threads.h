// The engine's worker threads. Work is split statically: task i of n always
// does the same slice, and kernels choose slices that do not depend on the
// thread count, so results are identical for any --threads.
#pragma once

#include <cstdint>
#include <functional>

namespace tfm {

// Sets the number of engine threads (1 = run on the caller only). OpenBLAS is
// kept single-threaded: gemm.cpp splits products itself (see gemm.h).
void set_engine_threads(int threads);
int engine_threads();

// Runs fn(task) for task in [0, n_tasks), tasks shared out in contiguous
// blocks over the engine threads; returns when all are done. Not reentrant:
// fn must not call parallel_tasks. The first exception thrown is rethrown.
void parallel_tasks(std::int64_t n_tasks, const std::function<void(std::int64_t)>& fn);

// Runs fn(begin, end) over [0, n) in blocks of `grain` items (the last may be
// shorter); blocks are fixed by n and grain only.
void parallel_range(std::int64_t n, std::int64_t grain,
                    const std::function<void(std::int64_t, std::int64_t)>& fn);

}  // namespace tfm
