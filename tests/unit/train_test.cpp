#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <new>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/model/model_file.h"
#include "tfm/model/transformer.h"
#include "tfm/tensor/gemm.h"
#include "tfm/tensor/random.h"
#include "tfm/train/checkpoint.h"
#include "tfm/train/collective.h"
#include "tfm/train/optimizer.h"
#include "tfm/train/trainer.h"
#include "test_util.h"

using namespace tfm;
using tfm::test::skip_test_case;

// Counts heap allocations through operator new (for the no-allocation test).
namespace {
std::atomic<std::size_t> g_allocations{0};
}
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// The nothrow form too (std::stable_sort's buffers use it), so that every
// allocation and release of the binary goes through malloc/free.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

// Copy-and-reverse: the target is the source backwards; symbols 4..23.
std::vector<TokenBatch> reverse_task(const ModelConfig& c, int batches, int sentences,
                                     std::uint64_t seed) {
  std::vector<TokenBatch> out(static_cast<std::size_t>(batches));
  std::uint64_t e = 0;
  for (auto& b : out) {
    std::vector<std::vector<std::uint32_t>> src, tgt;
    for (int s = 0; s < sentences; ++s) {
      RngKey key{seed, 0, 0};
      std::size_t len = 3 + random_bits(key, e++) % 6;
      std::vector<std::uint32_t> x(len);
      for (auto& v : x) v = 4 + random_bits(key, e++) % 20;
      src.push_back(x);
      tgt.emplace_back(x.rbegin(), x.rend());
    }
    make_token_batch(src, tgt, c, b);
  }
  return out;
}

ModelConfig reverse_model() {
  ModelConfig c;
  c.vocab_size = 24, c.d_model = 64, c.heads = 4, c.ffn = 128;
  c.encoder_layers = c.decoder_layers = 2;
  c.dropout = c.attention_dropout = 0.0f;
  c.max_positions = 32;
  return c;
}

TrainerConfig reverse_trainer() {
  TrainerConfig t;
  t.lr_scale = 0.2, t.warmup = 200, t.seed = 5;
  return t;
}

}  // namespace

TEST_CASE("Adam matches the textbook update with bias correction") {
  Adam adam(3, AdamConfig{});
  std::vector<float> p = {1, -2, 0.5f};
  std::vector<double> pd(p.begin(), p.end()), m(3, 0), v(3, 0);
  for (int t = 1; t <= 5; ++t) {
    std::vector<float> g = {0.1f * t, -0.3f, 2.0f / t};
    adam.update(p.data(), g.data(), 0.01);
    for (int i = 0; i < 3; ++i) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.98 * v[i] + 0.02 * double(g[i]) * g[i];
      double mh = m[i] / (1 - std::pow(0.9, t)), vh = v[i] / (1 - std::pow(0.98, t));
      pd[i] -= 0.01 * mh / (std::sqrt(vh) + 1e-9);
    }
  }
  for (int i = 0; i < 3; ++i) CHECK(p[i] == doctest::Approx(pd[i]).epsilon(1e-5));
  CHECK(adam.steps() == 5);
}

TEST_CASE("inverse square root schedule peaks at the end of warm-up") {
  double peak = inverse_sqrt_lr(4000, 512, 4000, 1.0);
  CHECK(peak == doctest::Approx(std::pow(512, -0.5) * std::pow(4000, -0.5)));
  CHECK(inverse_sqrt_lr(2000, 512, 4000, 1.0) == doctest::Approx(peak / 2));
  CHECK(inverse_sqrt_lr(16000, 512, 4000, 2.0) == doctest::Approx(peak));
}

