// The engine's worker threads. Work is cut into tasks fixed by the shape of
// the data alone (task i of n always does the same slice), so results are
// identical for any --threads; threads claim tasks as they come free.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace tfm {

// A non-owning reference to a callable (never allocates, unlike
// std::function): the training step passes lambdas through it with no heap
// allocation. The callable must outlive the reference.
template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT: implicit, like std::function
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

// Sets the number of engine threads (1 = run on the caller only). OpenBLAS is
// kept single-threaded: gemm.cpp splits products itself (see gemm.h).
void set_engine_threads(int threads);
int engine_threads();

// Runs fn(task) for task in [0, n_tasks) on the engine threads; returns when
// all are done. Not reentrant: fn must not call parallel_tasks. The first
// exception thrown is rethrown.
void parallel_tasks(std::int64_t n_tasks, FunctionRef<void(std::int64_t)> fn);

// Runs fn(begin, end) over [0, n) in blocks of `grain` items (the last may be
// shorter); blocks are fixed by n and grain only.
void parallel_range(std::int64_t n, std::int64_t grain,
                    FunctionRef<void(std::int64_t, std::int64_t)> fn);

}  // namespace tfm
