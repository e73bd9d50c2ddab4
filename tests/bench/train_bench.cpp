// Training throughput of libtfm on synthetic length-bucketed batches shaped
// like tests/bench/train_torch.py's: per batch Ls, Lt ~ U[20, 30], sentence
// lengths in [L−3, L], 4096 // Lt sentences, with matrix products in fp32
// or bf16 (PRECISION, default fp32). Prints one TSV line:
// preset threads tokens_per_s gflop_per_s peak_rss_mb step_s
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tfm/model/transformer.h"
#include "tfm/tensor/gemm.h"
#include "tfm/tensor/random.h"
#include "tfm/tensor/threads.h"
#include "tfm/train/trainer.h"

using namespace tfm;

namespace {

std::int64_t vocab_for(const std::string& preset) {
  return preset == "tiny" ? 8000 : preset == "small" ? 10000 : 37000;
}

TokenBatch synthetic_batch(const ModelConfig& c, std::uint64_t seed) {
  RngKey key{seed, 0, 0};
  std::uint64_t e = 0;
  auto draw = [&](std::uint32_t n) { return random_bits(key, e++) % n; };
  std::uint32_t ls = 20 + draw(11), lt = 20 + draw(11);
  std::vector<std::vector<std::uint32_t>> src, tgt;
  for (std::uint32_t i = 0; i < 4096 / lt; ++i) {
    std::vector<std::uint32_t> s(ls - draw(4)), t(lt - draw(4));
    for (auto& v : s) v = 4 + draw(static_cast<std::uint32_t>(c.vocab_size - 4));
    for (auto& v : t) v = 4 + draw(static_cast<std::uint32_t>(c.vocab_size - 4));
    src.push_back(s), tgt.push_back(t);
  }
  TokenBatch b;
  make_token_batch(src, tgt, c, b);
  return b;
}

// Useful training FLOPs of a batch (tests/bench/README formula).
double train_flops(const ModelConfig& c, const TokenBatch& b) {
  double d = c.d_model, f = c.ffn, v = c.vocab_size, ne = c.encoder_layers, nd = c.decoder_layers;
  double p_src = ne * (4 * d * d + 2 * d * f) + nd * 2 * d * d;
  double p_tgt = nd * (6 * d * d + 2 * d * f) + d * v;
  double n_src = 0, n_tgt = 0, attn = 0;
  for (std::int64_t i = 0; i < b.batch; ++i) {
    double ls = b.src_lengths[i], lt = b.tgt_lengths[i];
    n_src += ls, n_tgt += lt;
    attn += 4 * d * (ne * ls * ls + nd * lt * lt + nd * lt * ls);
  }
  return 6 * (n_src * p_src + n_tgt * p_tgt) + 3 * attn;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: train_bench PRESET THREADS STEPS [fp32|bf16]\n");
    return 2;
  }
  std::string preset = argv[1];
  int threads = std::atoi(argv[2]), steps = std::atoi(argv[3]);
  set_engine_threads(threads);
  Precision precision = parse_precision(argc == 5 ? argv[4] : "fp32");
  if (set_gemm_precision(precision) != precision) std::fprintf(stderr, "no bf16 on this CPU: fp32\n");
  ModelConfig c = preset_config(preset);
  c.vocab_size = vocab_for(preset);
  Transformer model(c);
  model.params().initialize(1);
  Trainer trainer(model, TrainerConfig{});
  std::vector<TokenBatch> batches;
  for (int i = 0; i < steps + 2; ++i) batches.push_back(synthetic_batch(c, 100 + i));
  for (int i = 0; i < 2; ++i) trainer.step(std::span<const TokenBatch>(&batches[i], 1));  // warm-up
  double tokens = 0, flops = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 2; i < steps + 2; ++i) {
    trainer.step(std::span<const TokenBatch>(&batches[i], 1));
    tokens += static_cast<double>(batches[i].target_tokens);
    flops += train_flops(c, batches[i]);
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("%s\t%d\t%.0f\t%.1f\t%.0f\t%.3f\n", preset.c_str(), threads, tokens / s, flops / s / 1e9,
              static_cast<double>(ru.ru_maxrss) / 1024.0, s / steps);
  return 0;
}