TEST_CASE("the linear schedule warms up as the paper's, then falls to zero at the last update") {
  const double peak = inverse_sqrt_lr(100, 256, 100, 1.5);
  for (std::int64_t step : {1, 37, 100, 400, 900})
    CHECK(learning_rate(LrSchedule::kInverseSqrt, step, 256, 100, 1.5, 1000) == inverse_sqrt_lr(step, 256, 100, 1.5));
  for (std::int64_t step : {1, 37, 100})
    CHECK(learning_rate(LrSchedule::kLinear, step, 256, 100, 1.5, 1000) == inverse_sqrt_lr(step, 256, 100, 1.5));
  CHECK(learning_rate(LrSchedule::kLinear, 101, 256, 100, 1.5, 1000) == doctest::Approx(peak * 900 / 901));
  CHECK(learning_rate(LrSchedule::kLinear, 550, 256, 100, 1.5, 1000) == doctest::Approx(peak * 451 / 901));
  CHECK(learning_rate(LrSchedule::kLinear, 1000, 256, 100, 1.5, 1000) == doctest::Approx(peak / 901));
  CHECK(learning_rate(LrSchedule::kLinear, 1001, 256, 100, 1.5, 1000) == 0);
  CHECK(learning_rate(LrSchedule::kLinear, 5000, 256, 100, 1.5, 0) == doctest::Approx(peak));  // budget not known yet
  // A budget shorter than the warm-up: the rise, cut off after the last update.
  CHECK(learning_rate(LrSchedule::kLinear, 50, 256, 100, 1.5, 60) == inverse_sqrt_lr(50, 256, 100, 1.5));
  CHECK(learning_rate(LrSchedule::kLinear, 61, 256, 100, 1.5, 60) == 0);
  CHECK(parse_lr_schedule("linear") == LrSchedule::kLinear);
  CHECK(std::string(lr_schedule_name(parse_lr_schedule("inverse-sqrt"))) == "inverse-sqrt");
  CHECK_THROWS_WITH_AS(parse_lr_schedule("cosine"), "--lr-schedule must be inverse-sqrt or linear, not 'cosine'",
                       UsageError);
}

TEST_CASE("gradient accumulation normalizes by the step's target tokens") {
  ModelConfig c = reverse_model();
  auto data = reverse_task(c, 2, 6, 1);
  // The same sentences as one batch.
  std::vector<std::vector<std::uint32_t>> src, tgt;
  for (auto& b : data)
    for (std::int64_t i = 0; i < b.batch; ++i) {
      src.emplace_back(b.src.begin() + i * b.src_len, b.src.begin() + i * b.src_len + b.src_lengths[i] - 1);
      tgt.emplace_back(b.tgt_out.begin() + i * b.tgt_len, b.tgt_out.begin() + i * b.tgt_len + b.tgt_lengths[i] - 1);
    }
  std::vector<TokenBatch> whole(1);
  make_token_batch(src, tgt, c, whole[0]);
  auto run = [&](std::span<const TokenBatch> micro, std::int64_t freq) {
    Transformer model(c);
    model.params().initialize(2);
    TrainerConfig tc = reverse_trainer();
    tc.update_freq = freq;
    Trainer trainer(model, tc);
    StepResult r = trainer.step(micro);
    return std::pair(r, std::vector<float>(model.params().grads(), model.params().grads() + model.params().size()));
  };
  auto [r2, g2] = run(data, 2);
  auto [r1, g1] = run(whole, 1);
  CHECK(r1.stats.tokens == r2.stats.tokens);
  CHECK(r1.stats.loss == doctest::Approx(r2.stats.loss).epsilon(1e-5));
  CHECK(r1.grad_norm == doctest::Approx(r2.grad_norm).epsilon(1e-4));
  double worst = 0;
  for (std::size_t i = 0; i < g1.size(); ++i) worst = std::max(worst, double(std::abs(g1[i] - g2[i])));
  CHECK(worst < 1e-5);
}

TEST_CASE("a training step allocates nothing on the heap after the first") {
  ModelConfig c = reverse_model();
  c.dropout = c.attention_dropout = c.relu_dropout = 0.1f;
  Transformer model(c);
  model.params().initialize(2);
  TrainerConfig tc = reverse_trainer();
  tc.update_freq = 2, tc.clip_norm = 0.5f;
  Trainer trainer(model, tc);
  auto data = reverse_task(c, 2, 16, 3);
  set_engine_threads(2);
  trainer.step(data);
  std::size_t before = g_allocations.load();
  trainer.step(data);
  std::size_t after = g_allocations.load();
  set_engine_threads(1);
  CHECK(after == before);
}

