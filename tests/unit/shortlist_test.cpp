// Vocabulary shortlists: the file format (data/shortlist.h), IBM model 1
// (data/lexical_table.h), gathered output rows (tensor/gemm.h's WeightRows)
// and the restricted search (IncrementalDecoder::restrict_output).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "test_util.h"
#include "tfm/core/error.h"
#include "tfm/data/lexical_table.h"
#include "tfm/data/shortlist.h"
#include "tfm/decode/search.h"
#include "tfm/model/incremental_decoder.h"
#include "tfm/model/transformer.h"
#include "tfm/tensor/gemm.h"
#include "tfm/tensor/random.h"
#include "tfm/tensor/threads.h"

using namespace tfm;
using tfm::test::error_of;
using tfm::test::TempDir;

namespace {

std::vector<float> random_values(std::int64_t n, std::uint64_t seed) {
  std::vector<float> v(static_cast<std::size_t>(n));
  std::uint64_t s = seed;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<float>(static_cast<std::int64_t>(s >> 40) % 2001 - 1000) / 250.0f;
  }
  return v;
}

// Process-wide precision for one block; weights registered as tfm-decode does.
struct PrecisionSetting {
  explicit PrecisionSetting(Precision p) { set_gemm_precision(p); }
  ~PrecisionSetting() {
    clear_bf16_shadows();
    clear_int8_weights();
    set_gemm_precision(Precision::kFp32);
  }
};

std::vector<Precision> precisions_here() {
  std::vector<Precision> p{Precision::kFp32, Precision::kInt8};
  if (*bf16_isa()) p.push_back(Precision::kBf16);
  return p;
}

// Registers the weight copies that `p` reads, as the Translator does.
void register_weights(Precision p, Transformer& model, const IncrementalDecoder& dec) {
  if (p == Precision::kBf16) add_bf16_shadow(model.params().values(), model.params().size());
  if (p == Precision::kInt8)
    for (const auto& w : dec.linear_weights()) add_int8_weight(w.values, w.rows, w.cols);
}

Vocabulary words(std::initializer_list<const char*> tokens) {
  std::vector<std::string> all(kSpecialTokens.begin(), kSpecialTokens.end());
  all.insert(all.end(), tokens.begin(), tokens.end());
  return Vocabulary(all, "test");
}

}  // namespace

TEST_CASE("gathered weight rows: all rows in order equal the whole product bit for bit; any rows are their columns") {
  // Awkward sizes; the second shape is cut into several blocks.
  for (auto [m, n, k] : {std::tuple{5, 37, 29}, std::tuple{9, 1003, 160}}) {
    auto w = random_values(n * k, 3), a = random_values(m * k, 4);
    std::vector<std::int32_t> all(static_cast<std::size_t>(n)), some;
    std::iota(all.begin(), all.end(), 0);
    for (std::int32_t i = n - 1; i >= 0; i -= 3) some.push_back(i);  // descending, every third
    for (Precision p : precisions_here()) {
      CAPTURE(static_cast<int>(p));
      PrecisionSetting setting(p);
      if (p == Precision::kBf16) add_bf16_shadow(w.data(), n * k);
      if (p == Precision::kInt8) add_int8_weight(w.data(), n, k);
      std::vector<float> whole(static_cast<std::size_t>(m * n)), got(whole.size());
      gemm(Op::kN, Op::kT, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f, whole.data(), n);
      WeightRows rows;
      rows.gather(w.data(), n, k, all);
      rows.multiply(a.data(), m, got.data(), n);
      CHECK(got == whole);
      rows.gather(w.data(), n, k, some);
      const auto cols = static_cast<std::int64_t>(some.size()), ld = cols + 3;  // 3 columns left alone
      std::vector<float> part(static_cast<std::size_t>(m * ld), 7.0f);
      rows.multiply(a.data(), m, part.data(), ld);
      for (std::int64_t r = 0; r < m; ++r) {
        for (std::int64_t j = 0; j < cols; ++j) {
          const float want = whole[static_cast<std::size_t>(r * n + some[static_cast<std::size_t>(j)])];
          const float have = part[static_cast<std::size_t>(r * ld + j)];
          if (p == Precision::kInt8) CHECK(have == want);  // exact int32 sums, the row's own scale
          else CHECK(have == doctest::Approx(want).epsilon(1e-5).scale(1));
        }
        for (std::int64_t j = cols; j < ld; ++j) CHECK(part[static_cast<std::size_t>(r * ld + j)] == 7.0f);
      }
      // The same bits whatever the caller's leading dimension (a small bf16
      // product goes through scratch rows of its own).
      const std::int64_t wider = ld + 5;
      std::vector<float> other(static_cast<std::size_t>(m * wider));
      rows.multiply(a.data(), m, other.data(), wider);
      for (std::int64_t r = 0; r < m; ++r)
        for (std::int64_t j = 0; j < cols; ++j)
          CHECK(part[static_cast<std::size_t>(r * ld + j)] == other[static_cast<std::size_t>(r * wider + j)]);
      CHECK_THROWS_AS(rows.multiply(a.data(), m, part.data(), cols - 1), Error);
    }
  }
  WeightRows rows;
  std::vector<float> w(6);
  CHECK_THROWS_AS(rows.gather(w.data(), 3, 2, {0, 3}), Error);
}

