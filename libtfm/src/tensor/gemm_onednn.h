// The oneDNN matmul backends of gemm.h (internal): bf16 operands with fp32
// sums and output, int8 operands with int32 sums, and fp32 products with
// weights reordered once into the layout of oneDNN's brgemm kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "tfm/tensor/gemm.h"
#include "tfm/tensor/tensor.h"

namespace tfm::detail {

// The oneDNN ISA that runs bf16 products natively on this CPU: "AMX",
// "AVX512-BF16", or "" when neither is present (or DNNL_MAX_CPU_ISA caps it).
const char* native_bf16_isa();

// One product on the calling thread, as gemm(): A and B rounded to bf16
// (nearest even; shadowed operands are read from their copies), products
// accumulated and C written in fp32. The matmul primitive for a shape is
// created on first use and kept (per thread).
// With `bias` [n], C gets bias added (after alpha and beta), then ReLU when
// `relu`: post-ops of the same primitive. With a_bf16 (b_bf16), A (B) is
// read from that bf16 copy, laid out as A (B), instead of being rounded here.
void gemm_block_bf16(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                     const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
                     float beta, float* c, std::int64_t ldc, const float* bias = nullptr,
                     bool relu = false, const std::uint16_t* a_bf16 = nullptr,
                     const std::uint16_t* b_bf16 = nullptr);

// outer × inner products as one primitive on the calling thread: C(i, j)
// [m, n] = alpha · op(A(i, j)) · op(B(i, j)), the stored A(i, j) ([m, k], or
// [k, m] when ta) and B(i, j) ([k, n], or [n, k] when tb) in bf16, dense and
// one after another; C(i, j) at c + i·sc.outer + j·sc.inner, leading
// dimension ldc, overwritten. oneDNN's fast kernels want C dense or its
// matrices side by side in the rows (ldc = inner·n, sc.inner = n).
void gemm_batched_bf16(std::int64_t outer, std::int64_t inner, std::int64_t m, std::int64_t n, std::int64_t k,
                       float alpha, const std::uint16_t* a, bool ta, const std::uint16_t* b, bool tb, float* c,
                       std::int64_t ldc, BatchStrides sc);

// The bf16 copy of x when x .. x + extent lies within a shadowed range (see
// add_bf16_shadow in gemm.h), else null.
const std::uint16_t* find_bf16_shadow(const float* x, std::int64_t extent);

// A weight matrix [rows, cols] in int8, each row with its own scale:
// values[r][c] ≈ values_q[r][c] · scales[r].
struct Int8Weight {
  const float* values;
  std::int64_t rows, cols;
  GrowOnlyBuffer<std::int8_t> values_q;  // written once, by the quantization
  std::vector<float> scales;
};

// The int8 copy of the weight [rows, cols] stored at w with leading dimension
// ld (see add_int8_weight in gemm.h), else null.
const Int8Weight* find_int8_weight(const float* w, std::int64_t rows, std::int64_t cols, std::int64_t ld);

// The largest magnitude of an int8 weight: 127 where oneDNN multiplies int8
// with VNNI (or AMX) instructions, whose int32 sums are exact, else 63.
// Without VNNI (AVX2, AVX-512 before Cascade Lake) oneDNN adds 128 to A's
// values and sums pairs of u8 · s8 products in 16 bits (vpmaddubsw), which
// saturate beyond 32,767: 2 · 255 · 63 stays below, 2 · 255 · 127 does not
// (on an AMD Zen 3, full-range weights put 27% error into a product).
int int8_weight_limit();

// C [m, n] = A [m, k] · W [n, k]ᵀ in int8 with int32 sums, on the calling
// thread (primitive created on first use and kept per thread).
void gemm_block_int8(std::int64_t m, std::int64_t n, std::int64_t k, const std::int8_t* a,
                     std::int64_t lda, const std::int8_t* w, std::int64_t ldw, std::int32_t* c,
                     std::int64_t ldc);

// A weight matrix W [rows, cols] for fp32 products C = A · Wᵀ, its
// transpose B = Wᵀ [cols, rows] reordered into the blocked layout the
// brgemm matmul kernels read (format BA16a64b: panels of 64 columns of B,
// each [cols rounded up to 16] × 64, one after another), so that no product
// packs it again. A block of C's columns starting at a multiple of 64 is a
// panel boundary: its part of B is `packed` from there on, in the same
// layout, so the copy serves every cut.
struct PackedWeight {
  const float* values;
  std::int64_t rows, cols;
  GrowOnlyBuffer<float> packed;  // written once, by the reorder
};
constexpr std::int64_t kPackedPanel = 64;  // columns of B a panel

// The packed copy of the weight [rows, cols] stored at w with leading
// dimension ld, else null.
const PackedWeight* find_packed_weight(const float* w, std::int64_t rows, std::int64_t cols, std::int64_t ld);

// Fills `out` with w [rows, cols] packed; false when this CPU's oneDNN has no
// brgemm kernels for fp32 (its sgemm is then as fast), or lays it out
// otherwise.
bool pack_weight(const float* w, std::int64_t rows, std::int64_t cols, PackedWeight& out);

// C [m, last − first] = A [m, k] · W[first, last)ᵀ (+ bias [last − first],
// then ReLU) in fp32 on the calling thread, from W's packed copy; `first` a
// multiple of kPackedPanel. The primitive is created on first use and kept
// per thread. False, and nothing written, where oneDNN has no fast kernel
// for the shape: the caller multiplies W itself.
bool gemm_block_packed(std::int64_t m, const float* a, std::int64_t lda, const PackedWeight& w,
                       std::int64_t first, std::int64_t last, float* c, std::int64_t ldc, const float* bias,
                       bool relu);

}  // namespace tfm::detail
