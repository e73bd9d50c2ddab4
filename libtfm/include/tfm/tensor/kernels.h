// Fused element-wise kernels of the Transformer, on raw row-major float
// arrays. Each runs on the engine threads over rows (or column blocks for
// reductions over rows), with slices fixed by the shape: results are
// identical for any thread count. Nothing here allocates.
#pragma once

#include <cstdint>

namespace tfm {

// --- attention softmax -----------------------------------------------------
// scores [batch, heads, q_len, k_len]: softmax over each row, in place, over
// the first valid(b, i) columns, the rest set to 0. valid = key_len[b], or
// min(i + 1, key_len[b]) when causal. key_len[b] ≥ 1.
void attention_softmax(float* scores, std::int64_t batch, std::int64_t heads, std::int64_t q_len,
                       std::int64_t k_len, const std::int32_t* key_len, bool causal);
// Softmax backward for all rows: grad ← p ⊙ (grad − rowsum(grad ⊙ p)), in place.
void softmax_backward(const float* p, float* grad, std::int64_t rows, std::int64_t cols);

// --- layer norm ------------------------------------------------------------
// y = (x − mean) / sqrt(var + eps) · gamma + beta per row of x [rows, d];
// saves mean and rstd [rows] for the backward pass.
void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y,
                        float* mean, float* rstd, std::int64_t rows, std::int64_t d, float eps);
// dx = ∂/∂x (assigned), dgamma and dbeta accumulated (+=).
void layer_norm_backward(const float* x, const float* gamma, const float* mean, const float* rstd,
                         const float* dy, float* dx, float* dgamma, float* dbeta, std::int64_t rows,
                         std::int64_t d);

// --- dropout, residual, bias, ReLU -----------------------------------------
// x ← x ⊙ mask / (1 − p); also the backward pass (same operation on grads).
void dropout_apply(float* x, const std::uint8_t* mask, std::int64_t n, float p);
// out = x + f ⊙ mask / (1 − p) (mask may be null: no dropout). out may alias x.
void residual_dropout(const float* x, const float* f, const std::uint8_t* mask, float p, float* out,
                      std::int64_t n);
// y [rows, cols] += bias [cols]; with relu, then y = max(y, 0).
void add_bias(float* y, const float* bias, std::int64_t rows, std::int64_t cols, bool relu);
// grad ← grad ⊙ (y > 0) where y is the ReLU output.
void relu_backward(const float* y, float* grad, std::int64_t n);
// dbias [cols] += column sums of dy [rows, cols].
void bias_backward(const float* dy, std::int64_t rows, std::int64_t cols, float* dbias);
// y += x (n elements).
void add_into(float* y, const float* x, std::int64_t n);

// --- embeddings ------------------------------------------------------------
// out [rows, d] row r = table[ids[r]] · scale · row_scales[r] + positions[r % seq_len]
// (row_scales [rows], null for all 1: word dropout's; positions [seq_len, d],
// null for none).
void embedding_forward(const std::int32_t* ids, std::int64_t rows, const float* table,
                       std::int64_t d, float scale, const float* row_scales, const float* positions,
                       std::int64_t seq_len, float* out);
// dtable[ids[r]] += dout[r] · scale · row_scales[r] (scatter-add, deterministic;
// row_scales null for all 1).
void embedding_backward(const std::int32_t* ids, std::int64_t rows, const float* dout,
                        std::int64_t d, float scale, const float* row_scales, float* dtable);

// --- loss ------------------------------------------------------------------
// Label-smoothed cross entropy fused with log-softmax, as fairseq computes it:
// loss = (1 − ε − ε/(V−1))·nll + ε/(V−1)·Σ_j −log p_j per row of logits
// [rows, vocab]; rows whose target is `pad` count 0. Writes row_loss and
// row_nll [rows] and row_correct [rows] (1 when the target has the highest
// logit, the first one on ties); when grad_scale ≠ 0 replaces logits by
// grad_scale · ∂loss/∂logits.
void label_smoothed_xent(float* logits, std::int64_t rows, std::int64_t vocab,
                         const std::int32_t* targets, std::int32_t pad, float epsilon,
                         float grad_scale, double* row_loss, double* row_nll,
                         std::int32_t* row_correct);

// R-Drop (Liang et al., 2021): the same rows' logits under two dropout masks.
// Each copy gets label_smoothed_xent's loss and gradient, and the pair adds
// alpha · ½(KL(p‖q) + KL(q‖p)) (p, q their softmaxes), counted in out1's
// loss; when grad_scale ≠ 0 both logits are replaced by grad_scale ·
// ∂(total)/∂logits. Rows whose target is `pad` count 0.
struct XentRows {
  double* loss;          // [rows]
  double* nll;           // [rows]
  std::int32_t* correct;  // [rows]
};
void rdrop_xent(float* logits1, float* logits2, std::int64_t rows, std::int64_t vocab,
                const std::int32_t* targets, std::int32_t pad, float epsilon, float alpha, float grad_scale,
                XentRows out1, XentRows out2);