// A random model of 23 tokens with peaked outputs, and sources for it.
struct PeakedModel {
  ModelConfig c = [] {
    ModelConfig c = preset_config("tiny");
    c.vocab_size = 23, c.d_model = 32, c.heads = 2, c.ffn = 48, c.encoder_layers = 2, c.decoder_layers = 2;
    c.max_positions = 40;
    return c;
  }();
  Transformer model{c};
  const std::vector<std::vector<std::int32_t>> sources{{4, 5, 6}, {9}, {7, 7, 12, 20, 4, 5}, {4, 1, 16, 6}};
  PeakedModel() {
    model.params().initialize(17);
    float* e = model.params().value(model.params().index("embed/weight"));
    for (std::int64_t i = 0; i < c.vocab_size * c.d_model; ++i) e[i] *= 3;
  }
};

TEST_CASE("a shortlist that holds every token decodes as the whole vocabulary; a smaller one keeps to its tokens") {
  PeakedModel peaked;
  const ModelConfig& c = peaked.c;
  Transformer& model = peaked.model;
  const auto& sources = peaked.sources;
  std::vector<std::int32_t> every(static_cast<std::size_t>(c.vocab_size)), few{0, 1, 2, 3, 5, 8, 13, 21};
  std::iota(every.begin(), every.end(), 0);
  SearchConfig s;
  s.nbest = 2;
  for (Precision p : precisions_here()) {
    CAPTURE(static_cast<int>(p));
    PrecisionSetting setting(p);
    IncrementalDecoder dec(model);
    register_weights(p, model, dec);
    auto full = beam_search({&dec}, sources, s);
    auto full_greedy = greedy_search({&dec}, sources, s);
    dec.restrict_output(every);
    auto listed = beam_search({&dec}, sources, s);
    auto listed_greedy = greedy_search({&dec}, sources, s);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      REQUIRE(listed[i].size() == full[i].size());
      for (std::size_t k = 0; k < full[i].size(); ++k) {
        CHECK(listed[i][k].tokens == full[i][k].tokens);
        CHECK(listed[i][k].score == full[i][k].score);
      }
      CHECK(listed_greedy[i].tokens == full_greedy[i].tokens);
      CHECK(listed_greedy[i].log_prob == full_greedy[i].log_prob);
    }
    dec.restrict_output(few);
    auto one = beam_search({&dec}, sources, s);
    set_engine_threads(2);
    auto two = beam_search({&dec}, sources, s);
    set_engine_threads(1);
    for (std::size_t i = 0; i < sources.size(); ++i)
      for (std::size_t k = 0; k < one[i].size(); ++k) {
        for (std::int32_t t : one[i][k].tokens) CHECK(std::binary_search(few.begin(), few.end(), t));
        CHECK(one[i][k].tokens == two[i][k].tokens);
        CHECK(one[i][k].score == two[i][k].score);
      }
    dec.restrict_output({});
    CHECK(dec.output_size() == c.vocab_size);
  }
  IncrementalDecoder dec(model);
  CHECK_THROWS_AS(dec.restrict_output({0, 1, 2, 5}), Error);     // </s> missing
  CHECK_THROWS_AS(dec.restrict_output({0, 1, 2}), Error);        // too short
  CHECK_THROWS_AS(dec.restrict_output({0, 1, 2, 3, 9, 7}), Error);  // not ascending
  CHECK_THROWS_AS(dec.restrict_output({0, 1, 2, 3, 23}), Error);    // outside the vocabulary
  CHECK_THROWS_AS(dec.restrict_output({0, 1, 2, 3}, {{5, 4}}), Error);      // own not ascending
  CHECK_THROWS_AS(dec.restrict_output({0, 1, 2, 3, 4}, {{4, 5}}), Error);   // own and shared
  CHECK_THROWS_AS(dec.restrict_output({0, 1, 2, 3}, {{5, 23}}), Error);     // own outside
  CHECK_THROWS_AS(dec.restrict_output({}, {{5}}), Error);                   // own without shared
}

