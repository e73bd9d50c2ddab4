#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <functional>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/data/vocabulary.h"
#include "tfm/io/hdf5.h"
#include "tfm/model/model_file.h"
#include "tfm/model/config.h"
#include "tfm/model/layers.h"
#include "tfm/model/params.h"
#include "tfm/model/transformer.h"
#include "tfm/tensor/random.h"
#include "tfm/tensor/threads.h"
#include "test_util.h"

using namespace tfm;
using tfm::test::skip_test_case;

namespace {

std::vector<float> random_vector(std::int64_t n, std::uint32_t stream, float scale = 1) {
  std::vector<float> v(static_cast<std::size_t>(n));
  fill_uniform({99, 0, stream}, n, -scale, scale, v.data());
  return v;
}

// Finite-difference check of a layer y = f(x; θ) with L = Σ y ⊙ w: ∂L/∂x and
// ∂L/∂θ from backward() against central differences at a few elements.
struct LayerCheck {
  ParamStore& store;
  std::int64_t in_size, out_size;
  std::function<float*(PassContext&, const float*)> forward;
  std::function<float*(PassContext&, const float*)> backward;

  double loss(std::vector<float>& x, const std::vector<float>& w) {
    Arena arena;
    PassContext ctx{store, arena, true, {5, 1, 0}, 0};
    float* y = forward(ctx, x.data());
    double l = 0;
    for (std::int64_t i = 0; i < out_size; ++i) l += static_cast<double>(y[i]) * w[i];
    return l;
  }

  void run() {
    fill_uniform({3, 0, 1}, store.size(), -0.5f, 0.5f, store.values());
    store.zero_grads();
    auto x = random_vector(in_size, 2), w = random_vector(out_size, 3);
    Arena arena;
    PassContext ctx{store, arena, true, {5, 1, 0}, 0};
    forward(ctx, x.data());
    std::vector<float> dx(static_cast<std::size_t>(in_size));
    std::memcpy(dx.data(), backward(ctx, w.data()), dx.size() * sizeof(float));
    const float h = 1e-2f;
    auto fd = [&](float* p) {
      float keep = *p;
      *p = keep + h;
      double up = loss(x, w);
      *p = keep - h;
      double down = loss(x, w);
      *p = keep;
      return (up - down) / (2 * h);
    };
    for (std::int64_t i = 0; i < in_size; i += std::max<std::int64_t>(1, in_size / 7))
      CHECK(fd(&x[i]) == doctest::Approx(dx[i]).epsilon(2e-2).scale(0.05));
    for (std::size_t p = 0; p < store.params().size(); ++p) {
      const ParamInfo& info = store.params()[p];
      for (std::int64_t e : {std::int64_t{0}, info.size / 2, info.size - 1}) {
        INFO(info.name << "[" << e << "]");
        CHECK(fd(store.value(static_cast<int>(p)) + e) ==
              doctest::Approx(store.grad(static_cast<int>(p))[e]).epsilon(2e-2).scale(0.05));
      }
    }
  }
};

ModelConfig tiny_config(bool pre_norm) {
  ModelConfig c;
  c.vocab_size = 17, c.d_model = 8, c.heads = 2, c.ffn = 12;
  c.encoder_layers = 2, c.decoder_layers = 2;
  c.dropout = 0.1f, c.attention_dropout = 0.1f, c.relu_dropout = 0.1f;
  c.pre_norm = pre_norm;
  c.max_positions = 16;
  return c;
}

TokenBatch tiny_batch(const ModelConfig& c) {
  TokenBatch b;
  make_token_batch({{4, 5, 6, 7, 8}, {9, 10}, {16, 4, 4}}, {{5, 6, 7}, {11, 12, 13, 14, 15, 4}, {5}},
                   c, b);
  return b;
}

}  // namespace

TEST_CASE("presets and configuration errors") {
  CHECK(preset_config("small").d_model == 256);
  CHECK(preset_config("base").encoder_layers == 6);
  CHECK(preset_config("big").dropout == doctest::Approx(0.3));
  CHECK_THROWS_AS(preset_config("huge"), UsageError);
  ModelConfig c = preset_config("tiny");
  c.vocab_size = 100;
  CHECK_NOTHROW(validate(c));
  c.heads = 3;
  CHECK_THROWS_AS(validate(c), UsageError);
}

