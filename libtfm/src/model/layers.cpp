#include "tfm/model/layers.h"

#include <cmath>
#include <cstring>

#include "tfm/tensor/gemm.h"
#include "tfm/tensor/kernels.h"

namespace tfm {

std::uint8_t* PassContext::dropout_mask(std::uint32_t site, std::int64_t n, float p) {
  if (!training || p <= 0) return nullptr;
  std::uint8_t* mask = arena.bytes(static_cast<std::size_t>(n));
  RngKey key = rng;
  key.stream = site << 8 | (micro & 0xff);
  tfm::dropout_mask(key, n, p, mask);
  return mask;
}

namespace {

float* copy_of(Arena& arena, const float* x, std::int64_t n) {
  float* y = arena.floats(static_cast<std::size_t>(n));
  std::memcpy(y, x, static_cast<std::size_t>(n) * sizeof(float));
  return y;
}

// y [rows, out] = x [rows, in] · Wᵀ + b
float* linear(PassContext& ctx, const float* x, std::int64_t rows, std::int64_t in,
              std::int64_t out, const float* w, const float* b, bool relu = false) {
  float* y = ctx.arena.floats(static_cast<std::size_t>(rows * out));
  linear_forward(x, rows, in, out, w, b, relu, y);
  return y;
}

// Weight and bias gradients of linear(); returns dx when wanted (dx_beta 1 adds to dx).
void linear_backward(PassContext& ctx, const float* x, const float* dy, std::int64_t rows,
                     std::int64_t in, std::int64_t out, int w, int b, float* dx, float dx_beta) {
  gemm(Op::kT, Op::kN, out, in, rows, 1.0f, dy, out, x, in, 1.0f, ctx.params.grad(w), in);
  bias_backward(dy, rows, out, ctx.params.grad(b));
  if (dx) gemm(Op::kN, Op::kN, rows, in, out, 1.0f, dy, out, ctx.params.value(w), in, dx_beta, dx, in);
}

}  // namespace

LayerNorm::LayerNorm(ParamStore& store, const std::string& prefix, std::int64_t d)
    : gamma_(store.add(prefix + "/weight", {d}, Init::kOnes)),
      beta_(store.add(prefix + "/bias", {d}, Init::kZeros)),
      d_(d) {}

float* LayerNorm::forward(PassContext& ctx, const float* x, std::int64_t rows) {
  rows_ = rows;
  x_ = x;
  mean_ = ctx.arena.floats(static_cast<std::size_t>(rows));
  rstd_ = ctx.arena.floats(static_cast<std::size_t>(rows));
  float* y = ctx.arena.floats(static_cast<std::size_t>(rows * d_));
  layer_norm_forward(x, ctx.params.value(gamma_), ctx.params.value(beta_), y, mean_, rstd_, rows,
                     d_, 1e-5f);
  return y;
}

float* LayerNorm::backward(PassContext& ctx, const float* dy) {
  float* dx = ctx.arena.floats(static_cast<std::size_t>(rows_ * d_));
  layer_norm_backward(x_, ctx.params.value(gamma_), mean_, rstd_, dy, dx, ctx.params.grad(gamma_),
                      ctx.params.grad(beta_), rows_, d_);
  return dx;
}

Attention::Attention(ParamStore& store, const std::string& prefix, std::int64_t d,
                     std::int64_t heads, float dropout, SiteCounter& sites)
    : d_(d), heads_(heads), dropout_(dropout), site_(sites.take()) {
  // q, k, v adjacent (weights, then biases) so they multiply as one [3d, d] matrix.
  wq_ = store.add(prefix + "/q/weight", {d, d}, Init::kXavier);
  wk_ = store.add(prefix + "/k/weight", {d, d}, Init::kXavier, 0, true);
  wv_ = store.add(prefix + "/v/weight", {d, d}, Init::kXavier, 0, true);
  bq_ = store.add(prefix + "/q/bias", {d}, Init::kZeros);
  bk_ = store.add(prefix + "/k/bias", {d}, Init::kZeros, 0, true);
  bv_ = store.add(prefix + "/v/bias", {d}, Init::kZeros, 0, true);
  wo_ = store.add(prefix + "/out/weight", {d, d}, Init::kXavier);
  bo_ = store.add(prefix + "/out/bias", {d}, Init::kZeros);
}

float* Attention::forward_self(PassContext& ctx, const float* x, std::int64_t batch,
                               std::int64_t len, const std::int32_t* key_len, bool causal) {
  self_ = true;
  batch_ = batch, len_ = mem_len_ = len, x_ = x;
  q_ = linear(ctx, x, batch * len, d_, 3 * d_, ctx.params.value(wq_), ctx.params.value(bq_));
  kv_ = q_ + d_;
  return attend(ctx, key_len, causal);
}

float* Attention::forward_cross(PassContext& ctx, const float* x, const float* memory,
                                std::int64_t batch, std::int64_t len, std::int64_t mem_len,
                                const std::int32_t* mem_key_len) {
  self_ = false;
  batch_ = batch, len_ = len, mem_len_ = mem_len, x_ = x, memory_ = memory;
  q_ = linear(ctx, x, batch * len, d_, d_, ctx.params.value(wq_), ctx.params.value(bq_));
  kv_ = linear(ctx, memory, batch * mem_len, d_, 2 * d_, ctx.params.value(wk_),
               ctx.params.value(bk_));
  return attend(ctx, mem_key_len, false);
}

// Scores, masked softmax, dropout, weighted values and the output projection.
float* Attention::attend(PassContext& ctx, const std::int32_t* key_len, bool causal) {
  std::int64_t dh = d_ / heads_, t = len_, s = mem_len_;
  std::int64_t ldq = self_ ? 3 * d_ : d_, ldkv = self_ ? 3 * d_ : 2 * d_;
  std::int64_t n_probs = batch_ * heads_ * t * s;
  probs_ = ctx.arena.floats(static_cast<std::size_t>(n_probs));
  gemm_batched(Op::kN, Op::kT, t, s, dh, 1.0f / std::sqrt(static_cast<float>(dh)), q_, ldq,
               {t * ldq, dh}, kv_, ldkv, {s * ldkv, dh}, 0.0f, probs_, s,
               {heads_ * t * s, t * s}, batch_, heads_);
  attention_softmax(probs_, batch_, heads_, t, s, key_len, causal);
  mask_ = ctx.dropout_mask(site_, n_probs, dropout_);
  dropped_ = probs_;
  if (mask_) {
    dropped_ = copy_of(ctx.arena, probs_, n_probs);
    dropout_apply(dropped_, mask_, n_probs, dropout_);
  }
  context_ = ctx.arena.floats(static_cast<std::size_t>(batch_ * t * d_));
  gemm_batched(Op::kN, Op::kN, t, dh, s, 1.0f, dropped_, s, {heads_ * t * s, t * s}, kv_ + d_,
               ldkv, {s * ldkv, dh}, 0.0f, context_, d_, {t * d_, dh}, batch_, heads_);
  return linear(ctx, context_, batch_ * t, d_, d_, ctx.params.value(wo_), ctx.params.value(bo_));
}

float* Attention::backward(PassContext& ctx, const float* dout, float* dmemory) {
  std::int64_t dh = d_ / heads_, t = len_, s = mem_len_, rows = batch_ * t;
  std::int64_t ldq = self_ ? 3 * d_ : d_, ldkv = self_ ? 3 * d_ : 2 * d_;
  std::int64_t n_probs = batch_ * heads_ * t * s;
  float* dcontext = ctx.arena.floats(static_cast<std::size_t>(rows * d_));
  linear_backward(ctx, context_, dout, rows, d_, d_, wo_, bo_, dcontext, 0.0f);
  // dq and dkv share the layout of q_ and kv_.
  float* dq = ctx.arena.floats(static_cast<std::size_t>(rows * ldq));
  float* dkv = self_ ? dq + d_ : ctx.arena.floats(static_cast<std::size_t>(batch_ * s * ldkv));
  float* dprobs = ctx.arena.floats(static_cast<std::size_t>(n_probs));
  gemm_batched(Op::kN, Op::kT, t, s, dh, 1.0f, dcontext, d_, {t * d_, dh}, kv_ + d_, ldkv,
               {s * ldkv, dh}, 0.0f, dprobs, s, {heads_ * t * s, t * s}, batch_, heads_);
  gemm_batched(Op::kT, Op::kN, s, dh, t, 1.0f, dropped_, s, {heads_ * t * s, t * s}, dcontext, d_,
               {t * d_, dh}, 0.0f, dkv + d_, ldkv, {s * ldkv, dh}, batch_, heads_);
  if (mask_) dropout_apply(dprobs, mask_, n_probs, dropout_);
  softmax_backward(probs_, dprobs, batch_ * heads_ * t, s);
  float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  gemm_batched(Op::kN, Op::kN, t, dh, s, scale, dprobs, s, {heads_ * t * s, t * s}, kv_, ldkv,
               {s * ldkv, dh}, 0.0f, dq, ldq, {t * ldq, dh}, batch_, heads_);
  gemm_batched(Op::kT, Op::kN, s, dh, t, scale, dprobs, s, {heads_ * t * s, t * s}, q_, ldq,
               {t * ldq, dh}, 0.0f, dkv, ldkv, {s * ldkv, dh}, batch_, heads_);
  float* dx = ctx.arena.floats(static_cast<std::size_t>(rows * d_));
  if (self_) {
    linear_backward(ctx, x_, dq, rows, d_, 3 * d_, wq_, bq_, dx, 0.0f);
  } else {
    linear_backward(ctx, x_, dq, rows, d_, d_, wq_, bq_, dx, 0.0f);
    linear_backward(ctx, memory_, dkv, batch_ * s, d_, 2 * d_, wk_, bk_, dmemory, 1.0f);
  }
  return dx;
}

FeedForward::FeedForward(ParamStore& store, const std::string& prefix, std::int64_t d,
                         std::int64_t ffn, float relu_dropout, SiteCounter& sites)
    : w1_(store.add(prefix + "/fc1/weight", {ffn, d}, Init::kXavier)),
      b1_(store.add(prefix + "/fc1/bias", {ffn}, Init::kZeros)),
      w2_(store.add(prefix + "/fc2/weight", {d, ffn}, Init::kXavier)),
      b2_(store.add(prefix + "/fc2/bias", {d}, Init::kZeros)),
      d_(d),
      ffn_(ffn),
      dropout_(relu_dropout),
      site_(sites.take()) {}

float* FeedForward::forward(PassContext& ctx, const float* x, std::int64_t rows) {
  rows_ = rows;
  x_ = x;
  hidden_ = linear(ctx, x, rows, d_, ffn_, ctx.params.value(w1_), ctx.params.value(b1_), true);
  mask_ = ctx.dropout_mask(site_, rows * ffn_, dropout_);
  if (mask_) dropout_apply(hidden_, mask_, rows * ffn_, dropout_);
  return linear(ctx, hidden_, rows, ffn_, d_, ctx.params.value(w2_), ctx.params.value(b2_));
}

float* FeedForward::backward(PassContext& ctx, const float* dout) {
  float* dhidden = ctx.arena.floats(static_cast<std::size_t>(rows_ * ffn_));
  linear_backward(ctx, hidden_, dout, rows_, ffn_, d_, w2_, b2_, dhidden, 0.0f);
  if (mask_) dropout_apply(dhidden, mask_, rows_ * ffn_, dropout_);
  // hidden_ > 0 exactly where the ReLU passed and dropout kept.
  relu_backward(hidden_, dhidden, rows_ * ffn_);
  float* dx = ctx.arena.floats(static_cast<std::size_t>(rows_ * d_));
  linear_backward(ctx, x_, dhidden, rows_, d_, ffn_, w1_, b1_, dx, 0.0f);
  return dx;
}

Sublayer::Sublayer(ParamStore& store, const std::string& norm_name, std::int64_t d, float dropout,
                   bool pre_norm, SiteCounter& sites)
    : norm_(store, norm_name, d), d_(d), dropout_(dropout), pre_norm_(pre_norm),
      site_(sites.take()) {}

float* Sublayer::forward(PassContext& ctx, const float* x, std::int64_t rows, Forward f) {
  rows_ = rows;
  std::int64_t n = rows * d_;
  float* out = f(pre_norm_ ? norm_.forward(ctx, x, rows) : x);
  mask_ = ctx.dropout_mask(site_, n, dropout_);
  residual_dropout(x, out, mask_, dropout_, out, n);
  return pre_norm_ ? out : norm_.forward(ctx, out, rows);
}

float* Sublayer::backward(PassContext& ctx, const float* dy, Backward f_backward) {
  std::int64_t n = rows_ * d_;
  const float* dsum = pre_norm_ ? dy : norm_.backward(ctx, dy);  // ∂/∂(x + drop(F))
  float* df = copy_of(ctx.arena, dsum, n);
  if (mask_) dropout_apply(df, mask_, n, dropout_);
  float* dx = f_backward(df);
  if (pre_norm_) dx = norm_.backward(ctx, dx);
  add_into(dx, dsum, n);
  return dx;
}

}  // namespace tfm
