// All matrix products of the engine go through this interface: row-major,
// BLAS-style (pointers, leading dimensions), fp32 in and out.
//
// Backend: OpenBLAS sgemm, single-threaded per call. gemm() cuts C into
// blocks whose boundaries depend on the shape only, and runs the blocks on
// the engine threads (threads.h): every element of C is computed by the same
// sgemm call whatever the thread count, so results are bit-identical for any
// --threads. A bf16 path (fp32 master weights, bf16 operands, fp32
// accumulation, e.g. oneDNN's AMX matmul) replaces gemm_block() in gemm.cpp
// without touching callers.
#pragma once

#include <cstdint>

namespace tfm {

enum class Op { kN, kT };  // use the operand as stored, or its transpose

// C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C.
// op(A) is A [m, lda≥k] when kN, A [k, lda≥m] stored when kT; likewise B.
void gemm(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc);

// Element offsets between consecutive matrices of a two-level batch
// (e.g. outer = sentence, inner = attention head).
struct BatchStrides {
  std::int64_t outer = 0, inner = 0;
};

// n_outer × n_inner independent products, each as gemm() above, matrix (i, j)
// starting at a + i·sa.outer + j·sa.inner (same for b, c). The batch is spread
// over the engine threads; each product runs whole on one thread.
void gemm_batched(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                  const float* a, std::int64_t lda, BatchStrides sa, const float* b,
                  std::int64_t ldb, BatchStrides sb, float beta, float* c, std::int64_t ldc,
                  BatchStrides sc, std::int64_t n_outer, std::int64_t n_inner);

}  // namespace tfm
