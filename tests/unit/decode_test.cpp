#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "test_util.h"
#include "tfm/core/error.h"
#include "tfm/data/vocabulary.h"
#include "tfm/decode/search.h"
#include "tfm/decode/translator.h"
#include "tfm/io/hdf5.h"
#include "tfm/model/average.h"
#include "tfm/model/incremental_decoder.h"
#include "tfm/model/model_file.h"
#include "tfm/model/transformer.h"
#include "tfm/tensor/gemm.h"
#include "tfm/tensor/threads.h"
#include "tfm/train/checkpoint.h"

using namespace tfm;
using tfm::test::TempDir;
namespace fs = std::filesystem;

namespace {

// 4 specials + 3 words: small enough to enumerate every output.
ModelConfig tiny(bool pre_norm = false, std::int64_t vocab = 7) {
  ModelConfig c = preset_config("tiny");
  c.vocab_size = vocab;
  c.d_model = 16;
  c.heads = 2;
  c.ffn = 32;
  c.encoder_layers = 2;
  c.decoder_layers = 2;
  c.pre_norm = pre_norm;
  c.max_positions = 40;
  return c;
}

// A random model whose output distributions are far from uniform.
std::unique_ptr<Transformer> random_model(const ModelConfig& c, std::uint64_t seed) {
  auto m = std::make_unique<Transformer>(c);
  m->params().initialize(seed);
  float* e = m->params().value(m->params().index("embed/weight"));
  for (std::int64_t i = 0; i < c.vocab_size * c.d_model; ++i) e[i] *= 3;
  return m;
}

// Σ log p(tgt </s> | src) by feeding the target one token at a time.
float sequence_log_prob(IncrementalDecoder& dec, const std::vector<std::int32_t>& src,
                        const std::vector<std::int32_t>& tgt) {
  dec.start({src}, static_cast<std::int64_t>(tgt.size()) + 1);
  std::vector<std::int32_t> tokens{kBosId};
  float sum = 0;
  for (std::size_t t = 0; t <= tgt.size(); ++t) {
    const float* lp = dec.step(tokens);
    tokens[0] = t < tgt.size() ? tgt[t] : kEosId;
    sum += lp[tokens[0]];
  }
  return sum;
}

// Every output of at most max_len tokens (no <pad>/<s>), scored, best first.
std::vector<Hypothesis> exhaustive(IncrementalDecoder& dec, const std::vector<std::int32_t>& src,
                                   std::int64_t vocab, std::int64_t max_len, double alpha) {
  std::vector<Hypothesis> all;
  std::vector<std::vector<std::int32_t>> frontier{{}};
  for (std::int64_t len = 0; len <= max_len; ++len) {
    std::vector<std::vector<std::int32_t>> next;
    for (const auto& y : frontier) {
      Hypothesis h{y, {}, sequence_log_prob(dec, src, y), 0};
      h.score = static_cast<float>(h.log_prob / length_penalty(len + 1, alpha));
      all.push_back(h);
      for (std::int32_t w = 0; w < vocab; ++w) {
        if (w == kPadId || w == kBosId || w == kEosId) continue;
        next.push_back(y);
        next.back().push_back(w);
      }
    }
    frontier = std::move(next);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.score != b.score ? a.score > b.score : a.tokens < b.tokens;
  });
  return all;
}

std::vector<std::vector<std::int32_t>> sample_sources() {
  return {{4, 5, 6}, {6}, {5, 5, 4, 6, 4, 5}, {4, 1, 6, 6}, {5, 4}, {6, 6, 6, 5, 4, 4, 5, 6, 4}};
}

void check_same(const Hypothesis& a, const Hypothesis& b, float tolerance) {
  CHECK(a.tokens == b.tokens);
  CHECK(a.alignment == b.alignment);
  if (tolerance == 0) {
    CHECK(a.score == b.score);
    CHECK(a.log_prob == b.log_prob);
  } else {
    CHECK(a.score == doctest::Approx(b.score).epsilon(tolerance));
    CHECK(a.log_prob == doctest::Approx(b.log_prob).epsilon(tolerance));
  }
}

}  // namespace