TEST_CASE("batches follow the fairseq convention and reject bad ids") {
  ModelConfig c = tiny_config(false);
  TokenBatch b = tiny_batch(c);
  CHECK(b.batch == 3);
  CHECK(b.src_len == 6);
  CHECK(b.tgt_len == 7);
  CHECK(std::vector<int>(b.src.begin(), b.src.begin() + 6) == std::vector<int>{4, 5, 6, 7, 8, 3});
  CHECK(std::vector<int>(b.tgt_in.begin(), b.tgt_in.begin() + 7) ==
        std::vector<int>{2, 5, 6, 7, 0, 0, 0});
  CHECK(std::vector<int>(b.tgt_out.begin(), b.tgt_out.begin() + 7) ==
        std::vector<int>{5, 6, 7, 3, 0, 0, 0});
  CHECK(b.target_tokens == 4 + 7 + 2);
  TokenBatch with_unk;  // unknown words (id 1) reach the model as <unk>
  CHECK_NOTHROW(make_token_batch({{4, 1, 5}}, {{1, 6}}, c, with_unk));
  CHECK(with_unk.src[1] == 1);
  TokenBatch bad;
  CHECK_THROWS_AS(make_token_batch({{4, 17}}, {{5}}, c, bad), InputError);
  CHECK_THROWS_AS(make_token_batch({{4, 0}}, {{5}}, c, bad), InputError);
  CHECK_THROWS_AS(make_token_batch({{4, 2}}, {{5}}, c, bad), InputError);
  CHECK_THROWS_AS(make_token_batch({{4}}, {{5}, {6}}, c, bad), ShapeError);
}

TEST_CASE("parameter names and initialization") {
  ModelConfig c = tiny_config(false);
  Transformer model(c);
  ParamStore& p = model.params();
  CHECK(p.params()[p.index("encoder/layer_0/self_attn/q/weight")].shape ==
        std::vector<std::int64_t>{8, 8});
  CHECK_NOTHROW(p.index("decoder/layer_1/cross_attn/out/bias"));
  CHECK_NOTHROW(p.index("decoder/layer_1/ffn/fc2/weight"));
  CHECK_THROWS_AS(p.index("encoder/final_norm/weight"), Error);
  // q, k, v are one [3d, d] block.
  CHECK(p.value(p.index("encoder/layer_0/self_attn/k/weight")) ==
        p.value(p.index("encoder/layer_0/self_attn/q/weight")) + 64);
  p.initialize(1);
  float* gamma = p.value(p.index("decoder/layer_0/ffn_norm/weight"));
  CHECK(gamma[3] == 1.0f);
  float* w = p.value(p.index("encoder/layer_1/ffn/fc1/weight"));
  float bound = std::sqrt(6.0f / (12 + 8));
  for (int i = 0; i < 96; ++i) CHECK(std::abs(w[i]) <= bound);
  Transformer pre(tiny_config(true));
  CHECK_NOTHROW(pre.params().index("decoder/final_norm/bias"));
}

TEST_CASE("gradient check: feed-forward with ReLU dropout") {
  ParamStore store;
  SiteCounter sites;
  FeedForward ffn(store, "ffn", 6, 10, 0.2f, sites);
  store.allocate();
  LayerCheck{store, 5 * 6, 5 * 6,
             [&](PassContext& c, const float* x) { return ffn.forward(c, x, 5); },
             [&](PassContext& c, const float* dy) { return ffn.backward(c, dy); }}
      .run();
}

TEST_CASE("gradient check: self-attention, padded and causal, with dropout") {
  for (bool causal : {false, true}) {
    ParamStore store;
    SiteCounter sites;
    Attention attn(store, "attn", 6, 2, 0.2f, sites);
    store.allocate();
    std::vector<std::int32_t> len = {4, 2};
    LayerCheck{store, 2 * 4 * 6, 2 * 4 * 6,
               [&](PassContext& c, const float* x) {
                 return attn.forward_self(c, x, 2, 4, len.data(), causal);
               },
               [&](PassContext& c, const float* dy) { return attn.backward(c, dy); }}
        .run();
  }
}

