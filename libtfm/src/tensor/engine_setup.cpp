#include "tfm/tensor/engine_setup.h"

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/tensor/gemm.h"
#include "tfm/tensor/threads.h"

namespace tfm {

void apply_engine_settings(const EngineSettings& settings, bool allow_int8) {
  if (settings.threads < 1) throw UsageError("--threads must be at least 1");
  const Precision precision = parse_precision(settings.precision);
  if (precision == Precision::kInt8 && !allow_int8)
    throw UsageError("--precision int8 is for decoding (tfm-decode) only");
  set_engine_threads(settings.threads);
  if (set_gemm_precision(precision) != precision) note("this CPU has neither AVX512-BF16 nor AMX: computing in fp32");
}

}  // namespace tfm
