// The element-wise kernels of kernels.h for one instruction-set level: this
// file is compiled once per level (see isa/level.h), into namespace
// TFM_ISA_NS.
#include <algorithm>
#include <bit>
#include <cmath>
#include <tuple>
#include <utility>

#include "level.h"
#include "tfm/tensor/simd.h"
#include "tfm/tensor/threads.h"

namespace tfm::TFM_ISA_NS {
namespace {

using simd::vexp;

// Rows per task so that a task touches ~16k floats.
std::int64_t row_grain(std::int64_t cols) { return std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(cols, 1)); }

// Column blocks for reductions over rows: each block sums all rows in order.
constexpr std::int64_t kColBlock = 64;

void parallel_columns(std::int64_t cols, FunctionRef<void(std::int64_t, std::int64_t)> fn) {
  parallel_range(cols, kColBlock, fn);
}

// Reductions in 16 fixed lanes: vectorizable without reassociating floats,
// and the same result on every run.
constexpr int kLanes = 16;

float lanes_sum(const float* x, std::int64_t n) {
  float acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += x[i + l];
  for (; i < n; ++i) acc[0] += x[i];
  float s = 0;
  for (float a : acc) s += a;
  return s;
}

float lanes_dot(const float* x, const float* y, std::int64_t n) {
  float acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += x[i + l] * y[i + l];
  for (; i < n; ++i) acc[0] += x[i] * y[i];
  float s = 0;
  for (float a : acc) s += a;
  return s;
}

float lanes_max(const float* x, std::int64_t n) {
  float acc[kLanes];
  std::fill(acc, acc + kLanes, x[0]);
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] = acc[l] > x[i + l] ? acc[l] : x[i + l];
  for (; i < n; ++i) acc[0] = std::max(acc[0], x[i]);
  return *std::max_element(acc, acc + kLanes);
}

static_assert(kLanes == simd::kWidth);

// Σ exp(x − m), not storing the exponentials.
float lanes_sum_exp(const float* x, std::int64_t n, float m) {
  simd::Floats lanes{};
  const simd::Floats vm = simd::broadcast(m);
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) lanes += vexp(simd::load(x + i) - vm);
  float acc[kLanes];
  simd::store(acc, lanes);
  for (; i < n; ++i) acc[0] += vexp(x[i] - m);
  float s = 0;
  for (float a : acc) s += a;
  return s;
}

// x[j] = exp(x[j] − m) for j in [0, n).
void exp_shifted(float* x, std::int64_t n, float m) {
  const simd::Floats vm = simd::broadcast(m);
  std::int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) simd::store(x + j, vexp(simd::load(x + j) - vm));
  for (; j < n; ++j) x[j] = vexp(x[j] - m);
}

// Softmax of x[0, valid), zeros in x[valid, cols).
void softmax_row(float* x, std::int64_t valid, std::int64_t cols) {
  float m = lanes_max(x, valid);
  exp_shifted(x, valid, m);
  float s = lanes_sum(x, valid);
  float inv = 1.0f / s;
  for (std::int64_t j = 0; j < valid; ++j) x[j] *= inv;
  for (std::int64_t j = valid; j < cols; ++j) x[j] = 0;
}

}  // namespace

void attention_softmax(float* scores, std::int64_t batch, std::int64_t heads, std::int64_t q_len,
                       std::int64_t k_len, const std::int32_t* key_len, bool causal) {
  std::int64_t rows = batch * heads * q_len;
  parallel_range(rows, row_grain(k_len), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      std::int64_t b = r / (heads * q_len), i = r % q_len;
      std::int64_t valid = key_len[b];
      if (causal) valid = std::min(valid, i + 1);
      softmax_row(scores + r * k_len, std::min(valid, k_len), k_len);
    }
  });
}

void softmax_backward(const float* p, float* grad, std::int64_t rows, std::int64_t cols) {
  parallel_range(rows, row_grain(cols), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const float* pr = p + r * cols;
      float* gr = grad + r * cols;
      float dot = lanes_dot(pr, gr, cols);
      for (std::int64_t j = 0; j < cols; ++j) gr[j] = pr[j] * (gr[j] - dot);
    }
  });
}

