// The bf16 backend of gemm.h (internal): oneDNN matmul primitives with bf16
// operands, fp32 accumulation and fp32 output.
#pragma once

#include <cstdint>

#include "tfm/tensor/gemm.h"

namespace tfm::detail {

// The oneDNN ISA that runs bf16 products natively on this CPU: "AMX",
// "AVX512-BF16", or "" when neither is present (or DNNL_MAX_CPU_ISA caps it).
const char* native_bf16_isa();

// One product on the calling thread, as gemm(): A and B rounded to bf16
// (nearest even; shadowed operands are read from their copies), products
// accumulated and C written in fp32. The matmul primitive for a shape is
// created on first use and kept (per thread).
void gemm_block_bf16(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                     const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
                     float beta, float* c, std::int64_t ldc);

// The bf16 copy of x when x .. x + extent lies within a shadowed range (see
// add_bf16_shadow in gemm.h), else null.
const std::uint16_t* find_bf16_shadow(const float* x, std::int64_t extent);

}  // namespace tfm::detail
