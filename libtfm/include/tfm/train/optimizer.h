// Adam (Kingma & Ba) with PyTorch's bias correction, over one flat parameter
// vector, and the paper's learning-rate schedule.
#pragma once

#include <cstdint>

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

}  // namespace tfm