void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y,
                        float* mean, float* rstd, std::int64_t rows, std::int64_t d, float eps) {
  parallel_range(rows, row_grain(d), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const float* xr = x + r * d;
      float* yr = y + r * d;
      float mu = lanes_sum(xr, d) / static_cast<float>(d);
      for (std::int64_t j = 0; j < d; ++j) yr[j] = xr[j] - mu;
      float rs = 1.0f / std::sqrt(lanes_dot(yr, yr, d) / static_cast<float>(d) + eps);
      for (std::int64_t j = 0; j < d; ++j) yr[j] = (xr[j] - mu) * rs * gamma[j] + beta[j];
      mean[r] = mu;
      rstd[r] = rs;
    }
  });
}

void layer_norm_backward(const float* x, const float* gamma, const float* mean, const float* rstd,
                         const float* dy, float* dx, float* dgamma, float* dbeta, std::int64_t rows,
                         std::int64_t d) {
  parallel_range(rows, row_grain(d), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const float *xr = x + r * d, *dyr = dy + r * d;
      float mu = mean[r], rs = rstd[r];
      // dxr first holds dy ⊙ gamma, then the result.
      float* dxr = dx + r * d;
      for (std::int64_t j = 0; j < d; ++j) dxr[j] = dyr[j] * gamma[j];
      float sum_g = lanes_sum(dxr, d), sum_gx = 0;
      {
        float acc[kLanes] = {};
        std::int64_t j = 0;
        for (; j + kLanes <= d; j += kLanes)
          for (int l = 0; l < kLanes; ++l) acc[l] += dxr[j + l] * (xr[j + l] - mu);
        for (; j < d; ++j) acc[0] += dxr[j] * (xr[j] - mu);
        for (float a : acc) sum_gx += a;
        sum_gx *= rs;
      }
      float mg = sum_g / static_cast<float>(d), mgx = sum_gx / static_cast<float>(d);
      for (std::int64_t j = 0; j < d; ++j)
        dxr[j] = rs * (dxr[j] - mg - (xr[j] - mu) * rs * mgx);
    }
  });
  parallel_columns(d, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = 0; r < rows; ++r) {
      const float *xr = x + r * d, *dyr = dy + r * d;
      float mu = mean[r], rs = rstd[r];
      for (std::int64_t j = lo; j < hi; ++j) {
        dgamma[j] += dyr[j] * (xr[j] - mu) * rs;
        dbeta[j] += dyr[j];
      }
    }
  });
}

void dropout_apply(float* x, const std::uint8_t* mask, std::int64_t n, float p) {
  float scale = 1.0f / (1.0f - p);
  parallel_range(n, 16384, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) x[i] = mask[i] ? x[i] * scale : 0.0f;
  });
}

void residual_dropout(const float* x, const float* f, const std::uint8_t* mask, float p, float* out,
                      std::int64_t n) {
  float scale = 1.0f / (1.0f - p);
  parallel_range(n, 16384, [&](std::int64_t lo, std::int64_t hi) {
    if (mask) {
      for (std::int64_t i = lo; i < hi; ++i) out[i] = x[i] + (mask[i] ? f[i] * scale : 0.0f);
    } else {
      for (std::int64_t i = lo; i < hi; ++i) out[i] = x[i] + f[i];
    }
  });
}

void add_bias(float* y, const float* bias, std::int64_t rows, std::int64_t cols, bool relu) {
  parallel_range(rows, row_grain(cols), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      float* yr = y + r * cols;
      if (relu) {
        for (std::int64_t j = 0; j < cols; ++j) yr[j] = std::max(yr[j] + bias[j], 0.0f);
      } else {
        for (std::int64_t j = 0; j < cols; ++j) yr[j] += bias[j];
      }
    }
  });
}

void relu_backward(const float* y, float* grad, std::int64_t n) {
  parallel_range(n, 16384, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) grad[i] = y[i] > 0 ? grad[i] : 0.0f;
  });
}

void bias_backward(const float* dy, std::int64_t rows, std::int64_t cols, float* dbias) {
  parallel_columns(cols, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t j = lo; j < hi; ++j) dbias[j] += dy[r * cols + j];
  });
}

void add_into(float* y, const float* x, std::int64_t n) {
  parallel_range(n, 16384, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) y[i] += x[i];
  });
}