// --- reductions for the optimizer -------------------------------------------
// Σ x² in double, summed in fixed blocks (identical for any thread count);
// `partials` holds sum_squares_blocks(n) doubles.
inline constexpr std::int64_t kSumSquaresBlock = 1 << 16;
inline std::int64_t sum_squares_blocks(std::int64_t n) {
  return n > kSumSquaresBlock ? (n + kSumSquaresBlock - 1) / kSumSquaresBlock : 1;
}
double sum_squares(const float* x, std::int64_t n, double* partials);
// x ← s·x
void scale_values(float* x, std::int64_t n, float s);

// --- bf16 --------------------------------------------------------------------
// out[i] = x[i] rounded to bf16 (the upper 16 bits of an fp32), to nearest,
// ties to even; NaN stays NaN and subnormals become signed zeros (as the
// AVX512-BF16 instruction, used on that level, does). Runs on the calling
// thread.
void round_to_bf16(const float* x, std::int64_t n, std::uint16_t* out);

// --- int8 --------------------------------------------------------------------
// Symmetric int8 quantization of x[0, n): out[i] = x[i] / scale rounded to
// nearest (ties to even), scale = max |x| / limit (0 when x is all zeros),
// so x[i] ≈ out[i] · scale and |out[i]| ≤ limit (1 to 127). Returns scale.
// Runs on the calling thread.
float quantize_int8(const float* x, std::int64_t n, std::int8_t* out, int limit);
// out[j] = sums[j] · row_scale · col_scale[j] (+ bias[j] when bias is not
// null, then max(·, 0) when relu) for j < n: a row of an int8 product's
// int32 sums back to floats. Runs on the calling thread.
void dequantize_row(const std::int32_t* sums, float row_scale, const float* col_scale, const float* bias,
                    bool relu, std::int64_t n, float* out);

// --- Adam ----------------------------------------------------------------------
// The constants of one Adam update (see train/optimizer.h).
struct AdamStep {
  float beta1, beta2, eps;
  float step_size;     // lr / (1 − beta1^t)
  float inv_sqrt_bc2;  // 1 / sqrt(1 − beta2^t)
};
// For i < n: m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², params −=
// step_size · m / (sqrt(v) · inv_sqrt_bc2 + eps), g = grads[i]. The same
// bits on every instruction-set level (data-parallel ranks rely on it).
void adam_update(float* params, const float* grads, float* m, float* v, std::int64_t n, const AdamStep& step);

// --- decoding ----------------------------------------------------------------
// One query q [d] (heads of d / heads) attending over n positions whose key
// row [d] is kv[j] and value row [d] follows it (kv[j] + d), in fp32 or bf16:
// scores [heads, n] ← each head's softmax weights, context [d] ← the
// weighted values. Runs on the calling thread.
void attend_cached(const float* q, std::int64_t n, const float* const* kv, std::int64_t d, std::int64_t heads,
                   float* scores, float* context);
void attend_cached(const float* q, std::int64_t n, const std::uint16_t* const* kv, std::int64_t d,
                   std::int64_t heads, float* scores, float* context);
// Each row of x [rows, cols] ← its log-softmax, in place.
void log_softmax_rows(float* x, std::int64_t rows, std::int64_t cols);
// Folds x[0, n) (n ≥ 1) into a running log-sum-exp held as a maximum and
// the sum of exp(x − maximum) (start from −inf and 0; the log-sum-exp is
// maximum + log(sum)), and returns the largest of x[0, n). A row cut into the
// same pieces, folded in the same order, gives the same bits whether or not
// it was ever whole in memory.
float fold_log_sum_exp(const float* x, std::int64_t n, float& maximum, float& sum);
// The index of the first largest of x[0, n), n ≥ 1 (as std::max_element).
std::int64_t argmax(const float* x, std::int64_t n);
// Blocks of kScanBlock values: the first j = from + b·kScanBlock (b ≥ 0,
// j + kScanBlock ≤ n) with some x[j + l] + base > bound, or the first j
// past the last whole block when none. (Beam search skips the entries that
// cannot enter its beam.)
inline constexpr std::int64_t kScanBlock = 16;
std::int64_t next_block_above(const float* x, std::int64_t from, std::int64_t n, float base, float bound);

}  // namespace tfm
