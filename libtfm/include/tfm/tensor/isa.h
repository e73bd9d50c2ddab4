// Which instruction set the hand-written kernels (kernels.h, dropout_mask,
// the Adam update) run with. The library is built for a portable baseline;
// these kernels are built once per level and the level is chosen once, at
// start-up, from what the CPU has (cpuid), lowered by the environment
// variable TFM_ISA. The GEMM libraries (oneDNN, OpenBLAS) pick their own
// kernels; DNNL_MAX_CPU_ISA and OPENBLAS_CORETYPE cap them.
//
// For one level, results are identical for any thread count. Every level
// rounds floats the same way (no fused multiply-add is contracted, the same
// summation orders), so the kernels give the same bits on every level; the
// GEMM libraries may not.
#pragma once

#include <string>
#include <vector>

namespace tfm {

enum class IsaLevel {
  kBaseline,    // x86-64-v2: SSE4.2, POPCNT
  kAvx2,        // x86-64-v3: AVX2, FMA, BMI2
  kAvx512,      // x86-64-v4: AVX-512 F, BW, CD, DQ, VL
  kAvx512Bf16,  // x86-64-v4 with AVX512-BF16 and AVX512-VNNI
};

// "baseline", "avx2", "avx512", "avx512bf16" (the TFM_ISA values).
const char* isa_name(IsaLevel level);
// The level named `name`; throws UsageError naming the valid ones.
IsaLevel parse_isa_level(const std::string& name);
// The highest level this CPU (and its operating system) runs.
IsaLevel cpu_isa_level();
// Every level from the baseline to cpu_isa_level(), lowest first.
std::vector<IsaLevel> cpu_isa_levels();

// The level in effect. The first call picks it: cpu_isa_level(), or TFM_ISA
// when set; throws Error when TFM_ISA names no level or one this CPU lacks
// (tools call it at start, so that the error comes before any work).
IsaLevel isa_level();
// Switches the kernels to `level` (≤ cpu_isa_level(), else throws Error).
// Not thread-safe: call between computations (start-up, tests, and data-
// parallel ranks agreeing on the level they all have).
void set_isa_level(IsaLevel level);

// One line for --version: "kernels avx512bf16 (CPU: avx512bf16), GEMM oneDNN".
std::string compute_description();

}  // namespace tfm