TEST_CASE("gradient check: cross-attention, queries and memory") {
  ParamStore store;
  SiteCounter sites;
  Attention attn(store, "attn", 6, 3, 0.2f, sites);
  store.allocate();
  std::vector<std::int32_t> len = {5, 3};
  // x holds queries [2, 3, 6] then memory [2, 5, 6]; dx likewise.
  std::vector<float> dx(2 * 8 * 6);
  LayerCheck{store, 2 * 8 * 6, 2 * 3 * 6,
             [&](PassContext& c, const float* x) {
               return attn.forward_cross(c, x, x + 36, 2, 3, 5, len.data());
             },
             [&](PassContext& c, const float* dy) {
               std::fill(dx.begin(), dx.end(), 0.0f);
               float* dq = attn.backward(c, dy, dx.data() + 36);
               std::copy(dq, dq + 36, dx.begin());
               return dx.data();
             }}
      .run();
}

TEST_CASE("gradient check: residual sub-layers, post-norm and pre-norm") {
  for (bool pre : {false, true}) {
    ParamStore store;
    SiteCounter sites;
    Sublayer sub(store, "norm", 6, 0.2f, pre, sites);
    FeedForward ffn(store, "ffn", 6, 7, 0.0f, sites);
    store.allocate();
    LayerCheck{store, 4 * 6, 4 * 6,
               [&](PassContext& c, const float* x) {
                 return sub.forward(c, x, 4, [&](const float* in) { return ffn.forward(c, in, 4); });
               },
               [&](PassContext& c, const float* dy) {
                 return sub.backward(c, dy, [&](const float* g) { return ffn.backward(c, g); });
               }}
        .run();
  }
}

TEST_CASE("gradient check: the whole model, post-norm, pre-norm, R-Drop's twice-stacked batch, word dropout") {
  struct Variant {
    bool pre;
    float rdrop, word_dropout;
  };
  for (auto [pre, rdrop, word_dropout] : {Variant{false, 0, 0}, Variant{true, 0, 0}, Variant{false, 5, 0}, Variant{false, 0, 0.2f}}) {
    ModelConfig c = tiny_config(pre);
    c.source_word_dropout = c.target_word_dropout = word_dropout;
    Transformer model(c);
    ParamStore& p = model.params();
    p.initialize(11);
    TokenBatch b = tiny_batch(c);
    if (rdrop > 0) {
      TokenBatch once = b;
      stack_twice(once, b);
      CHECK(b.batch == 2 * once.batch);
      CHECK(b.target_tokens == 2 * once.target_tokens);
    }
    Arena arena;
    float scale = 1.0f / static_cast<float>(b.target_tokens);
    auto loss = [&] {
      arena.reset();
      LossStats s = model.train_batch(b, arena, {7, 3, 0}, 0, 0.0f, nullptr, rdrop);
      return s.loss * scale;
    };
    p.zero_grads();
    model.train_batch(b, arena, {7, 3, 0}, 0, scale, nullptr, rdrop);
    std::vector<float> grad(p.grads(), p.grads() + p.size());
    // Small enough for the pre-norm curvature; word dropout's larger kept
    // embeddings put ReLU kinks nearer, and its gradients hold at a third of it.
    const float h = word_dropout > 0 ? 1e-3f : 3e-3f;
    for (std::size_t i = 0; i < p.params().size(); ++i) {
      const ParamInfo& info = p.params()[i];
      for (std::int64_t e : {info.size / 3, info.size - 1}) {
        float* v = p.value(static_cast<int>(i)) + e;
        float keep = *v;
        *v = keep + h;
        double up = loss();
        *v = keep - h;
        double down = loss();
        *v = keep;
        INFO(info.name << "[" << e << "] pre_norm=" << pre << " rdrop=" << rdrop << " word_dropout=" << word_dropout);
        CHECK((up - down) / (2 * h) ==
              doctest::Approx(grad[info.offset + e]).epsilon(3e-2).scale(2e-3));
      }
    }
  }
}

