#include "tfm/tensor/isa.h"

#include <array>
#include <atomic>
#include <cstdlib>

#include <fmt/format.h>

#include "isa/level.h"
#include "tfm/core/error.h"
#include "tfm/tensor/gemm.h"

namespace tfm {
namespace {

constexpr std::array<const char*, 4> kNames = {"baseline", "avx2", "avx512", "avx512bf16"};

const std::array<detail::LevelKernels, 4> kLevels = {{
    {&isa_baseline::kElementwise, &isa_baseline::kLoops},
    {&isa_avx2::kElementwise, &isa_avx2::kLoops},
    {&isa_avx512::kElementwise, &isa_avx512::kLoops},
    {&isa_avx512bf16::kElementwise, &isa_avx512bf16::kLoops},
}};

std::atomic<int> current_level{-1};
std::atomic<const detail::LevelKernels*> current_kernels{nullptr};

void apply(IsaLevel level) {
  if (level > cpu_isa_level())
    throw Error(fmt::format("this CPU runs instruction sets up to {}, not {}", isa_name(cpu_isa_level()),
                            isa_name(level)));
  current_kernels = &kLevels[static_cast<std::size_t>(level)];
  current_level = static_cast<int>(level);
}

// cpu_isa_level(), or the level TFM_ISA names.
IsaLevel level_from_environment() {
  const char* asked = std::getenv("TFM_ISA");
  if (!asked || !*asked) return cpu_isa_level();
  IsaLevel level;
  try {
    level = parse_isa_level(asked);
  } catch (const UsageError& e) {
    throw Error(fmt::format("TFM_ISA: {}", e.what()));
  }
  if (level > cpu_isa_level())
    throw Error(fmt::format("TFM_ISA={} asks for more than this CPU has ({})", asked, isa_name(cpu_isa_level())));
  return level;
}

}  // namespace

const char* isa_name(IsaLevel level) { return kNames[static_cast<std::size_t>(level)]; }

IsaLevel parse_isa_level(const std::string& name) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (name == kNames[i]) return static_cast<IsaLevel>(i);
  throw UsageError(fmt::format("'{}' is not baseline, avx2, avx512 or avx512bf16", name));
}

IsaLevel cpu_isa_level() {
  static const IsaLevel level = [] {
    __builtin_cpu_init();
    // The x86-64-v3 and -v4 features by name (clang 14, which builds the
    // fuzzers, knows no "x86-64-vN" here). v3 also has F16C, LZCNT and MOVBE,
    // which every CPU with AVX2, FMA and BMI2 has.
    const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
    const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vl");
    if (v4)
      return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vnni") ? IsaLevel::kAvx512Bf16
                                                                                           : IsaLevel::kAvx512;
    return v3 ? IsaLevel::kAvx2 : IsaLevel::kBaseline;
  }();
  return level;
}

std::vector<IsaLevel> cpu_isa_levels() {
  std::vector<IsaLevel> levels;
  for (int i = 0; i <= static_cast<int>(cpu_isa_level()); ++i) levels.push_back(static_cast<IsaLevel>(i));
  return levels;
}

IsaLevel isa_level() {
  // Picked once; a failure throws again at the next call.
  static const bool picked = (apply(level_from_environment()), true);
  (void)picked;
  return static_cast<IsaLevel>(current_level.load());
}

void set_isa_level(IsaLevel level) {
  isa_level();
  apply(level);
}

std::string compute_description() {
  const char* bf16 = bf16_isa();
  return fmt::format("kernels {} (CPU: {}), GEMM {}, bf16 products {}", isa_name(isa_level()),
                     isa_name(cpu_isa_level()), gemm_backend() == GemmBackend::kOneDnn ? "oneDNN" : "OpenBLAS",
                     *bf16 ? bf16 : "none (fp32)");
}

const detail::LevelKernels& detail::level_kernels() {
  const LevelKernels* kernels = current_kernels.load(std::memory_order_relaxed);
  if (kernels) return *kernels;
  isa_level();
  return *current_kernels.load();
}

}  // namespace tfm
