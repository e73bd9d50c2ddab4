// Helpers shared by the tensor module's unit tests (tensor_test.cpp: tensors
// and matrix products; kernels_test.cpp: element-wise kernels and random
// numbers).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tfm/tensor/random.h"
#include "tfm/tensor/threads.h"

namespace tfm::test {

// n uniform floats in [lo, hi), fixed by `stream`.
inline std::vector<float> random_vector(std::size_t n, std::uint32_t stream, float lo = -1, float hi = 1) {
  std::vector<float> v(n);
  fill_uniform({1234, 0, stream}, static_cast<std::int64_t>(n), lo, hi, v.data());
  return v;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// Runs fn with `threads` engine threads; restores 1.
template <class F>
void with_threads(int threads, F fn) {
  set_engine_threads(threads);
  fn();
  set_engine_threads(1);
}

}  // namespace tfm::test