TEST_CASE("cached incremental decoding equals the training forward pass") {
  for (bool pre_norm : {false, true}) {
    ModelConfig c = tiny(pre_norm, 12);
    auto model = random_model(c, 5);
    IncrementalDecoder dec(*model);
    std::vector<std::vector<std::uint32_t>> src{{4, 5, 6, 7}, {8}, {11, 10, 9, 8, 7, 6, 5}};
    std::vector<std::vector<std::uint32_t>> tgt{{9, 10}, {4, 5, 6, 7, 8, 9, 10, 11}, {}};
    for (std::size_t i = 0; i < src.size(); ++i) {
      TokenBatch b;
      make_token_batch({src[i]}, {tgt[i]}, c, b);
      Arena arena;
      double nll = model->evaluate(b, arena).nll;
      float cached = sequence_log_prob(dec, std::vector<std::int32_t>(src[i].begin(), src[i].end()),
                                       std::vector<std::int32_t>(tgt[i].begin(), tgt[i].end()));
      CHECK(cached == doctest::Approx(-nll).epsilon(1e-5));
    }
  }
}

// Sets the process-wide precision and the weight copies it reads, as
// tfm-decode does; undone when it goes out of scope.
struct PrecisionScope {
  PrecisionScope(Precision p, Transformer& model, const IncrementalDecoder& dec) {
    set_gemm_precision(p);
    if (p == Precision::kBf16) add_bf16_shadow(model.params().values(), model.params().size());
    if (p == Precision::kInt8)
      for (const auto& w : dec.linear_weights()) add_int8_weight(w.values, w.rows, w.cols);
  }
  ~PrecisionScope() {
    clear_bf16_shadows();
    clear_int8_weights();
    set_gemm_precision(Precision::kFp32);
  }
};

TEST_CASE("cached decoding equals the forward pass at head sizes of every vector path, in every precision") {
  // Head sizes 64 (whole blocks of four vectors), 20 (one vector and a tail)
  // and 96 (a block and two vectors); bf16 and int8 keep the caches in bf16.
  // The forward pass is fp32: the tolerance is the reduced precision's.
  for (auto [d, heads] : {std::pair{128, 2}, std::pair{40, 2}, std::pair{96, 1}}) {
    ModelConfig c = tiny(false, 12);
    c.d_model = d, c.heads = heads;
    auto model = random_model(c, 9);
    for (Precision p : {Precision::kFp32, Precision::kBf16, Precision::kInt8}) {
      CAPTURE(d);
      CAPTURE(static_cast<int>(p));
      IncrementalDecoder dec(*model);
      std::optional<PrecisionScope> scope;
      if (p != Precision::kFp32) scope.emplace(p, *model, dec);
      // bf16 on a CPU without it runs in fp32, caches included.
      const bool reduced = p != Precision::kFp32 && gemm_precision() == p;
      std::vector<std::uint32_t> src{4, 5, 6, 7, 8, 9}, tgt{9, 10, 4, 5, 6, 7, 8, 9, 10, 11, 4};
      TokenBatch b;
      make_token_batch({src}, {tgt}, c, b);
      float cached = sequence_log_prob(dec, std::vector<std::int32_t>(src.begin(), src.end()),
                                       std::vector<std::int32_t>(tgt.begin(), tgt.end()));
      scope.reset();
      Arena arena;
      double nll = model->evaluate(b, arena).nll;
      CHECK(cached == doctest::Approx(-nll).epsilon(p == Precision::kFp32 ? 1e-5 : 3e-2));
      if (reduced) CHECK(cached != doctest::Approx(-nll).epsilon(1e-6));
    }
  }
}