TEST_CASE("a non-finite gradient skips the update; too many in a row stop the run") {
  ModelConfig c = reverse_model();
  Transformer model(c);
  model.params().initialize(2);
  Trainer trainer(model, reverse_trainer());
  auto data = reverse_task(c, 2, 4, 3);
  model.params().value(model.params().index("decoder/layer_1/ffn/fc2/bias"))[0] =
      std::numeric_limits<float>::infinity();
  std::vector<float> before(model.params().values(), model.params().values() + model.params().size());
  StepResult r = trainer.step(std::span<const TokenBatch>(data.data(), 1));
  CHECK(r.skipped);
  CHECK(std::memcmp(before.data(), model.params().values(), before.size() * sizeof(float)) == 0);
  CHECK(trainer.adam().steps() == 0);
  MemoryBatchStream stream(data);
  LoopState state;
  LoopLimits limits;
  limits.max_bad_steps = 3;
  CHECK_THROWS_AS(train_loop(trainer, stream, limits, state, nullptr), Error);
  CHECK(state.bad_steps_in_row == 4);
}

TEST_CASE("stopping on max steps and max epochs; a resumed loop equals an uninterrupted one") {
  ModelConfig c = reverse_model();
  c.dropout = c.attention_dropout = 0.1f;
  auto data = reverse_task(c, 3, 4, 4);
  auto params_after = [&](std::vector<std::int64_t> stops) {
    Transformer model(c);
    model.params().initialize(9);
    TrainerConfig tc = reverse_trainer();
    tc.update_freq = 2;
    Trainer trainer(model, tc);
    LoopState state;
    for (auto stop : stops) {
      // A fresh stream and trainer object each leg, as after a restart.
      MemoryBatchStream stream(data);
      LoopLimits limits;
      limits.max_steps = stop;
      CHECK(train_loop(trainer, stream, limits, state, nullptr) == StopReason::kMaxSteps);
    }
    CHECK(trainer.steps_done() == 7);
    CHECK(state.epoch == 5);  // 14 batches of 3 per epoch: 4 epochs done, 2 into the 5th
    CHECK(state.batch == 2);
    return std::vector<float>(model.params().values(), model.params().values() + model.params().size());
  };
  auto a = params_after({7}), b = params_after({3, 7});
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);

  Transformer model(c);
  model.params().initialize(9);
  Trainer trainer(model, reverse_trainer());
  MemoryBatchStream stream(data);
  LoopState state;
  LoopLimits limits;
  limits.max_epochs = 2;
  CHECK(train_loop(trainer, stream, limits, state, nullptr) == StopReason::kMaxEpochs);
  CHECK(trainer.steps_done() == 6);
}

namespace {

// Trains the tiny model on copy-and-reverse for 800 updates with the given
// gemm precision; returns the held-out token accuracy after checking that
// the loss falls.
double learn_reverse(Precision precision) {
  ModelConfig c = reverse_model();
  Transformer model(c);
  model.params().initialize(1);
  set_gemm_precision(precision);
  Trainer trainer(model, reverse_trainer());
  MemoryBatchStream stream(reverse_task(c, 200, 64, 10));
  std::vector<double> window_loss(4, 0.0);
  LoopLimits limits;
  limits.max_steps = 800;
  LoopState state;
  train_loop(trainer, stream, limits, state, [&](const StepResult& r, const LoopState&) {
    window_loss[static_cast<std::size_t>((r.step - 1) / 200)] += r.stats.loss / r.stats.tokens / 200;
    return true;
  });
  // Falls on average: no window of 200 updates above the previous one (beyond
  // noise once the label-smoothing floor is reached), the last far below the first.
  for (std::size_t w = 1; w < window_loss.size(); ++w) {
    INFO("window " << w << ": " << window_loss[w - 1] << " → " << window_loss[w]);
    CHECK(window_loss[w] < window_loss[w - 1] * 1.02);
  }
  CHECK(window_loss.back() < window_loss.front() / 2);
  LossStats held_out;
  for (const auto& b : reverse_task(c, 4, 64, 11)) held_out += trainer.evaluate(b);
  set_gemm_precision(Precision::kFp32);
  return static_cast<double>(held_out.correct) / static_cast<double>(held_out.tokens);
}

}  // namespace

TEST_CASE("a tiny model learns copy-and-reverse to 99% token accuracy") {
  double accuracy = learn_reverse(Precision::kFp32);
  MESSAGE("copy-and-reverse held-out token accuracy " << accuracy);
  CHECK(accuracy >= 0.99);
}