void embedding_forward(const std::int32_t* ids, std::int64_t rows, const float* table,
                       std::int64_t d, float scale, const float* row_scales, const float* positions,
                       std::int64_t seq_len, float* out) {
  parallel_range(rows, row_grain(d), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const float* e = table + static_cast<std::int64_t>(ids[r]) * d;
      const float s = row_scales ? scale * row_scales[r] : scale;
      float* o = out + r * d;
      if (positions) {
        const float* pe = positions + (r % seq_len) * d;
        for (std::int64_t j = 0; j < d; ++j) o[j] = e[j] * s + pe[j];
      } else {
        for (std::int64_t j = 0; j < d; ++j) o[j] = e[j] * s;
      }
    }
  });
}

void embedding_backward(const std::int32_t* ids, std::int64_t rows, const float* dout,
                        std::int64_t d, float scale, const float* row_scales, float* dtable) {
  parallel_columns(d, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = 0; r < rows; ++r) {
      if (row_scales && row_scales[r] == 0) continue;  // a dropped word
      const float s = row_scales ? scale * row_scales[r] : scale;
      float* t = dtable + static_cast<std::int64_t>(ids[r]) * d;
      const float* g = dout + r * d;
      for (std::int64_t j = lo; j < hi; ++j) t[j] += g[j] * s;
    }
  });
}

