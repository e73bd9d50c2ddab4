// The compute settings a tool fixes once, before any work: how many engine
// threads (threads.h) and in which precision matrix products run (gemm.h).
// tfm-train and tfm-decode share this step so their --threads and
// --precision mean the same.
#pragma once

#include <string>

namespace tfm {

struct EngineSettings {
  int threads = 1;
  std::string precision = "fp32";  // fp32, bf16 or int8
};

// Applies `settings`. Throws UsageError for threads below 1, an unknown
// precision, or int8 unless `allow_int8` (training has no int8). Notes on
// stderr when bf16 is asked for on a CPU without it (products run in fp32).
void apply_engine_settings(const EngineSettings& settings, bool allow_int8);

}  // namespace tfm