// Without bf16 instructions these would compare fp32 with itself.
constexpr const char* kNoBf16 = "this CPU has neither AVX512-BF16 nor AMX (bf16 runs in fp32)";

TEST_CASE("bf16 training learns copy-and-reverse as fp32 does") {
  if (!*bf16_isa()) {
    skip_test_case(kNoBf16);
    return;
  }
  double accuracy = learn_reverse(Precision::kBf16);
  MESSAGE("copy-and-reverse held-out token accuracy in bf16 (" << bf16_isa() << ") " << accuracy);
  CHECK(accuracy >= 0.99);
}

TEST_CASE("bf16 loss and gradients of a fixed batch are within bf16 rounding of fp32") {
  if (!*bf16_isa()) {
    skip_test_case(kNoBf16);
    return;
  }
  ModelConfig c = reverse_model();
  auto data = reverse_task(c, 1, 16, 7);
  auto run = [&](Precision precision) {
    Transformer model(c);
    model.params().initialize(3);
    set_gemm_precision(precision);
    Trainer trainer(model, reverse_trainer());
    StepResult r = trainer.step(data);
    set_gemm_precision(Precision::kFp32);
    return std::pair(r, std::vector<float>(model.params().grads(), model.params().grads() + model.params().size()));
  };
  auto [r32, g32] = run(Precision::kFp32);
  auto [r16, g16] = run(Precision::kBf16);
  CHECK(r16.stats.loss == doctest::Approx(r32.stats.loss).epsilon(1e-2));
  CHECK(r16.grad_norm == doctest::Approx(r32.grad_norm).epsilon(1e-2));
  // The gradient as a vector (single entries near zero have no meaningful
  // relative error): ‖g16 − g32‖ / ‖g32‖ is about 2.2e-2 with AVX512-BF16,
  // spread evenly over the tensors (2-4% each, except the last layer's
  // 0.5-0.7%: each layer further from the loss adds rounding), and as large
  // after 50 or 200 training steps (3.9e-2, 2.3e-2); keeping the logits, the
  // weight gradients or attention in fp32 does not change it. PyTorch 1.13's
  // bf16 autocast on the same model size and task: 2.4e-2 (and its loss is
  // off by 1.3e-3 where ours is off by 3e-5). So 3e-2, not the 1e-2 one might
  // hope for from a single bf16 rounding.
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < g32.size(); ++i) {
    diff += double(g16[i] - g32[i]) * (g16[i] - g32[i]);
    norm += double(g32[i]) * g32[i];
  }
  MESSAGE("bf16 gradient relative error " << std::sqrt(diff / norm));
  CHECK(std::sqrt(diff / norm) <= 3e-2);
  CHECK(g16 != g32);  // the bf16 path really ran
}

