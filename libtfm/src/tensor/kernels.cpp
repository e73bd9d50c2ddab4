// The kernels of kernels.h: each call goes to the instruction-set level in
// effect (isa.h; the kernels themselves are in isa/).
#include "tfm/tensor/kernels.h"

#include "isa/level.h"

namespace tfm {
namespace {

const detail::ElementwiseKernels& elementwise() { return *detail::level_kernels().elementwise; }
const detail::LoopKernels& loops() { return *detail::level_kernels().loops; }

}  // namespace

void attention_softmax(float* scores, std::int64_t batch, std::int64_t heads, std::int64_t q_len,
                       std::int64_t k_len, const std::int32_t* key_len, bool causal) {
  elementwise().attention_softmax(scores, batch, heads, q_len, k_len, key_len, causal);
}

void softmax_backward(const float* p, float* grad, std::int64_t rows, std::int64_t cols) {
  elementwise().softmax_backward(p, grad, rows, cols);
}

void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                        std::int64_t rows, std::int64_t d, float eps) {
  elementwise().layer_norm_forward(x, gamma, beta, y, mean, rstd, rows, d, eps);
}

void layer_norm_backward(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                         float* dx, float* dgamma, float* dbeta, std::int64_t rows, std::int64_t d) {
  elementwise().layer_norm_backward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, d);
}

void dropout_apply(float* x, const std::uint8_t* mask, std::int64_t n, float p) {
  elementwise().dropout_apply(x, mask, n, p);
}

void residual_dropout(const float* x, const float* f, const std::uint8_t* mask, float p, float* out, std::int64_t n) {
  elementwise().residual_dropout(x, f, mask, p, out, n);
}

void add_bias(float* y, const float* bias, std::int64_t rows, std::int64_t cols, bool relu) {
  elementwise().add_bias(y, bias, rows, cols, relu);
}

void relu_backward(const float* y, float* grad, std::int64_t n) { elementwise().relu_backward(y, grad, n); }

void bias_backward(const float* dy, std::int64_t rows, std::int64_t cols, float* dbias) {
  elementwise().bias_backward(dy, rows, cols, dbias);
}

void add_into(float* y, const float* x, std::int64_t n) { elementwise().add_into(y, x, n); }

void embedding_forward(const std::int32_t* ids, std::int64_t rows, const float* table, std::int64_t d, float scale,
                       const float* row_scales, const float* positions, std::int64_t seq_len, float* out) {
  elementwise().embedding_forward(ids, rows, table, d, scale, row_scales, positions, seq_len, out);
}

void embedding_backward(const std::int32_t* ids, std::int64_t rows, const float* dout, std::int64_t d, float scale,
                        const float* row_scales, float* dtable) {
  elementwise().embedding_backward(ids, rows, dout, d, scale, row_scales, dtable);
}

void label_smoothed_xent(float* logits, std::int64_t rows, std::int64_t vocab, const std::int32_t* targets,
                         std::int32_t pad, float epsilon, float grad_scale, double* row_loss, double* row_nll,
                         std::int32_t* row_correct) {
  elementwise().label_smoothed_xent(logits, rows, vocab, targets, pad, epsilon, grad_scale, row_loss, row_nll,
                                    row_correct);
}

void rdrop_xent(float* logits1, float* logits2, std::int64_t rows, std::int64_t vocab, const std::int32_t* targets,
                std::int32_t pad, float epsilon, float alpha, float grad_scale, XentRows out1, XentRows out2) {
  elementwise().rdrop_xent(logits1, logits2, rows, vocab, targets, pad, epsilon, alpha, grad_scale, out1, out2);
}

double sum_squares(const float* x, std::int64_t n, double* partials) {
  return elementwise().sum_squares(x, n, partials);
}

void scale_values(float* x, std::int64_t n, float s) { elementwise().scale_values(x, n, s); }

float quantize_int8(const float* x, std::int64_t n, std::int8_t* out, int limit) {
  return elementwise().quantize_int8(x, n, out, limit);
}

void round_to_bf16(const float* x, std::int64_t n, std::uint16_t* out) { loops().round_to_bf16(x, n, out); }

void dequantize_row(const std::int32_t* sums, float row_scale, const float* col_scale, const float* bias, bool relu,
                    std::int64_t n, float* out) {
  loops().dequantize_row(sums, row_scale, col_scale, bias, relu, n, out);
}

void dropout_mask(const RngKey& key, std::int64_t n, float p, std::uint8_t* mask) {
  loops().dropout_mask(key, n, p, mask);
}

void adam_update(float* params, const float* grads, float* m, float* v, std::int64_t n, const AdamStep& step) {
  loops().adam_update(params, grads, m, v, n, step);
}

void attend_cached(const float* q, std::int64_t n, const float* const* kv, std::int64_t d, std::int64_t heads,
                   float* scores, float* context) {
  loops().attend_f32(q, n, kv, d, heads, scores, context);
}

void attend_cached(const float* q, std::int64_t n, const std::uint16_t* const* kv, std::int64_t d,
                   std::int64_t heads, float* scores, float* context) {
  loops().attend_bf16(q, n, kv, d, heads, scores, context);
}

void log_softmax_rows(float* x, std::int64_t rows, std::int64_t cols) { loops().log_softmax_rows(x, rows, cols); }
float fold_log_sum_exp(const float* x, std::int64_t n, float& maximum, float& sum) {
  return loops().fold_log_sum_exp(x, n, maximum, sum);
}

std::int64_t argmax(const float* x, std::int64_t n) { return loops().argmax(x, n); }

std::int64_t next_block_above(const float* x, std::int64_t from, std::int64_t n, float base, float bound) {
  return loops().next_block_above(x, from, n, base, bound);
}

}  // namespace tfm
