// Adam (Kingma & Ba) with PyTorch's bias correction, over one flat parameter
// vector, and the paper's learning-rate schedule.
#pragma once

#include <cstdint>
#include <string>

#include "tfm/tensor/tensor.h"

namespace tfm {

struct AdamConfig {
  float beta1 = 0.9f;
  float beta2 = 0.98f;
  float eps = 1e-9f;
};

class Adam {
 public:
  Adam(std::int64_t size, const AdamConfig& config);
  // One update of params [size] from grads [size] at learning rate lr.
  void update(float* params, const float* grads, double lr);
  std::int64_t steps() const { return steps_; }  // updates made (for bias correction)
  void set_steps(std::int64_t steps) { steps_ = steps; }
  float* m() { return m_.data(); }  // first moments [size]
  float* v() { return v_.data(); }  // second moments [size]
  std::int64_t size() const { return size_; }

 private:
  AdamConfig config_;
  std::int64_t size_, steps_ = 0;
  Tensor m_, v_;
};

// lr = scale · d_model^-0.5 · min(step^-0.5, step · warmup^-1.5), step ≥ 1.
double inverse_sqrt_lr(std::int64_t step, std::int64_t d_model, std::int64_t warmup, double scale);

// How the rate falls after the warm-up: as the paper's inverse square root,
// or in a straight line to zero at the last update of a known budget (with
// the number of updates fixed, a linear decay to zero beats the others:
// Li, Yumer and Ramanan, Budgeted Training, ICLR 2020).
enum class LrSchedule : std::uint8_t { kInverseSqrt, kLinear };
const char* lr_schedule_name(LrSchedule schedule);  // "inverse-sqrt", "linear"
// Throws UsageError for another name.
LrSchedule parse_lr_schedule(const std::string& name);

// The rate of update `step` (≥ 1). Both schedules rise as inverse_sqrt_lr to
// the peak scale · d_model^-0.5 · warmup^-0.5 at `warmup`; kInverseSqrt then
// falls as step^-0.5, kLinear as peak · (last + 1 - step) / (last + 1 - warmup),
// so update `last` still moves the weights and later ones have rate 0.
// kLinear with last = 0 (the budget not known yet) keeps the peak.
double learning_rate(LrSchedule schedule, std::int64_t step, std::int64_t d_model, std::int64_t warmup, double scale,
                     std::int64_t last);

}  // namespace tfm