TEST_CASE("own tokens per sentence: all of them decode as the whole vocabulary; each sentence keeps to its own") {
  PeakedModel peaked;
  const auto& sources = peaked.sources;
  const std::vector<std::int32_t> specials{0, 1, 2, 3};
  std::vector<std::int32_t> words(static_cast<std::size_t>(peaked.c.vocab_size) - 4);
  std::iota(words.begin(), words.end(), 4);
  // Shared tokens and own lists of different lengths (rows padded to the
  // longest), columns out of token order after the shared ones.
  const std::vector<std::int32_t> shared{0, 1, 2, 3, 8, 15};
  const std::vector<std::vector<std::int32_t>> own{{5}, {4, 6, 7, 9, 10, 11, 12, 19}, {13, 21}, {}};
  SearchConfig s;
  s.nbest = 2;
  for (Precision p : precisions_here()) {
    CAPTURE(static_cast<int>(p));
    PrecisionSetting setting(p);
    IncrementalDecoder dec(peaked.model);
    register_weights(p, peaked.model, dec);
    auto full = beam_search({&dec}, sources, s);
    auto full_greedy = greedy_search({&dec}, sources, s);
    dec.restrict_output(specials, std::vector<std::vector<std::int32_t>>(sources.size(), words));
    auto listed = beam_search({&dec}, sources, s);
    auto listed_greedy = greedy_search({&dec}, sources, s);
    dec.restrict_output(shared, own);
    CHECK(dec.output_size() == 14);
    CHECK(dec.output_token(0, 5) == 15);
    auto kept = beam_search({&dec}, sources, s);
    auto kept_greedy = greedy_search({&dec}, sources, s);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      REQUIRE(listed[i].size() == full[i].size());
      for (std::size_t k = 0; k < full[i].size(); ++k) {
        CHECK(listed[i][k].tokens == full[i][k].tokens);
        CHECK(listed[i][k].score == doctest::Approx(full[i][k].score).epsilon(1e-5));
      }
      CHECK(listed_greedy[i].tokens == full_greedy[i].tokens);
      CHECK(listed_greedy[i].log_prob == doctest::Approx(full_greedy[i].log_prob).epsilon(1e-5));
      auto allowed = [&](std::int32_t t) {
        return std::binary_search(shared.begin(), shared.end(), t) || std::count(own[i].begin(), own[i].end(), t) == 1;
      };
      REQUIRE(!kept[i].empty());
      for (const Hypothesis& h : kept[i]) {
        CHECK(std::isfinite(h.score));
        for (std::int32_t t : h.tokens) CHECK(allowed(t));
      }
      for (std::int32_t t : kept_greedy[i].tokens) CHECK(allowed(t));
    }
    // Each sentence alone: the same, as its softmax normalizes over its own
    // tokens whatever the other sentences hold.
    for (std::size_t i = 0; i < sources.size(); ++i) {
      dec.restrict_output(shared, {own[i]});
      auto alone = beam_search({&dec}, {sources[i]}, s);
      REQUIRE(alone[0].size() == kept[i].size());
      for (std::size_t k = 0; k < kept[i].size(); ++k) {
        CHECK(alone[0][k].tokens == kept[i][k].tokens);
        CHECK(alone[0][k].score == doctest::Approx(kept[i][k].score).epsilon(1e-5));
      }
    }
    dec.restrict_output(shared, own);
    CHECK_THROWS_AS(beam_search({&dec}, {sources[0], sources[1]}, s), Error);  // 4 own lists for 2 sentences
  }
}

