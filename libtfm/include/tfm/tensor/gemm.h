// All matrix products of the engine go through this interface: row-major,
// BLAS-style (pointers, leading dimensions), fp32 in and out.
//
// Backends: oneDNN's sgemm (default: its JIT AVX-512 kernels) or OpenBLAS's
// cblas_sgemm (Debian's OpenBLAS 0.3.21 picks its AVX2 "Haswell" kernels on
// AMD Zen 5, half the speed of AVX-512 there), each single-threaded per call.
// gemm() cuts C into blocks whose boundaries depend on the shape only and
// runs them on the engine threads (threads.h): every element of C comes from
// the same library call whatever the thread count, so results are
// bit-identical for any --threads. With oneDNN, an operand of Aᵀ·B whose
// leading dimension is a multiple of 512 floats is read from a dense copy
// (gemm.cpp, aliasing_stride): the same result, twice as fast there.
//
// Precision kBf16 rounds both operands to bf16 and multiplies them with
// oneDNN matmul primitives (fp32 accumulation and output; one primitive per
// block shape, created once and cached per thread). Which CPUs run it:
// AMX (Sapphire Rapids and later) and AVX512-BF16 (Cooper Lake, AMD Zen 4
// and later) natively; any other CPU runs kBf16 requests in fp32.
//
// Precision kInt8 is for inference: a product C = A · Wᵀ (alpha 1, beta 0)
// whose W was given to add_int8_weight() quantizes each row of A to int8
// with its own scale, multiplies with oneDNN (int8 operands, int32 sums:
// VNNI or AMX instructions where the CPU has them; without them W's rows
// are quantized to ±63, so that no 16-bit intermediate sum saturates) and
// scales the sums back by the row's and W's row's scales. Every other
// product runs in fp32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tfm/tensor/tensor.h"

namespace tfm {

enum class Op { kN, kT };  // use the operand as stored, or its transpose

enum class GemmBackend { kOneDnn, kOpenBlas };
// Process-wide choice (default kOneDnn); set it before work starts.
void set_gemm_backend(GemmBackend backend);
GemmBackend gemm_backend();

enum class Precision { kFp32, kBf16, kInt8 };
// Process-wide operand precision of gemm() and gemm_batched() (default
// kFp32); set it before work starts. Returns the precision in effect: kFp32
// when kBf16 is asked for on a CPU without native bf16 (see bf16_isa()).
Precision set_gemm_precision(Precision precision);
Precision gemm_precision();
// "fp32", "bf16" or "int8" (a --precision value); throws UsageError otherwise.
Precision parse_precision(const std::string& name);
// The instructions that run bf16 products here, as oneDNN sees the CPU:
// "AMX", "AVX512-BF16", or "" (none: bf16 falls back to fp32). The
// environment variable DNNL_MAX_CPU_ISA (e.g. AVX512_CORE) caps it.
const char* bf16_isa();

// bf16 copies of weights, so that bf16 products round them once per update
// instead of at every call: after add_bf16_shadow(values, n), an operand of
// gemm() lying within [values, values + n) is read from the copy (same
// offsets). gemm_batched() never reads them: its operands are activations,
// which it rounds itself.
// refresh_bf16_shadows() re-rounds every copy from its values: call it after
// any change of the values and before the next product (training: once per
// optimizer step). Not thread-safe: call both between products.
// clear_bf16_shadows() forgets them all.
void add_bf16_shadow(const float* values, std::int64_t n);
void refresh_bf16_shadows();
void clear_bf16_shadows();

// An int8 copy of the weight matrix w [rows, cols] (row-major, leading
// dimension cols), each row quantized with its own scale, for kInt8 products
// (see above). Not thread-safe: call between products. clear_int8_weights()
// forgets them all.
void add_int8_weight(const float* w, std::int64_t rows, std::int64_t cols);
void clear_int8_weights();

// W [rows, cols] (row-major, leading dimension cols) reordered once into the
// blocked layout of oneDNN's brgemm kernels, for fp32 inference: products
// C = A · Wᵀ (alpha 1, beta 0, and linear_forward, whose bias and ReLU the
// product then applies) read the copy instead of packing W at every call,
// 3-30% faster on decoding's shapes, for a second copy of W in memory.
// Only with the oneDNN backend in fp32 and where oneDNN has brgemm kernels
// for fp32 (AVX-512 CPUs); elsewhere nothing is kept (returns false) and
// products run as before. Results may differ from the plain product in the
// last bits (another order of the sums), never with the thread count. Not
// thread-safe: call between products. clear_packed_weights() forgets them
// all.
bool add_packed_weight(const float* w, std::int64_t rows, std::int64_t cols);
void clear_packed_weights();

// Some rows of a weight matrix W [rows, cols] gathered once, for products
// C = A · W_selᵀ that cost what the selected rows cost (a vocabulary
// shortlist's output projection). The rows are kept in the form the
// precision in effect at gather() multiplies: fp32; bf16 rounded as
// add_bf16_shadow() rounds; int8 with each row's own scale, as
// add_int8_weight() quantizes it. So every row is multiplied exactly as in
// the product with the whole matrix: with all rows in order, multiply()
// equals gemm() with W bit for bit, in every precision.
class WeightRows {
 public:
  // Rows ids[i] (each in [0, rows)) of w [rows, cols], in the order given.
  // Throws Error on an id out of range. Call again after a precision change.
  void gather(const float* w, std::int64_t rows, std::int64_t cols, const std::vector<std::int32_t>& ids);
  std::int64_t rows() const { return rows_; }
  // c [m, rows()] = a [m, cols] · W_selᵀ (leading dimensions cols and ldc ≥ rows()).
  void multiply(const float* a, std::int64_t m, float* c, std::int64_t ldc) const;

 private:
  std::int64_t rows_ = 0, cols_ = 0;
  Precision precision_ = Precision::kFp32;
  // Kept from batch to batch: a shortlist gathers other rows for each.
  GrowOnlyBuffer<float> values_;           // fp32: the rows; int8: their scales
  GrowOnlyBuffer<std::uint16_t> bf16_;     // bf16: the rows rounded (what is multiplied)
  GrowOnlyBuffer<std::int8_t> int8_;       // int8: the rows quantized, then zero rows (see gemm.cpp)
};

// C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C.
// op(A) is A [m, lda≥k] when kN, A [k, lda≥m] stored when kT; likewise B.
void gemm(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc);

// y [rows, out] = x [rows, in] · Wᵀ + bias, then max(0, ·) when relu: a
// linear layer, W [out, in] row-major. In bf16 and int8 the bias and ReLU are
// applied by the product itself (oneDNN post-ops; int8: with the scaling
// back), in fp32 by a separate pass.
void linear_forward(const float* x, std::int64_t rows, std::int64_t in, std::int64_t out, const float* w,
                    const float* bias, bool relu, float* y);

// Element offsets between consecutive matrices of a two-level batch
// (e.g. outer = sentence, inner = attention head).
struct BatchStrides {
  std::int64_t outer = 0, inner = 0;
};

// n_outer × n_inner independent products, each as gemm() above, matrix (i, j)
// starting at a + i·sa.outer + j·sa.inner (same for b, c). The batch is spread
// over the engine threads; each product runs whole on one thread. In bf16
// with beta 0, the operands are rounded into dense copies and the products
// run as a few batched oneDNN calls.
void gemm_batched(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                  const float* a, std::int64_t lda, BatchStrides sa, const float* b,
                  std::int64_t ldb, BatchStrides sb, float beta, float* c, std::int64_t ldc,
                  BatchStrides sc, std::int64_t n_outer, std::int64_t n_inner);

}  // namespace tfm
