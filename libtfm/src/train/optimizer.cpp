#include "tfm/train/optimizer.h"

#include <algorithm>
#include <cmath>

#include "tfm/tensor/threads.h"

namespace tfm {

Adam::Adam(std::int64_t size, const AdamConfig& config)
    : config_(config), size_(size), m_(Tensor::zeros({std::max<std::int64_t>(size, 1)})),
      v_(Tensor::zeros({std::max<std::int64_t>(size, 1)})) {}

void Adam::update(float* params, const float* grads, double lr) {
  ++steps_;
  double bc1 = 1 - std::pow(static_cast<double>(config_.beta1), static_cast<double>(steps_));
  double bc2 = 1 - std::pow(static_cast<double>(config_.beta2), static_cast<double>(steps_));
  // p -= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps), as torch.optim.Adam.
  const float step_size = static_cast<float>(lr / bc1);
  const float inv_sqrt_bc2 = static_cast<float>(1 / std::sqrt(bc2));
  const float b1 = config_.beta1, b2 = config_.beta2, eps = config_.eps;
  float *m = m_.data(), *v = v_.data();
  parallel_range(size_, 1 << 15, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) {
      float g = grads[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      params[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
  });
}

double inverse_sqrt_lr(std::int64_t step, std::int64_t d_model, std::int64_t warmup, double scale) {
  double s = static_cast<double>(std::max<std::int64_t>(step, 1));
  double w = static_cast<double>(std::max<std::int64_t>(warmup, 1));
  return scale / std::sqrt(static_cast<double>(d_model)) * std::min(1 / std::sqrt(s), s * std::pow(w, -1.5));
}

}  // namespace tfm
