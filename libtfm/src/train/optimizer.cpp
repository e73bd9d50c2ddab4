#include "tfm/train/optimizer.h"

#include <algorithm>
#include <cmath>

#include "tfm/core/error.h"
#include "tfm/tensor/kernels.h"

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
  adam_update(params, grads, m_.data(), v_.data(), size_,
              {config_.beta1, config_.beta2, config_.eps, step_size, inv_sqrt_bc2});
}

double inverse_sqrt_lr(std::int64_t step, std::int64_t d_model, std::int64_t warmup, double scale) {
  double s = static_cast<double>(std::max<std::int64_t>(step, 1));
  double w = static_cast<double>(std::max<std::int64_t>(warmup, 1));
  return scale / std::sqrt(static_cast<double>(d_model)) * std::min(1 / std::sqrt(s), s * std::pow(w, -1.5));
}

const char* lr_schedule_name(LrSchedule schedule) {
  return schedule == LrSchedule::kLinear ? "linear" : "inverse-sqrt";
}

LrSchedule parse_lr_schedule(const std::string& name) {
  if (name == "inverse-sqrt") return LrSchedule::kInverseSqrt;
  if (name == "linear") return LrSchedule::kLinear;
  throw UsageError("--lr-schedule must be inverse-sqrt or linear, not '" + name + "'");
}

double learning_rate(LrSchedule schedule, std::int64_t step, std::int64_t d_model, std::int64_t warmup, double scale,
                     std::int64_t last) {
  if (schedule == LrSchedule::kInverseSqrt) return inverse_sqrt_lr(step, d_model, warmup, scale);
  step = std::max<std::int64_t>(step, 1), warmup = std::max<std::int64_t>(warmup, 1);
  if (last > 0 && step > last) return 0;
  if (step <= warmup) return inverse_sqrt_lr(step, d_model, warmup, scale);
  const double peak = inverse_sqrt_lr(warmup, d_model, warmup, scale);
  if (last == 0) return peak;
  return peak * static_cast<double>(last + 1 - step) / static_cast<double>(last + 1 - warmup);
}

}  // namespace tfm