TEST_CASE("word dropout drops whole source words: with all of them dropped, the loss ignores the source") {
  for (float p : {0.0f, 0.999f}) {
    ModelConfig c = tiny_config(false);
    c.dropout = c.attention_dropout = c.relu_dropout = c.target_word_dropout = 0;
    c.source_word_dropout = p;
    Transformer model(c);
    model.params().initialize(13);
    auto loss = [&](std::vector<std::vector<std::uint32_t>> src) {
      TokenBatch b;
      make_token_batch(src, {{5, 6, 7}, {11, 12, 13, 14, 15, 4}, {5}}, c, b);
      Arena arena;
      return model.train_batch(b, arena, {7, 3, 0}, 0, 0.0f).loss;
    };
    double original = loss({{4, 5, 6, 7, 8}, {9, 10}, {16, 4, 4}});
    double other_words = loss({{9, 9, 12, 13, 5}, {4, 16}, {8, 8, 11}});  // same lengths, other tokens
    INFO("source word dropout " << p);
    if (p > 0) CHECK(other_words == original);  // only positions and lengths reach the encoder
    else CHECK(other_words != doctest::Approx(original).epsilon(1e-4));
  }
}

TEST_CASE("set_dropout: a model changed to another dropout trains as one built with it") {
  ModelConfig c = tiny_config(false);
  c.dropout = 0.3f;
  Transformer changed(c);
  changed.params().initialize(5);
  auto pass = [&](Transformer& model) {
    TokenBatch b = tiny_batch(model.config());
    Arena arena;
    model.params().zero_grads();
    const double loss = model.train_batch(b, arena, {7, 3, 0}, 0, 1.0f).loss;
    return std::pair{loss, std::vector<float>(model.params().grads(), model.params().grads() + model.params().size())};
  };
  const auto before = pass(changed);
  changed.set_dropout(0.1f);
  CHECK(changed.config().dropout == 0.1f);
  c.dropout = 0.1f;
  Transformer built(c);
  built.params().initialize(5);
  const auto after = pass(changed), want = pass(built);
  CHECK(after.first == want.first);
  CHECK(after.second == want.second);
  CHECK(before.first != want.first);  // the embeddings' and every sub-layer's masks changed
  CHECK_THROWS_AS(changed.set_dropout(1.0f), UsageError);
  CHECK(changed.config().dropout == 0.1f);
}

TEST_CASE("a training pass is identical for 1 and 2 threads and allocates only once") {
  ModelConfig c = preset_config("tiny");
  c.vocab_size = 300, c.d_model = 64, c.ffn = 160;
  c.source_word_dropout = c.target_word_dropout = 0.1f;
  Transformer model(c);
  model.params().initialize(3);
  std::vector<std::vector<std::uint32_t>> src, tgt;
  for (std::uint32_t i = 0; i < 24; ++i) {
    src.push_back(std::vector<std::uint32_t>(13 + i % 7, 4 + i * 7 % 290));
    tgt.push_back(std::vector<std::uint32_t>(11 + i % 5, 5 + i * 11 % 290));
  }
  TokenBatch b;
  make_token_batch(src, tgt, c, b);
  Arena arena;
  float rdrop = 0;
  auto grads = [&](int threads) {
    set_engine_threads(threads);
    model.params().zero_grads();
    arena.reset();
    LossStats s = model.train_batch(b, arena, {1, 1, 0}, 0, 1.0f / b.target_tokens, nullptr, rdrop);
    set_engine_threads(1);
    CHECK(std::isfinite(s.loss));
    return std::vector<float>(model.params().grads(), model.params().grads() + model.params().size());
  };
  auto g1 = grads(1);
  std::size_t allocations = arena.allocations();
  auto g2 = grads(2);
  CHECK(std::memcmp(g1.data(), g2.data(), g1.size() * sizeof(float)) == 0);
  grads(1);
  CHECK(arena.allocations() == allocations);
  SUBCASE("R-Drop's twice-stacked batch") {
    TokenBatch once = b;
    stack_twice(once, b);
    rdrop = 5;
    CHECK(grads(1) == grads(2));
  }
}