TEST_CASE("checkpoints round-trip parameters, moments and state; another model is refused") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("tfm-checkpoint-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  ModelConfig c = reverse_model();
  c.source_word_dropout = 0.25f, c.target_word_dropout = 0.125f;
  std::vector<std::string> tokens = {"<pad>", "<unk>", "<s>", "</s>"};
  for (int i = 4; i < c.vocab_size; ++i) tokens.push_back("w" + std::to_string(i));
  Vocabulary vocab(tokens, "test");
  Transformer model(c);
  model.params().initialize(4);
  Trainer trainer(model, reverse_trainer());
  auto data = reverse_task(c, 1, 8, 5);
  trainer.step(data);
  TrainingState state;
  state.step = 1, state.adam_steps = 1, state.seed = 5, state.loop.epoch = 2, state.loop.batch = 3;
  state.loop.elapsed = 1.25, state.best_valid_loss = 2.5;
  for (std::int64_t step : {1, 2, 3}) {  // list_checkpoints orders by the step stored in the file
    state.step = step;
    save_checkpoint(checkpoint_path(dir.string(), step), model, trainer.adam(), vocab, state);
  }
  prune_checkpoints(dir.string(), 2);
  auto files = list_checkpoints(dir.string());
  REQUIRE(files.size() == 2);
  CHECK(files[0].step == 2);
  CHECK(checkpoint_vocabulary(files[1].path) == vocab);
  ModelConfig stored = checkpoint_config(files[1].path);
  CHECK(stored.source_word_dropout == 0.25f);
  CHECK(stored.target_word_dropout == 0.125f);
  Transformer copy(c);
  Adam adam(copy.params().size(), AdamConfig{});
  TrainingState loaded;
  load_checkpoint(files[1].path, copy, adam, loaded);
  auto same = [](const float* a, const float* b, std::int64_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; };
  CHECK(same(copy.params().values(), model.params().values(), model.params().size()));
  CHECK(same(adam.m(), trainer.adam().m(), adam.size()));
  CHECK(same(adam.v(), trainer.adam().v(), adam.size()));
  CHECK(adam.steps() == 1);
  CHECK(loaded.loop.epoch == 2);
  CHECK(loaded.loop.batch == 3);
  CHECK(loaded.loop.elapsed == 1.25);
  CHECK(loaded.best_valid_loss == 2.5);
  // A run without validation has no best loss yet (infinity); it must load too.
  state.best_valid_loss = std::numeric_limits<double>::infinity();
  state.step = 4;
  save_checkpoint(checkpoint_path(dir.string(), 4), model, trainer.adam(), vocab, state);
  load_checkpoint(checkpoint_path(dir.string(), 4), copy, adam, loaded);
  CHECK(std::isinf(loaded.best_valid_loss));
  // One lister for training and tfm-average: checkpoints by the step stored
  // in them, whatever their names; model files and other HDF5 files skipped.
  fs::rename(checkpoint_path(dir.string(), 4), dir / "renamed.h5");
  save_model((dir / "model.h5").string(), model, vocab);
  files = list_checkpoints(dir.string());
  REQUIRE(files.size() == 3);
  CHECK(files[2].step == 4);
  CHECK(files[2].path == (dir / "renamed.h5").string());
  CHECK(last_checkpoints(dir.string(), 2) == std::vector<std::string>{files[1].path, files[2].path});
  CHECK_THROWS_AS(last_checkpoints(dir.string(), 4), InputError);
  fs::copy_file(files[2].path, dir / "copy.h5");
  CHECK_THROWS_AS(list_checkpoints(dir.string()), InputError);  // two files of step 4
  ModelConfig other = c;
  other.ffn = 64;
  Transformer wrong(other);
  Adam wrong_adam(wrong.params().size(), AdamConfig{});
  CHECK_THROWS_AS(load_checkpoint(files[1].path, wrong, wrong_adam, loaded), InputError);
  // A state no run can reach (a damaged or edited checkpoint) is refused by name.
  for (auto damage : {+[](TrainingState& s) { s.loop.batch = -1; }, +[](TrainingState& s) { s.adam_steps = 9; },
                      +[](TrainingState& s) { s.loop.elapsed = -1; }}) {
    TrainingState bad = state;
    damage(bad);
    const std::string path = checkpoint_path(dir.string(), 5);
    save_checkpoint(path, model, trainer.adam(), vocab, bad);
    const std::string want = path + ": /state holds impossible values (damaged checkpoint)";
    CHECK_THROWS_WITH_AS(load_checkpoint(path, copy, adam, loaded), want.c_str(), InputError);
  }
  fs::remove_all(dir);
}

TEST_CASE("a /state string longer than the archive is refused before it is allocated") {
  namespace fs = std::filesystem;
  const std::string path =
      (fs::temp_directory_path() / ("tfm-state-test-" + std::to_string(::getpid()) + ".h5")).string();
  ModelConfig c = reverse_model();
  // A checkpoint as far as load_checkpoint reads before /state: format and config.
  auto write_checkpoint = [&](const std::string& state) {
    hdf5::File file = hdf5::File::create(path);
    hdf5::write_format(file, kCheckpointFormat, kCheckpointFormatVersion);
    hdf5::Group config = file.create_group("config");
    write_config(config, c);
    file.write_strings("state", {state});
    file.commit();
  };
  Transformer model(c);
  Adam adam(model.params().size(), AdamConfig{});
  TrainingState loaded;
  // The header's 22-byte signature said to be 4 GB long.
  write_checkpoint("4000000000 serialization::archive 19 1 0\n12 12 0 1 0 0 0 0 0 0 0\n");
  const std::string want = path + ": /state is damaged: a string of 4000000000 bytes where 54 are left";
  CHECK_THROWS_WITH_AS(load_checkpoint(path, model, adam, loaded), want.c_str(), InputError);
  write_checkpoint("000000000000400000000001");  // fuzz_training_state's finding: a length and nothing after it
  const std::string at_end = path + ": /state is damaged: a string of 400000000001 bytes where 0 are left";
  CHECK_THROWS_WITH_AS(load_checkpoint(path, model, adam, loaded), at_end.c_str(), InputError);
  fs::remove(path);
}