TEST_CASE("shortlist files: round trip, a sentence's tokens, and one-line errors naming file and line") {
  TempDir dir("tfm-shortlist-test-");
  const Vocabulary v = words({"Hund", "dog", "Katze", "cat", "the"});
  Shortlist s;
  s.frequent = {8};
  s.candidates.resize(v.size());
  s.candidates[4] = {{5, 0.875f}, {8, 0.0625f}};
  s.candidates[6] = {{7, 1.0f}};
  s.save(dir / "s.txt", v, v);
  Shortlist back = Shortlist::load(dir / "s.txt", v, v);
  CHECK(back.frequent == s.frequent);
  REQUIRE(back.candidates.size() == v.size());
  CHECK(back.candidates[4].size() == 2);
  CHECK(back.candidates[4][1].token == 8);
  CHECK(back.candidates[4][1].probability == 0.0625f);
  CHECK(back.candidates[6][0].token == 7);
  const auto shared = back.shared_tokens(9);
  CHECK(shared == std::vector<std::int32_t>{0, 1, 2, 3, 8});
  CHECK(back.own_tokens({4}, shared, 9) == std::vector<std::int32_t>{5});  // 8 is shared
  CHECK(back.own_tokens({6, 4, 4, 1}, shared, 9) == std::vector<std::int32_t>{5, 7});
  CHECK(back.own_tokens({}, shared, 9).empty());
  CHECK_THROWS_AS(back.shared_tokens(8), Error);  // frequent 8 outside
  CHECK_THROWS_AS(back.own_tokens({4}, {0, 1, 2, 3}, 8), Error);  // candidate 8 outside

  const std::string head = "tfm-shortlist 1\nfrequent the\n";
  auto error = [&](const std::string& text) {
    const std::string path = dir.write("bad.txt", text);
    return error_of([&] { Shortlist::load(path, v, v); });
  };
  const std::string bad = dir / "bad.txt";
  CHECK(error(head + "source Hund dog 0.5\nsource Katze kitty 0.5\n") ==
        bad + ":4: target token 'kitty' is not in the model's vocabulary");
  CHECK(error(head + "source Pferd dog 0.5\n") == bad + ":3: source token 'Pferd' is not in the model's vocabulary");
  CHECK(error(head + "source Hund dog 0.5x\n") == bad + ":3: '0.5x' is not a probability (a number in [0, 1])");
  CHECK(error(head + "source Hund dog 1.5\n") == bad + ":3: '1.5' is not a probability (a number in [0, 1])");
  CHECK(error(head + "source Hund dog 0.5 cat\n") ==
        bad + ":3: truncated line: 'source' needs a token, then target-probability pairs");
  CHECK(error(head + "source Hund\n").find(":3: truncated line") != std::string::npos);
  CHECK(error(head + "source Hund dog 0.5\nsource Hund cat 0.5\n") == bad + ":4: source token 'Hund' given twice");
  CHECK(error(head + "target Hund dog 0.5\n").find(":3: unknown keyword 'target'") != std::string::npos);
  CHECK(error(head + "source Hund  dog 0.5\n").find(":3: empty field") != std::string::npos);
  CHECK(error("tfm-shortlist 2\nfrequent\n") == bad + ":1: not a shortlist: the first line must be 'tfm-shortlist 1'");
  CHECK(error("tfm-shortlist 1\n").find("no 'frequent' line") != std::string::npos);
  CHECK(error(head + "frequent the\n") == bad + ":3: a second 'frequent' line");
  CHECK(error("").find("empty file") != std::string::npos);
  CHECK_THROWS_AS(Shortlist::load(dir / "missing.txt", v, v), IoError);
}

TEST_CASE("IBM model 1 finds each word's translation where co-occurrence finds the frequent word") {
  // Source words 4..7 translate to 8..11; every target sentence also has the
  // frequent word 12 twice, which co-occurs with everything.
  SentencePairBatch batch;
  const std::vector<std::vector<std::uint32_t>> sources{{4, 5}, {4, 6}, {5, 6}, {4, 7}, {6, 7}, {5, 7}, {4}};
  for (const auto& s : sources) {
    std::vector<std::uint32_t> t{12, 12};
    for (std::uint32_t w : s) t.push_back(w + 4);
    batch.source.push_back(s);
    batch.target.push_back(t);
  }
  auto corpus = [&](const std::function<void(const SentencePairBatch&)>& visit) { visit(batch); };
  LexicalTable once(corpus, 13, 1), table(corpus, 13, 5);
  CHECK(once.best(4, 1)[0].token == 12);  // one iteration: normalized co-occurrence
  for (std::int32_t s = 4; s <= 7; ++s) {
    auto best = table.best(s, 3);
    REQUIRE(!best.empty());
    CHECK(best[0].token == s + 4);
    CHECK(best[0].probability > 0.5f);
    CHECK(std::is_sorted(best.begin(), best.end(), [](const auto& a, const auto& b) { return a.probability > b.probability; }));
  }
  CHECK(table.probability(4, kEosId) == 0.0f);  // never together
  CHECK(table.best(4, 0).empty());
  CHECK_THROWS_AS(validate(ShortlistConfig{1, 1, 0}), UsageError);
  CHECK_THROWS_AS(validate(ShortlistConfig{-1, 1, 1}), UsageError);
}