namespace {

// A row's loss, nll and argmax check, and what its gradient needs.
struct XentRow {
  float m, inv_s;    // max logit, 1 / Σ exp(z − m)
  double lse;        // log Σ exp(z)
  float c_p, c_0;    // ∂/∂z_j = c_p·p_j + c_0, less a·grad_scale at the target
  float target_off;  // a·grad_scale
};

// The row's loss and nll, and its gradient's constants, from its max logit
// m, s = Σ exp(z − m), Σ z and the target's logit.
XentRow xent_from_sums(float m, float s, float sum_z, float z_target, std::int64_t vocab, float epsilon,
                       float grad_scale, double& loss, double& nll) {
  double lse = m + std::log(static_cast<double>(s));
  double eps_i = epsilon / static_cast<double>(vocab - 1);
  double a = 1.0 - epsilon - eps_i;
  nll = lse - z_target;
  double smooth = static_cast<double>(vocab) * lse - sum_z;
  loss = a * nll + eps_i * smooth;
  // ∂/∂z_j = a (p_j − [j = t]) + eps_i (V p_j − 1)
  return {m,
          1.0f / s,
          lse,
          static_cast<float>((a + eps_i * static_cast<double>(vocab)) * grad_scale),
          static_cast<float>(-eps_i * grad_scale),
          static_cast<float>(a * grad_scale)};
}

bool target_is_first_max(const float* z, std::int32_t target, float m) {
  return z[target] == m && std::find(z, z + target, m) == z + target;
}

XentRow xent_stats(const float* z, std::int64_t vocab, std::int32_t target, float epsilon, float grad_scale,
                   double& loss, double& nll, std::int32_t& correct) {
  float m = lanes_max(z, vocab);
  correct = target_is_first_max(z, target, m);
  float s = lanes_sum_exp(z, vocab, m), sum_z = lanes_sum(z, vocab);
  return xent_from_sums(m, s, sum_z, z[target], vocab, epsilon, grad_scale, loss, nll);
}

// One row of label_smoothed_xent. With a gradient the exponentials stay in
// z between the sum and the gradient: one exp a logit, not two (the same
// values and order as lanes_sum_exp's).
void xent_row(float* z, std::int64_t vocab, std::int32_t target, float epsilon, float grad_scale,
              double& loss, double& nll, std::int32_t& correct) {
  if (grad_scale == 0) {
    xent_stats(z, vocab, target, epsilon, grad_scale, loss, nll, correct);
    return;
  }
  const float m = lanes_max(z, vocab);
  correct = target_is_first_max(z, target, m);
  const float sum_z = lanes_sum(z, vocab), z_target = z[target];
  const simd::Floats vm = simd::broadcast(m);
  simd::Floats lanes{};
  std::int64_t j = 0;
  for (; j + kLanes <= vocab; j += kLanes) {
    const simd::Floats e = vexp(simd::load(z + j) - vm);
    simd::store(z + j, e);
    lanes += e;
  }
  float acc[kLanes];
  simd::store(acc, lanes);
  for (; j < vocab; ++j) acc[0] += z[j] = vexp(z[j] - m);
  float s = 0;
  for (float a : acc) s += a;
  const XentRow x = xent_from_sums(m, s, sum_z, z_target, vocab, epsilon, grad_scale, loss, nll);
  const simd::Floats inv_s = simd::broadcast(x.inv_s), c_p = simd::broadcast(x.c_p), c_0 = simd::broadcast(x.c_0);
  for (j = 0; j + kLanes <= vocab; j += kLanes) simd::store(z + j, c_p * (simd::load(z + j) * inv_s) + c_0);
  for (; j < vocab; ++j) z[j] = x.c_p * (z[j] * x.inv_s) + x.c_0;
  z[target] -= x.target_off;
}

// One row pair of rdrop_xent. With d_j = log p_j − log q_j, K = KL(p‖q) and
// K' = KL(q‖p): ∂K/∂z_j = p_j (d_j − K) and ∂K'/∂z_j = p_j − q_j, so the
// term ½α(K + K') adds ½α(p_j (d_j − K + 1) − q_j) to p's logits, and the
// same with p and q swapped (d negated) to q's.
void rdrop_row_pair(float* z1, float* z2, std::int64_t vocab, std::int32_t target, float epsilon, float alpha,
                    float grad_scale, double& loss1, double& nll1, std::int32_t& correct1, double& loss2,
                    double& nll2, std::int32_t& correct2) {
  XentRow x1 = xent_stats(z1, vocab, target, epsilon, grad_scale, loss1, nll1, correct1);
  XentRow x2 = xent_stats(z2, vocab, target, epsilon, grad_scale, loss2, nll2, correct2);
  const float shift = static_cast<float>(x1.lse - x2.lse);  // d_j = z1_j − z2_j − shift
  using simd::broadcast, simd::load, simd::Floats;
  const Floats m1 = broadcast(x1.m), m2 = broadcast(x2.m), inv1 = broadcast(x1.inv_s), inv2 = broadcast(x2.inv_s),
               vshift = broadcast(shift);
  Floats lanes12{}, lanes21{};
  std::int64_t j = 0;
  for (; j + kLanes <= vocab; j += kLanes) {
    const Floats a = load(z1 + j), b = load(z2 + j);
    const Floats p = vexp(a - m1) * inv1, q = vexp(b - m2) * inv2, d = (a - b) - vshift;
    lanes12 += p * d;
    lanes21 -= q * d;
  }
  float kl12[kLanes], kl21[kLanes];
  simd::store(kl12, lanes12);
  simd::store(kl21, lanes21);
  for (; j < vocab; ++j) {
    float p = vexp(z1[j] - x1.m) * x1.inv_s, q = vexp(z2[j] - x2.m) * x2.inv_s;
    float d = (z1[j] - z2[j]) - shift;
    kl12[0] += p * d;
    kl21[0] -= q * d;
  }
  float k12 = 0, k21 = 0;
  for (int l = 0; l < kLanes; ++l) k12 += kl12[l], k21 += kl21[l];
  loss1 += 0.5 * alpha * (static_cast<double>(k12) + k21);
  if (grad_scale == 0) return;
  const float h = 0.5f * alpha * grad_scale, one_k12 = 1.0f - k12, one_k21 = 1.0f - k21;
  // For 16 lanes (the constants broadcast) and for one float.
  auto gradients = [&](auto a, auto b, auto m1_, auto m2_, auto inv1_, auto inv2_, auto shift_) {
    const auto p = vexp(a - m1_) * inv1_, q = vexp(b - m2_) * inv2_;
    const auto d = (a - b) - shift_;
    return std::pair{x1.c_p * p + x1.c_0 + h * (p * (d + one_k12) - q),
                     x2.c_p * q + x2.c_0 + h * (q * (one_k21 - d) - p)};
  };
  for (j = 0; j + kLanes <= vocab; j += kLanes) {
    auto [g1, g2] = gradients(load(z1 + j), load(z2 + j), m1, m2, inv1, inv2, vshift);
    simd::store(z1 + j, g1);
    simd::store(z2 + j, g2);
  }
  for (; j < vocab; ++j) std::tie(z1[j], z2[j]) = gradients(z1[j], z2[j], x1.m, x2.m, x1.inv_s, x2.inv_s, shift);
  z1[target] -= x1.target_off;
  z2[target] -= x2.target_off;
}

}  // namespace