TEST_CASE("PyTorch computes the same loss and gradients for the same weights and batch") {
  const char* script = "tests/bench/train_torch.py";
  if (!std::filesystem::exists(script) ||
      std::system("/usr/bin/python3 -c 'import torch, h5py' 2>/dev/null") != 0) {
    skip_test_case(std::string("needs ") + script + ", python3-torch and python3-h5py (make deps installs them)");
    return;
  }
  ModelConfig c = tiny_config(false);
  c.dropout = c.attention_dropout = c.relu_dropout = c.source_word_dropout = c.target_word_dropout = 0;
  Transformer model(c);
  model.params().initialize(21);
  TokenBatch b = tiny_batch(c);
  auto dir = std::filesystem::temp_directory_path() / "tfm-torch-check";
  std::filesystem::create_directories(dir);
  std::vector<std::string> tokens = {"<pad>", "<unk>", "<s>", "</s>"};
  for (int i = 4; i < c.vocab_size; ++i) tokens.push_back("t" + std::to_string(i));
  save_model((dir / "model.h5").string(), model, Vocabulary(tokens, "test"));
  {
    auto file = hdf5::File::create((dir / "batch.h5").string());
    auto put = [&](const char* name, const std::vector<std::int32_t>& ids, std::int64_t len) {
      std::vector<std::uint32_t> u(ids.begin(), ids.end());
      file.write<std::uint32_t>(name, u, {static_cast<std::uint64_t>(b.batch), static_cast<std::uint64_t>(len)});
    };
    put("src", b.src, b.src_len), put("tgt_in", b.tgt_in, b.tgt_len), put("tgt_out", b.tgt_out, b.tgt_len);
    file.commit();
  }
  std::string command = std::string("/usr/bin/python3 ") + script + " check " + (dir / "model.h5").string() +
                        " " + (dir / "batch.h5").string() + " " + (dir / "out.h5").string();
  REQUIRE(std::system(command.c_str()) == 0);
  Arena arena;
  model.params().zero_grads();
  LossStats ours = model.train_batch(b, arena, {1, 1, 0}, 0, 1.0f / static_cast<float>(b.target_tokens));
  auto out = hdf5::File::open((dir / "out.h5").string());
  CHECK(ours.loss == doctest::Approx(out.read_double_attribute("loss")).epsilon(1e-5));
  CHECK(ours.nll == doctest::Approx(out.read_double_attribute("nll")).epsilon(1e-5));
  ParamStore& p = model.params();
  for (std::size_t i = 0; i < p.params().size(); ++i) {
    const ParamInfo& info = p.params()[i];
    auto theirs = out.read<float>("grads/" + info.name);
    double diff = 0, norm = 0;
    for (std::int64_t e = 0; e < info.size; ++e) {
      diff += std::pow(p.grad(static_cast<int>(i))[e] - theirs[static_cast<std::size_t>(e)], 2);
      norm += std::pow(theirs[static_cast<std::size_t>(e)], 2);
    }
    INFO(info.name);
    // k biases have zero gradient (softmax ignores a constant shift): rounding only.
    CHECK(std::sqrt(diff) <= 1e-4 * std::sqrt(norm) + 1e-7);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("R-Drop without dropout: the twice-stacked batch has the plain batch's loss and gradient") {
  ModelConfig c = tiny_config(false);
  c.dropout = c.attention_dropout = c.relu_dropout = 0;  // both copies alike: the KL term is 0
  c.source_word_dropout = c.target_word_dropout = 0;
  Transformer model(c);
  model.params().initialize(5);
  TokenBatch once = tiny_batch(c), twice;
  stack_twice(once, twice);
  Arena arena;
  auto run = [&](const TokenBatch& b, float rdrop) {
    model.params().zero_grads();
    arena.reset();
    LossStats s = model.train_batch(b, arena, {1, 1, 0}, 0, 1.0f / static_cast<float>(b.target_tokens), nullptr, rdrop);
    return std::pair{s, std::vector<float>(model.params().grads(), model.params().grads() + model.params().size())};
  };
  auto [plain, plain_grads] = run(once, 0);
  auto [stacked, stacked_grads] = run(twice, 5);
  CHECK(stacked.tokens == 2 * plain.tokens);
  CHECK(stacked.nll == doctest::Approx(2 * plain.nll).epsilon(1e-6));
  CHECK(stacked.loss == doctest::Approx(2 * plain.loss).epsilon(1e-6));
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < plain_grads.size(); ++i)
    diff += std::pow(stacked_grads[i] - plain_grads[i], 2), norm += std::pow(plain_grads[i], 2);
  CHECK(std::sqrt(diff) <= 1e-5 * std::sqrt(norm));
}