TEST_CASE("each layer's gradient range is reported once, when the backward pass is done with it") {
  for (bool pre_norm : {false, true}) {
    ModelConfig c = reverse_model();
    c.pre_norm = pre_norm;
    Transformer model(c);
    model.params().initialize(3);
    TokenBatch batch = reverse_task(c, 1, 8, 3)[0];
    Arena arena;
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    std::vector<std::vector<float>> at_report;
    const float* grads = model.params().grads();
    Transformer::GradsReady ready = [&](std::int64_t begin, std::int64_t end) {
      ranges.emplace_back(begin, end);
      at_report.emplace_back(grads + begin, grads + end);
    };
    model.params().zero_grads();
    model.train_batch(batch, arena, RngKey{1, 1, 0}, 0, 1.0f, &ready);
    REQUIRE(ranges.size() == static_cast<std::size_t>(c.encoder_layers + c.decoder_layers));
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      auto [begin, end] = ranges[i];
      CHECK(std::memcmp(at_report[i].data(), grads + begin, static_cast<std::size_t>(end - begin) * sizeof(float)) == 0);
    }
    // Disjoint, and every layer parameter lies in one of them.
    auto sorted = ranges;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 1; i < sorted.size(); ++i) CHECK(sorted[i - 1].second <= sorted[i].first);
    for (const ParamInfo& p : model.params().params()) {
      bool in_layer = p.name.find("/layer_") != std::string::npos;
      bool covered = std::any_of(ranges.begin(), ranges.end(), [&](auto r) {
        return r.first <= p.offset && p.offset + p.size <= r.second;
      });
      CHECK_MESSAGE(covered == in_layer, p.name);
    }
  }
}

namespace {

// Two ranks where the other one had exactly this rank's batches: every sum
// doubles; a gradient float summed twice or never shows in the update.
class MirroredPair : public Collective {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void sum(double* values, std::size_t n) override {
    for (std::size_t i = 0; i < n; ++i) values[i] *= 2;
  }
  void start_sum(float* values, std::size_t n) override {
    started.emplace_back(values, n);
  }
  void advance() override {}
  void finish_sums() override {
    for (auto [values, n] : started)
      for (std::size_t i = 0; i < n; ++i) values[i] *= 2;
    started.clear();
  }
  void broadcast(void*, std::size_t) override {}
  std::vector<std::pair<float*, std::size_t>> started;

 protected:
  void end_job(const std::string&, int) override {}
};

}  // namespace

TEST_CASE("two ranks with the same batch make the update of one process with it twice") {
  ModelConfig c = reverse_model();  // no dropout: both micro-batches see the same masks
  c.pre_norm = true;  // final norms after the layers: a gap at each end of the reported ranges
  TokenBatch batch = reverse_task(c, 1, 8, 9)[0];
  Transformer one(c), ranked(c);
  one.params().initialize(2);
  ranked.params().initialize(2);
  Trainer single(one, reverse_trainer());
  MirroredPair job;
  Trainer parallel(ranked, reverse_trainer(), &job);
  for (int step = 0; step < 3; ++step) {
    std::vector<TokenBatch> twice = {batch, batch};
    StepResult a = single.step(twice);
    StepResult b = parallel.step(std::span<const TokenBatch>(&batch, 1));
    CHECK(b.stats.tokens == a.stats.tokens);
    CHECK(b.stats.loss == doctest::Approx(a.stats.loss).epsilon(1e-6));
    CHECK(b.grad_norm == doctest::Approx(a.grad_norm).epsilon(1e-5));
    // Gradients equal to rounding: each float was summed exactly once.
    float largest = 0, worst = 0;
    for (std::int64_t i = 0; i < one.params().size(); ++i) {
      largest = std::max(largest, std::abs(one.params().grads()[i]));
      worst = std::max(worst, std::abs(one.params().grads()[i] - ranked.params().grads()[i]));
    }
    CHECK(worst <= 1e-5f * largest);
  }
}