TEST_CASE("beam search finds what an exhaustive search finds") {
  std::uint64_t seed = 7;
  for (double alpha : {0.0, 0.6, 2.0, -0.5}) {  // -0.5: shorter is better, no early stop
    ModelConfig c = tiny(alpha > 1);
    auto model = random_model(c, ++seed);
    IncrementalDecoder dec(*model);
    SearchConfig s;
    s.beam = 25;  // ≥ every candidate of a step (4 · 5 + ...): the search is exact
    s.nbest = 5;
    s.alpha = alpha;
    s.min_len = 0;
    s.max_len_a = 0;
    s.max_len_b = 2;
    for (const auto& src : sample_sources()) {
      auto want = exhaustive(dec, src, c.vocab_size, s.max_len_b, alpha);
      auto got = beam_search({&dec}, {src}, s);
      REQUIRE(got.size() == 1);
      REQUIRE(got[0].size() == 5);
      for (std::size_t k = 0; k < 5; ++k) {
        INFO("alpha ", alpha, " rank ", k, " got ", got[0][k].score, " want ", want[k].score, " ", want[k].tokens.size());
        CHECK(got[0][k].tokens == want[k].tokens);
        CHECK(got[0][k].score == doctest::Approx(want[k].score).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("batched decoding equals one-by-one decoding; beam 1 equals greedy") {
  ModelConfig c = tiny(false, 10);
  auto model = random_model(c, 11);
  IncrementalDecoder dec(*model);
  SearchConfig s;
  s.nbest = 2;
  auto sources = sample_sources();
  auto batched = beam_search({&dec}, sources, s);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    auto alone = beam_search({&dec}, {sources[i]}, s);
    REQUIRE(alone[0].size() == batched[i].size());
    for (std::size_t k = 0; k < alone[0].size(); ++k) check_same(batched[i][k], alone[0][k], 1e-5f);
  }
  s.beam = 1;
  s.nbest = 1;
  auto greedy = greedy_search({&dec}, sources, s);
  auto beam1 = beam_search({&dec}, sources, s);
  for (std::size_t i = 0; i < sources.size(); ++i) check_same(greedy[i], beam1[i][0], 0);
}

TEST_CASE("int8 decoding: batched equals one-by-one, any thread count") {
  // Per-row scales and exact int32 sums: a row's result depends on the row only.
  ModelConfig c = tiny(false, 10);
  c.d_model = 32;
  auto model = random_model(c, 19);
  IncrementalDecoder dec(*model);
  PrecisionScope scope(Precision::kInt8, *model, dec);
  SearchConfig s;
  s.nbest = 2;
  auto sources = sample_sources();
  auto batched = beam_search({&dec}, sources, s);
  set_engine_threads(2);
  auto two = beam_search({&dec}, sources, s);
  set_engine_threads(1);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    auto alone = beam_search({&dec}, {sources[i]}, s);
    REQUIRE(alone[0].size() == batched[i].size());
    for (std::size_t k = 0; k < alone[0].size(); ++k) {
      check_same(batched[i][k], alone[0][k], 0);
      check_same(batched[i][k], two[i][k], 0);
    }
  }
}

TEST_CASE("length limits, thread count and ensembles") {
  ModelConfig c = tiny(false, 10);
  auto model = random_model(c, 13);
  IncrementalDecoder dec(*model);
  SearchConfig s;
  s.max_len_a = 0;
  s.max_len_b = 3;
  s.min_len = 2;
  auto sources = sample_sources();
  auto one = beam_search({&dec}, sources, s);
  for (const auto& h : one) {
    CHECK(h[0].tokens.size() >= 2);
    CHECK(h[0].tokens.size() <= 3);
    for (auto a : h[0].alignment) CHECK(a >= 0);
  }
  set_engine_threads(2);
  auto two = beam_search({&dec}, sources, s);
  set_engine_threads(1);
  for (std::size_t i = 0; i < sources.size(); ++i) check_same(one[i][0], two[i][0], 0);
  IncrementalDecoder same(*model);
  auto ensemble = beam_search({&dec, &same}, sources, s);
  for (std::size_t i = 0; i < sources.size(); ++i) check_same(one[i][0], ensemble[i][0], 0);
  auto other = random_model(c, 17);
  IncrementalDecoder dec2(*other);
  auto mixed = beam_search({&dec, &dec2}, {sources[0]}, s);
  float lp = (sequence_log_prob(dec, sources[0], mixed[0][0].tokens) +
              sequence_log_prob(dec2, sources[0], mixed[0][0].tokens)) / 2;
  CHECK(mixed[0][0].log_prob == doctest::Approx(lp).epsilon(1e-5));
}

TEST_CASE("length penalty, output length, batches and option checks") {
  CHECK(length_penalty(1, 0.6) == doctest::Approx(1.0));
  CHECK(length_penalty(7, 0.6) == doctest::Approx(std::pow(2.0, 0.6)));
  CHECK(length_penalty(30, 0.0) == 1.0);
  ModelConfig c = tiny();
  SearchConfig s;
  CHECK(max_output_length(10, s, c) == 39);  // capped: max_positions − 1
  s.max_len_b = 5;
  CHECK(max_output_length(10, s, c) == 15);
  std::vector<std::vector<std::int32_t>> sent{{4, 4, 4}, {}, {4}, {4, 4}, {4, 4, 4, 4, 4, 4}, {4}};
  auto b = length_sorted_batches(sent, 2, 0);
  CHECK(b == std::vector<std::vector<std::size_t>>{{2, 5}, {3, 0}, {4}});
  b = length_sorted_batches(sent, 10, 6);  // count × (longest + 1) ≤ 6
  CHECK(b == std::vector<std::vector<std::size_t>>{{2, 5}, {3}, {0}, {4}});
  s.nbest = 5;
  CHECK_THROWS_AS(validate(s), UsageError);
  s.nbest = 1;
  s.beam = 0;
  CHECK_THROWS_AS(validate(s), UsageError);
}

namespace {

Vocabulary tiny_vocabulary(const std::string& last = "c") {
  return Vocabulary({"<pad>", "<unk>", "<s>", "</s>", "a", "b", last}, "test");
}

std::vector<float> file_params(const std::string& path, const ParamStore& store) {
  std::vector<float> v(static_cast<std::size_t>(store.size()));
  read_params(hdf5::File::open(path).open_group("params"), store, v.data());
  return v;
}

}  // namespace

TEST_CASE("averaging: the mean of the inputs, one input bit for bit, mismatches refused") {
  TempDir dir("tfm-decode-test-");
  ModelConfig c = tiny();
  std::vector<std::string> files;
  std::vector<std::unique_ptr<Transformer>> models;
  for (std::uint64_t seed : {1, 2, 3}) {
    models.push_back(random_model(c, seed));
    files.push_back(dir / ("m" + std::to_string(seed) + ".h5"));
    save_model(files.back(), *models.back(), tiny_vocabulary());
  }
  const ParamStore& store = models[0]->params();
  average_models(files, {}, dir / "avg.h5");
  auto avg = file_params(dir / "avg.h5", store);
  for (std::int64_t i = 0; i < store.size(); ++i) {
    double sum = 0;
    for (auto& m : models) sum += static_cast<double>(m->params().values()[i]);
    REQUIRE(avg[static_cast<std::size_t>(i)] == static_cast<float>(sum / 3));
  }
  average_models(files, {1, 0, 3}, dir / "weighted.h5");
  auto weighted = file_params(dir / "weighted.h5", store);
  CHECK(weighted[5] == doctest::Approx((models[0]->params().values()[5] + 3 * models[2]->params().values()[5]) / 4));
  average_models({files[1]}, {}, dir / "one.h5");
  auto one = file_params(dir / "one.h5", store);
  CHECK(std::equal(one.begin(), one.end(), models[1]->params().values()));
  CHECK(load_model(dir / "one.h5").vocabulary == tiny_vocabulary());

  ModelConfig wider = c;
  wider.ffn = 64;
  save_model(dir / "wide.h5", *random_model(wider, 4), tiny_vocabulary());
  save_model(dir / "vocab.h5", *models[0], tiny_vocabulary("z"));
  for (auto [bad, what] : {std::pair{"wide.h5", "config ffn is 64, not 32"},
                           std::pair{"vocab.h5", "vocabulary token 6 is 'z', not 'c'"}}) {
    try {
      average_models({files[0], dir / bad}, {}, dir / "out.h5");
      FAIL("mismatch accepted");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find(what) != std::string::npos);
      CHECK(std::string(e.what()).find(files[0]) != std::string::npos);
    }
  }
  fs::copy_file(files[2], dir / "cut.h5");
  fs::resize_file(dir / "cut.h5", fs::file_size(dir / "cut.h5") / 2);
  try {
    average_models({files[0], dir / "cut.h5"}, {}, dir / "out.h5");
    FAIL("truncated file accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("cut.h5") != std::string::npos);
  }
  CHECK(!fs::exists(dir / "out.h5"));
  CHECK_THROWS_AS(average_models(files, {1, 2}, dir / "out.h5"), UsageError);
  CHECK_THROWS_AS(average_models(files, {1, -1, 1}, dir / "out.h5"), UsageError);
}

TEST_CASE("the translator keeps input order, maps unknown tokens and truncates long lines") {
  TempDir dir("tfm-decode-test-");
  ModelConfig c = tiny();
  c.max_positions = 6;
  save_model(dir / "m.h5", *random_model(c, 3), tiny_vocabulary());
  DecodeOptions o;
  o.search.max_len_b = 3;
  o.batch_size = 2;
  Translator t({dir / "m.h5"}, o);
  std::vector<std::string> lines{"a b c", "", "c", "zzz a", "a b c a b c a"};
  auto out = t.translate(lines, 1, "input");
  REQUIRE(out.size() == 5);
  CHECK(out[1].empty());
  for (std::size_t i : {0, 2, 3, 4}) {
    DecodeOptions one = o;
    one.batch_size = 1;
    CHECK(Translator({dir / "m.h5"}, one).translate({lines[i]}, 1, "input")[0] == out[i]);
  }
  auto unk = t.translate({"<unk> a"}, 1, "input");
  CHECK(unk[0] == out[3]);
  auto cut = t.translate({"a b c a b"}, 1, "input");
  CHECK(cut[0] == out[4]);  // both truncated to max_positions − 1 = 5 tokens
  o.strict = true;
  CHECK_THROWS_AS(Translator({dir / "m.h5"}, o).translate({"a b c a b c"}, 7, "input"), InputError);
  CHECK_THROWS_AS(t.translate({"a \xff"}, 1, "input"), InputError);
  CHECK_THROWS_AS(load_model(dir / "missing.h5"), IoError);
  o.batch_size = 0;
  CHECK_THROWS_AS(Translator({dir / "m.h5"}, o), UsageError);
}

TEST_CASE("model files of another format or version, or with missing datasets, are refused") {
  TempDir dir("tfm-decode-test-");
  auto message = [&](const std::string& path) {
    try {
      load_model(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  {
    hdf5::File f = hdf5::File::create(dir / "v2.h5");
    hdf5::write_format(f, kModelFormat, 2);
    f.commit();
  }
  CHECK(message(dir / "v2.h5").find("found format_version 2") != std::string::npos);
  {
    hdf5::File f = hdf5::File::create(dir / "empty.h5");
    hdf5::write_format(f, kModelFormat, kModelFormatVersion);
    f.commit();
  }
  CHECK(message(dir / "empty.h5").find("no /config group") != std::string::npos);
  {
    ModelConfig c = tiny();
    hdf5::File f = hdf5::File::create(dir / "noparams.h5");
    hdf5::write_format(f, kModelFormat, kModelFormatVersion);
    hdf5::Group g = f.create_group("config");
    write_config(g, c);
    tiny_vocabulary().save(f, "vocab");
    f.create_group("params");
    f.commit();
  }
  CHECK(message(dir / "noparams.h5").find("no parameter /params/embed/weight") != std::string::npos);
  {  // written before word dropout existed: no such attributes, read as none
    hdf5::File f = hdf5::File::create(dir / "older.h5");
    hdf5::Group g = f.create_group("config");
    for (const char* name : {"vocab_size", "d_model", "heads", "ffn", "encoder_layers", "decoder_layers", "pre_norm",
                             "max_positions"})
      g.write_int_attribute(name, 8);
    for (const char* name : {"dropout", "attention_dropout", "relu_dropout", "label_smoothing"})
      g.write_double_attribute(name, 0.1);
    f.commit();
    ModelConfig c = read_config(hdf5::File::open(dir / "older.h5").open_group("config"));
    CHECK(c.d_model == 8);
    CHECK(c.relu_dropout == 0.1f);
    CHECK(c.source_word_dropout == 0.0f);
    CHECK(c.target_word_dropout == 0.0f);
  }
}

namespace {

// A vocabulary of several output panels (at d_model 16 a panel is 8,192
// tokens wide) and a short last one.
ModelConfig many_panels(std::int64_t vocab = 20000) {
  ModelConfig c = tiny(false, vocab);
  c.max_positions = 12;
  return c;
}

}  // namespace

TEST_CASE("step_best keeps what step's rows hold: log-sum-exp, special tokens, the best others") {
  for (std::int64_t vocab : {std::int64_t{20000}, std::int64_t{7}}) {
    CAPTURE(vocab);
    ModelConfig c = many_panels(vocab);
    auto model = random_model(c, 23);
    IncrementalDecoder whole(*model), best(*model);
    std::vector<std::vector<std::int32_t>> src{{4, 5, 6}, {6, 6}};
    whole.start(src, 3);
    best.start(src, 3);
    const std::int64_t width = 6;
    std::vector<std::int32_t> tokens{kBosId, kBosId};
    for (int t = 0; t < 3; ++t) {
      const float* lp = whole.step(tokens);
      const IncrementalDecoder::BestTokens& b = best.step_best(tokens, width);
      REQUIRE(b.width == width);
      for (std::int64_t r = 0; r < 2; ++r) {
        const float* row = lp + r * vocab;
        const float lse = b.log_sum_exp[static_cast<std::size_t>(r)];
        for (std::int64_t s = 0; s < 4; ++s) CHECK(row[s] == b.special_logits[static_cast<std::size_t>(r * 4 + s)] - lse);
        // The others by log-probability, highest first, ties to the lower token.
        std::vector<std::int32_t> order(static_cast<std::size_t>(vocab - 4));
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int32_t>(i + 4);
        std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) { return row[a] > row[b]; });
        for (std::int64_t k = 0; k < width; ++k) {
          const auto at = static_cast<std::size_t>(r * width + k);
          if (k >= vocab - 4) {  // past the vocabulary's end
            CHECK(b.tokens[at] == -1);
            CHECK(b.logits[at] == -std::numeric_limits<float>::infinity());
            continue;
          }
          CHECK(b.tokens[at] == order[static_cast<std::size_t>(k)]);
          CHECK(row[b.tokens[at]] == b.logits[at] - lse);
        }
      }
      tokens = {b.tokens[0], b.tokens[static_cast<std::size_t>(width)]};
    }
  }
  // With a shortlist: columns are its tokens (shared, then the sentence's
  // own, which interleave with them), each row one piece.
  ModelConfig c = many_panels(300);
  auto model = random_model(c, 29);
  IncrementalDecoder whole(*model), best(*model);
  std::vector<std::int32_t> shared{0, 1, 2, 3};
  for (std::int32_t t = 10; t < 300; t += 7) shared.push_back(t);
  std::vector<std::vector<std::int32_t>> own{{4, 5, 6, 12, 299}, {8}};
  std::vector<std::vector<std::int32_t>> src{{4, 5, 6}, {6, 6}};
  for (IncrementalDecoder* d : {&whole, &best}) {
    d->restrict_output(shared, own);
    d->start(src, 2);
  }
  const std::int64_t width = 8, v = whole.output_size();
  const float* lp = whole.step({kBosId, kBosId});
  const IncrementalDecoder::BestTokens& b = best.step_best({kBosId, kBosId}, width);
  for (std::int64_t r = 0; r < 2; ++r) {
    const float* row = lp + r * v;
    const float lse = b.log_sum_exp[static_cast<std::size_t>(r)];
    for (std::int64_t s = 0; s < 4; ++s) CHECK(row[s] == b.special_logits[static_cast<std::size_t>(r * 4 + s)] - lse);
    const auto columns = static_cast<std::int64_t>(shared.size() + own[static_cast<std::size_t>(r)].size());
    std::vector<std::int64_t> order;
    for (std::int64_t j = 4; j < columns; ++j) order.push_back(j);
    std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return row[a] != row[b] ? row[a] > row[b] : whole.output_token(r, a) < whole.output_token(r, b);
    });
    for (std::int64_t k = 0; k < width; ++k) {
      const auto at = static_cast<std::size_t>(r * width + k);
      CHECK(b.tokens[at] == whole.output_token(r, order[static_cast<std::size_t>(k)]));
      CHECK(row[order[static_cast<std::size_t>(k)]] == b.logits[at] - lse);
    }
  }
}

TEST_CASE("searches over several output panels: one model's best tokens alone equal whole rows, in every precision") {
  // An ensemble of the model with itself averages two equal rows into the
  // same row, through whole rows of log-probabilities; one model alone
  // searches its best tokens only. Both must agree to the bit, with
  // lengths forced at both ends (</s> masked, then the only choice).
  ModelConfig c = many_panels();
  auto model = random_model(c, 31);
  for (Precision p : {Precision::kFp32, Precision::kBf16, Precision::kInt8}) {
    CAPTURE(static_cast<int>(p));
    IncrementalDecoder dec(*model), same(*model);
    std::optional<PrecisionScope> scope;
    if (p != Precision::kFp32) scope.emplace(p, *model, dec);
    SearchConfig s;
    s.beam = 3;
    s.nbest = 3;
    s.max_len_a = 0;
    s.max_len_b = 6;
    s.min_len = 2;
    s.alpha = 0.6;
    auto sources = sample_sources();
    auto alone = beam_search({&dec}, sources, s);
    auto pair = beam_search({&dec, &same}, sources, s);
    set_engine_threads(2);
    auto two = beam_search({&dec}, sources, s);
    set_engine_threads(1);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      REQUIRE(alone[i].size() == pair[i].size());
      for (std::size_t k = 0; k < alone[i].size(); ++k) {
        check_same(alone[i][k], pair[i][k], 0);
        check_same(alone[i][k], two[i][k], 0);
        CHECK(alone[i][k].tokens.size() >= 2);
        CHECK(alone[i][k].tokens.size() <= 6);
      }
    }
    s.beam = 1;
    s.nbest = 1;
    auto greedy = greedy_search({&dec}, sources, s);
    auto greedy_pair = greedy_search({&dec, &same}, sources, s);
    for (std::size_t i = 0; i < sources.size(); ++i) check_same(greedy[i], greedy_pair[i], 0);
    // The same with a shortlist: shared tokens, and each sentence's own.
    std::vector<std::int32_t> shared{0, 1, 2, 3};
    for (std::int32_t t = 4; t < 20000; t += 37) shared.push_back(t);
    std::vector<std::vector<std::int32_t>> own;
    for (std::size_t i = 0; i < sources.size(); ++i) own.push_back({static_cast<std::int32_t>(5 + i), 19999});
    for (IncrementalDecoder* d : {&dec, &same}) d->restrict_output(shared, own);
    s.beam = 3;
    s.nbest = 3;
    auto listed = beam_search({&dec}, sources, s);
    auto listed_pair = beam_search({&dec, &same}, sources, s);
    set_engine_threads(2);
    auto listed_two = beam_search({&dec}, sources, s);
    auto listed_pair_two = beam_search({&dec, &same}, sources, s);
    set_engine_threads(1);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      REQUIRE(listed[i].size() == listed_pair[i].size());
      REQUIRE(listed[i].size() == listed_two[i].size());
      REQUIRE(listed[i].size() == listed_pair_two[i].size());
      for (std::size_t k = 0; k < listed[i].size(); ++k) {
        check_same(listed[i][k], listed_pair[i][k], 0);
        check_same(listed[i][k], listed_two[i][k], 0);
        check_same(listed[i][k], listed_pair_two[i][k], 0);
      }
    }
    for (IncrementalDecoder* d : {&dec, &same}) d->restrict_output({});
  }
}