void label_smoothed_xent(float* logits, std::int64_t rows, std::int64_t vocab,
                         const std::int32_t* targets, std::int32_t pad, float epsilon,
                         float grad_scale, double* row_loss, double* row_nll,
                         std::int32_t* row_correct) {
  parallel_range(rows, 1, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      float* z = logits + r * vocab;
      if (targets[r] == pad) {
        row_loss[r] = row_nll[r] = 0;
        row_correct[r] = 0;
        if (grad_scale != 0) std::fill(z, z + vocab, 0.0f);
        continue;
      }
      xent_row(z, vocab, targets[r], epsilon, grad_scale, row_loss[r], row_nll[r], row_correct[r]);
    }
  });
}

void rdrop_xent(float* logits1, float* logits2, std::int64_t rows, std::int64_t vocab,
                const std::int32_t* targets, std::int32_t pad, float epsilon, float alpha, float grad_scale,
                XentRows out1, XentRows out2) {
  parallel_range(rows, 1, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      float *z1 = logits1 + r * vocab, *z2 = logits2 + r * vocab;
      if (targets[r] == pad) {
        out1.loss[r] = out1.nll[r] = out2.loss[r] = out2.nll[r] = 0;
        out1.correct[r] = out2.correct[r] = 0;
        if (grad_scale != 0) std::fill(z1, z1 + vocab, 0.0f), std::fill(z2, z2 + vocab, 0.0f);
        continue;
      }
      rdrop_row_pair(z1, z2, vocab, targets[r], epsilon, alpha, grad_scale, out1.loss[r], out1.nll[r],
                     out1.correct[r], out2.loss[r], out2.nll[r], out2.correct[r]);
    }
  });
}

double sum_squares(const float* x, std::int64_t n, double* partials) {
  std::int64_t blocks = sum_squares_blocks(n);
  parallel_tasks(blocks, [&](std::int64_t b) {
    double s = 0;
    for (std::int64_t i = b * kSumSquaresBlock; i < std::min(n, (b + 1) * kSumSquaresBlock); ++i)
      s += static_cast<double>(x[i]) * x[i];
    partials[b] = s;
  });
  double total = 0;
  for (std::int64_t b = 0; b < blocks; ++b) total += partials[b];
  return total;
}

void scale_values(float* x, std::int64_t n, float s) {
  parallel_range(n, 16384, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) x[i] *= s;
  });
}

float quantize_int8(const float* x, std::int64_t n, std::int8_t* out, int limit) {
  constexpr std::int64_t w = simd::kWidth;
  simd::Floats top_lanes{};
  std::int64_t i = 0;
  for (; i + w <= n; i += w) top_lanes = simd::max(top_lanes, simd::abs(simd::load(x + i)));
  float top = simd::max_lane(top_lanes);
  for (; i < n; ++i) top = std::max(top, std::abs(x[i]));
  if (top == 0) {
    std::fill(out, out + n, std::int8_t{0});
    return 0;
  }
  const float inv = static_cast<float>(limit) / top;
  // Adding and taking away 1.5·2^23 rounds to nearest even (|x · inv| ≤ limit).
  const simd::Floats vinv = simd::broadcast(inv), magic = simd::broadcast(12582912.0f);
  for (i = 0; i + w <= n; i += w) simd::store_int8(out + i, (simd::load(x + i) * vinv + magic) - magic);
  for (; i < n; ++i) out[i] = static_cast<std::int8_t>((x[i] * inv + 12582912.0f) - 12582912.0f);
  return top / static_cast<float>(limit);
}

const detail::ElementwiseKernels kElementwise = {
    attention_softmax, softmax_backward, layer_norm_forward, layer_norm_backward, dropout_apply,
    residual_dropout,  add_bias,         relu_backward,      bias_backward,       add_into,
    embedding_forward, embedding_backward, label_smoothed_xent, rdrop_xent,       sum_squares,
    scale_values,      quantize_int8,
};

}  // namespace tfm::TFM_ISA_NS
