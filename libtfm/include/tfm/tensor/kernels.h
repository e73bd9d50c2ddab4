// Fused element-wise kernels of the Transformer, on raw row-major float
// arrays. Each runs on the engine threads over rows (or column blocks for
// reductions over rows), with slices fixed by the shape: results are
// identical for any thread count. Nothing here allocates.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#ifdef __AVX512BF16__
#include <immintrin.h>
#endif

namespace tfm {

// exp(x) to ~2 ulp, inline and branch-free so loops over it vectorize
// (Cephes expf: x = n·ln2 + g, |g| ≤ ln2/2, exp(g) by a polynomial).
inline float vexp(float x) {
  x = x < -87.0f ? -87.0f : x;  // (std::clamp returns a reference: no vectorizing)
  x = x > 88.0f ? 88.0f : x;
  // Round to nearest by adding 1.5·2^23 (std::floor would block vectorizing).
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float g = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * g + 1.3981999507e-3f;
  p = p * g + 8.3334519073e-3f;
  p = p * g + 4.1665795894e-2f;
  p = p * g + 1.6666665459e-1f;
  p = p * g + 5.0000001201e-1f;
  p = p * g * g + g + 1.0f;
  return p * std::bit_cast<float>((static_cast<std::int32_t>(n) + 127) << 23);
}

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
// out [rows, d] row r = table[ids[r]] · scale + positions[r % seq_len]
// (positions [seq_len, d]; null for none).
void embedding_forward(const std::int32_t* ids, std::int64_t rows, const float* table,
                       std::int64_t d, float scale, const float* positions, std::int64_t seq_len,
                       float* out);
// dtable[ids[r]] += dout[r] · scale (scatter-add, deterministic).
void embedding_backward(const std::int32_t* ids, std::int64_t rows, const float* dout,
                        std::int64_t d, float scale, float* dtable);

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

// --- reductions for the optimizer -------------------------------------------
// Σ x² in double, summed in fixed blocks (identical for any thread count);
// `partials` holds sum_squares_blocks(n) doubles.
std::int64_t sum_squares_blocks(std::int64_t n);
double sum_squares(const float* x, std::int64_t n, double* partials);
// x ← s·x
void scale_values(float* x, std::int64_t n, float s);

// --- bf16 --------------------------------------------------------------------
// out[i] = x[i] rounded to bf16 (the upper 16 bits of an fp32), to nearest,
// ties to even; NaN stays NaN and subnormals become signed zeros (as the
// AVX512-BF16 instruction, used when compiled for it, does). Runs on the
// calling thread. Inline: products round many short rows (a 64-float head).
inline void round_to_bf16(const float* x, std::int64_t n, std::uint16_t* out) {
  std::int64_t i = 0;
#ifdef __AVX512BF16__
  // One instruction for 16 values, rounding as the loop below does.
  for (; i + 16 <= n; i += 16) {
    __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), reinterpret_cast<__m256i&>(h));
  }
#endif
  for (; i < n; ++i) {
    std::uint32_t u = std::bit_cast<std::uint32_t>(x[i]);
    if ((u & 0x7f800000u) == 0) u &= 0x80000000u;  // subnormal → signed zero, as VCVTNEPS2BF16
    bool nan = (u & 0x7fffffffu) > 0x7f800000u;
    std::uint32_t rounded = (u + 0x7fffu + (u >> 16 & 1)) >> 16;
    out[i] = static_cast<std::uint16_t>(nan ? u >> 16 | 0x40 : rounded);
  }
}

// Symmetric int8 quantization of x[0, n): out[i] = x[i] / scale rounded to
// nearest (ties to even), scale = max |x| / 127 (0 when x is all zeros), so
// x[i] ≈ out[i] · scale. Returns scale. Runs on the calling thread.
float quantize_int8(const float* x, std::int64_t n, std::int8_t* out);

}  // namespace tfm
