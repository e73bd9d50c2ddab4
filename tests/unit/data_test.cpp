#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/data/batch_file.h"
#include "tfm/data/batching.h"
#include "test_util.h"
#include "tfm/data/corpus.h"
#include "tfm/data/vocabulary.h"

using namespace tfm;
using tfm::test::TempDir;
using tfm::test::error_of;
namespace fs = std::filesystem;

namespace {

// A random parallel corpus over tokens w0..w29 (w30..w34 missing from the
// vocabulary), with some empty and some very long lines.
struct RandomCorpus {
  std::vector<std::string> source, target;
  RandomCorpus(std::size_t pairs, unsigned seed) {
    std::mt19937 rng(seed);
    const auto line = [&](std::size_t length) {
      std::string text;
      for (std::size_t i = 0; i < length; ++i) text += (i ? " w" : "w") + std::to_string(rng() % 35);
      return text;
    };
    for (std::size_t i = 0; i < pairs; ++i) {
      const std::size_t length = rng() % 10 == 0 ? rng() % 80 : rng() % 25;
      source.push_back(line(length));
      target.push_back(line(std::max<std::size_t>(1, length + rng() % 7) - 1));
    }
  }
  static std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    return text;
  }
};

std::string vocabulary_text() {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "w" + std::to_string(i) + " " + std::to_string(100 - i) + "\n";
  return text;
}

// The tokens of `ids` joined by spaces.
std::string words(const std::vector<std::uint32_t>& ids, const Vocabulary& vocabulary) {
  std::string text;
  for (const auto id : ids) text += (text.empty() ? "" : " ") + vocabulary.token(id);
  return text;
}

// Expected text after mapping through the vocabulary (unknown words → <unk>).
std::string expected_words(const std::string& line, const Vocabulary& vocabulary) {
  std::vector<std::uint32_t> ids;
  line_to_ids(line, vocabulary, ids);
  return words(ids, vocabulary);
}

std::vector<std::uint32_t> random_sizes(std::size_t n, std::uint32_t max, std::mt19937& rng) {
  std::vector<std::uint32_t> sizes(n);
  for (auto& s : sizes) s = 1 + rng() % max;
  return sizes;
}

}  // namespace

TEST_CASE("vocabulary from a word-count file") {
  TempDir dir("tfm_data_test_");
  const auto path = dir.write("vocab.txt", "der 50\nDie 20\n<unk> 9\nGrüße 3\nrare@@ 1\n");
  const auto vocabulary = Vocabulary::from_counts(path, 2);
  CHECK(vocabulary.tokens() == std::vector<std::string>{"<pad>", "<unk>", "<s>", "</s>", "der", "Die", "Grüße"});
  CHECK(vocabulary.id("der") == 4);
  CHECK(vocabulary.id("rare@@") == kUnkId);
  CHECK(Vocabulary::from_counts(path).size() == 8);
  CHECK(error_of([&] { Vocabulary::from_counts(dir.write("a", "der 5\nohne\n")); }) ==
        (dir.path / "a").string() + ":2: expected 'token count', found no count");
  CHECK(error_of([&] { Vocabulary::from_counts(dir.write("b", "der x5\n")); }) ==
        (dir.path / "b").string() + ":1: expected 'token count', found count 'x5'");
  CHECK(error_of([&] { Vocabulary::from_counts(dir.write("c", "ok 1\nb\xFF" "d 2\n")); }) ==
        (dir.path / "c").string() + ":2: invalid UTF-8 at byte 2");
  CHECK(error_of([&] { Vocabulary::from_counts(dir.write("d", "x 2\nx 1\n")); }) ==
        (dir.path / "d").string() + ":2: token 'x' is listed twice");
  CHECK_THROWS_AS(Vocabulary({"a", "b"}, "test"), Error);
}

TEST_CASE("vocabulary lookups stay right as the table grows") {
  std::vector<std::string> tokens{"<pad>", "<unk>", "<s>", "</s>"};
  for (int i = 0; i < 20000; ++i) tokens.push_back("tok" + std::to_string(i * 7919) + (i % 3 ? "@@" : ""));
  const Vocabulary vocabulary(tokens, "test");
  for (std::uint32_t id = 0; id < tokens.size(); ++id) REQUIRE(vocabulary.id(tokens[id]) == id);
  CHECK(vocabulary.id("tok1") == kUnkId);
  CHECK(vocabulary.id("") == kUnkId);
  CHECK_FALSE(vocabulary.contains("tok7919"));
  CHECK(vocabulary.contains("tok7919@@"));
  tokens.push_back("tok7919@@");
  CHECK_THROWS_AS(Vocabulary(tokens, "test"), Error);
}

TEST_CASE("clean-corpus-n filtering, example table") {
  const CleanConfig config{1, 5, 2.0, true};
  CHECK(drop_reason(3, 4, config) == Drop::kNone);
  CHECK(drop_reason(0, 4, config) == Drop::kEmpty);
  CHECK(drop_reason(6, 5, config) == Drop::kTooLong);
  CHECK(drop_reason(1, 3, config) == Drop::kRatio);
  CHECK(drop_reason(1, 2, config) == Drop::kNone);  // ratio exactly 2 is kept, as in Moses
  CHECK(drop_reason(2, 2, {3, 5, 9, true}) == Drop::kTooShort);
  CHECK(drop_reason(0, 300, {1, 5, 2, false}) == Drop::kNone);
  Vocabulary vocabulary;
  std::vector<std::uint32_t> ids;
  line_to_ids("  <s>\tx  </s> ", vocabulary, ids);
  CHECK(ids == std::vector<std::uint32_t>{kBosId, kUnkId, kEosId});
}

TEST_CASE("reading a parallel corpus counts every drop and checks its input") {
  TempDir dir("tfm_data_test_");
  const auto vocabulary = Vocabulary::from_counts(dir.write("v", "a 3\nb 2\n"));
  const auto source = dir.write("s", "a b\n\na a a a a a\na\nb   a\n");
  const auto target = dir.write("t", "b\nb\na\na b a b\na\n");
  CorpusStats stats;
  const auto corpus = read_parallel_corpus(source, target, vocabulary, vocabulary, {1, 5, 3.0, true}, stats);
  CHECK(stats.pairs == 5);
  CHECK(stats.kept == 2);
  CHECK(stats.empty == 1);
  CHECK(stats.too_long == 1);
  CHECK(stats.bad_ratio == 1);
  CHECK(corpus.lines == std::vector<std::uint64_t>{0, 4});
  CHECK(corpus.source.sentence(1)[0] == vocabulary.id("b"));
  CHECK(describe(stats, {1, 5, 3.0, true}).starts_with("kept 2 of 5 sentence pairs; dropped 1 with an empty side"));
  // Five lines are five copies of one line (or one copy), not two.
  CHECK(copy_of_pairs(corpus, stats, 5, source) == std::vector<std::uint32_t>{0, 4});
  CHECK(copy_of_pairs(corpus, stats, 1, source) == std::vector<std::uint32_t>{0, 0});
  CHECK(error_of([&] { copy_of_pairs(corpus, stats, 2, source); }) ==
        source + ": 5 lines do not split into 2 copies of equal length");
  CHECK_THROWS_AS(copy_of_pairs(corpus, stats, 0, source), UsageError);

  const auto short_target = dir.write("short", "b\nb\n");
  CHECK(error_of([&] { read_parallel_corpus(source, short_target, vocabulary, vocabulary, {}, stats); }) ==
        "line counts differ: " + source + " has 5 lines, " + short_target + " has 2");
  const auto bad = dir.write("bad", "a\nb \xC3\x28\n");
  CHECK(error_of([&] { read_parallel_corpus(bad, short_target, vocabulary, vocabulary, {}, stats); }) ==
        bad + ":2: invalid UTF-8 at byte 3");
}

TEST_CASE("batching: example tables") {
  const std::vector<std::uint32_t> ten(25, 10);
  auto batching = make_batches(ten, ten, {100, 0, 1, false});
  CHECK(batching.offsets == std::vector<std::uint64_t>{0, 10, 20, 25});
  CHECK(batching.padding.efficiency() == 1.0);
  batching = make_batches(ten, ten, {100, 0, 8, false});  // fairseq's multiple: 8 + carry
  CHECK(batching.offsets == std::vector<std::uint64_t>{0, 8, 16, 25});
  batching = make_batches(ten, ten, {100, 4, 1, false});
  CHECK(batching.size() == 7);
  // Sorted by size (the larger side); padding counted on both sides.
  const std::vector<std::uint32_t> source{5, 1, 3}, target{2, 2, 4};
  batching = make_batches(source, target, {15, 0, 1, false});
  CHECK(batching.order == std::vector<std::uint64_t>{1, 2, 0});
  CHECK(batching.offsets == std::vector<std::uint64_t>{0, 3});
  CHECK(batching.padding.source_padded == 15);
  CHECK(batching.padding.source_real == 9);
  CHECK(batching.padding.target_efficiency() == doctest::Approx(8.0 / 12.0));
  CHECK_THROWS_AS(make_batches(source, target, {4, 0, 1, false}), Error);
  batching = make_batches(source, target, {4, 0, 1, true});  // oversize alone
  CHECK(batching.offsets == std::vector<std::uint64_t>{0, 1, 2, 3});
  CHECK_THROWS_AS(make_batches(source, target, {0, 0, 1, false}), UsageError);
  // The snake order within one size: ascending (source, target) for even
  // sizes, descending for odd ones, input order last.
  const std::vector<std::uint32_t> s2{4, 2, 4, 5, 3, 5}, t2{3, 4, 4, 2, 5, 5};
  CHECK(make_batches(s2, t2, {100, 0, 1, false}).order == std::vector<std::uint64_t>{1, 0, 2, 5, 3, 4});
  // Groups first; a batch never spans two, even where the budget would let it.
  const std::vector<std::uint32_t> groups{1, 0, 1, 0, 1, 0};
  batching = make_batches(s2, t2, {100, 0, 1, false}, groups);
  CHECK(batching.order == std::vector<std::uint64_t>{1, 5, 3, 0, 2, 4});
  CHECK(batching.offsets == std::vector<std::uint64_t>{0, 3, 6});
  CHECK_THROWS_AS(make_batches(s2, t2, {100, 0, 1, false}, std::vector<std::uint32_t>{0, 1}), ShapeError);
}

TEST_CASE("batching property: a partition of the sentences within budget") {
  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    const std::size_t n = rng() % 3000;
    const auto source = random_sizes(n, 1 + rng() % 120, rng);
    const auto target = random_sizes(n, 1 + rng() % 120, rng);
    const BatchConfig config{200 + rng() % 4000, rng() % 3 ? 0 : 1 + rng() % 64, 1 + rng() % 8, false};
    // Half the rounds with groups (several copies of one corpus), sizes kept
    // alike across copies as BPE-dropout's mostly are.
    const std::size_t copies = round % 2 ? 1 + rng() % 5 : 0;
    std::vector<std::uint32_t> groups(copies ? n : 0);
    for (std::size_t i = 0; i < groups.size(); ++i) groups[i] = static_cast<std::uint32_t>(i * copies / n);
    const auto batching = make_batches(source, target, config, groups);
    std::vector<std::uint64_t> sorted = batching.order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::uint64_t> all(n);
    std::iota(all.begin(), all.end(), 0);
    REQUIRE(sorted == all);
    REQUIRE(batching.offsets.back() == n);
    std::uint64_t real = 0;
    for (std::size_t b = 0; b < batching.size(); ++b) {
      const auto begin = batching.offsets[b], end = batching.offsets[b + 1];
      REQUIRE(end > begin);
      std::uint64_t longest_source = 0, longest_target = 0;
      for (auto i = begin; i < end; ++i) {
        longest_source = std::max<std::uint64_t>(longest_source, source[batching.order[i]]);
        longest_target = std::max<std::uint64_t>(longest_target, target[batching.order[i]]);
        real += source[batching.order[i]] + target[batching.order[i]];
      }
      REQUIRE((end - begin) * longest_source <= config.max_tokens);
      REQUIRE((end - begin) * longest_target <= config.max_tokens);
      if (config.max_sentences) REQUIRE(end - begin <= config.max_sentences);
      for (auto i = begin; i < end && !groups.empty(); ++i)
        REQUIRE(groups[batching.order[i]] == groups[batching.order[begin]]);
    }
    CHECK(real == batching.padding.source_real + batching.padding.target_real);
  }
}

TEST_CASE("shuffled order is deterministic, differs by epoch, is a permutation") {
  const auto a = shuffled_order(1000, 42, 3);
  CHECK(a == shuffled_order(1000, 42, 3));
  CHECK(a != shuffled_order(1000, 42, 4));
  CHECK(a != shuffled_order(1000, 43, 3));
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) REQUIRE(sorted[i] == i);
  // Pinned so a change of generator (which would change every training run) is noticed.
  CHECK(shuffled_order(8, 1, 0) == std::vector<std::size_t>{2, 6, 5, 3, 1, 4, 0, 7});
  CHECK(shuffled_order(0, 1, 0).empty());
  CHECK(shuffled_order(1, 1, 0) == std::vector<std::size_t>{0});
}

TEST_CASE("batch file round trip: every kept pair once, same tokens, shards, resume") {
  TempDir dir("tfm_data_test_");
  const RandomCorpus random(2000, 11);
  const auto source_path = dir.write("src", RandomCorpus::joined(random.source));
  const auto target_path = dir.write("tgt", RandomCorpus::joined(random.target));
  const auto vocabulary = Vocabulary::from_counts(dir.write("vocab", vocabulary_text()));
  CorpusStats stats;
  const CleanConfig clean{1, 60, 9.0, true};
  const auto corpus = read_parallel_corpus(source_path, target_path, vocabulary, vocabulary, clean, stats);
  REQUIRE(stats.kept + stats.empty + stats.too_long + stats.bad_ratio == 2000);
  REQUIRE(stats.empty > 0);
  REQUIRE(stats.too_long > 0);
  const BatchConfig config{300, 0, 1, false};
  const auto batching = make_batches(sentence_sizes(corpus.source), sentence_sizes(corpus.target), config);
  const std::string path = (dir.path / "batches.h5").string();
  write_batch_file(path, corpus, batching, vocabulary, vocabulary, true, {source_path, target_path, config});

  BatchReader reader(path);
  CHECK(reader.vocabulary() == vocabulary);
  CHECK(reader.total_sentences() == corpus.size());
  CHECK(reader.batches_per_epoch() == batching.size());
  std::set<std::uint64_t> seen;
  SentencePairBatch batch;
  std::size_t index = 0;
  while (reader.next(batch)) {
    CHECK(batch.index == index++);
    std::size_t longest = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      REQUIRE(seen.insert(batch.lines[i]).second);
      REQUIRE(words(batch.source[i], vocabulary) == expected_words(random.source[batch.lines[i]], vocabulary));
      REQUIRE(words(batch.target[i], vocabulary) == expected_words(random.target[batch.lines[i]], vocabulary));
      longest = std::max({longest, batch.source[i].size() + 1, batch.target[i].size() + 1});
    }
    REQUIRE(batch.size() * longest <= config.max_tokens);
  }
  CHECK(seen.size() == corpus.size());
  CHECK(std::vector<std::uint64_t>(seen.begin(), seen.end()) == corpus.lines);

  for (const std::size_t shards : {2, 3, 7}) {
    std::vector<std::size_t> all;
    std::size_t per_shard = 0;
    for (std::size_t k = 0; k < shards; ++k) {
      BatchReader shard(path, k, shards);
      shard.start_epoch(5, 2);
      per_shard = k == 0 ? shard.batches_per_epoch() : per_shard;
      REQUIRE(shard.batches_per_epoch() == batching.size() / shards);
      while (shard.next(batch)) all.push_back(batch.index);
    }
    const auto order = shuffled_order(batching.size(), 5, 2);
    std::vector<std::size_t> expected(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(per_shard * shards));
    std::sort(all.begin(), all.end());
    std::sort(expected.begin(), expected.end());
    CHECK(all == expected);  // disjoint, equal counts, b mod N = k of the epoch's order
  }

  reader.start_epoch(9, 1);
  std::vector<std::size_t> epoch1;
  while (reader.next(batch)) epoch1.push_back(batch.index);
  reader.start_epoch(9, 1);
  reader.seek(5);
  CHECK(reader.position() == 5);
  REQUIRE(reader.next(batch));
  CHECK(batch.index == epoch1[5]);
  reader.start_epoch(9, 2);
  std::vector<std::size_t> epoch2;
  while (reader.next(batch)) epoch2.push_back(batch.index);
  CHECK(epoch1 != epoch2);
  CHECK_THROWS_AS(BatchReader(path, 2, 2), UsageError);
  CHECK_THROWS_AS(reader.seek(epoch1.size() + 1), UsageError);
}

TEST_CASE("batch file with separate vocabularies, and files of the wrong kind") {
  TempDir dir("tfm_data_test_");
  const auto source_vocabulary = Vocabulary::from_counts(dir.write("vs", "a 2\nb 1\n"));
  const auto target_vocabulary = Vocabulary::from_counts(dir.write("vt", "x 2\n"));
  const auto source = dir.write("s", "a b\nb\n");
  const auto target = dir.write("t", "x\nx y\n");
  CorpusStats stats;
  const auto corpus = read_parallel_corpus(source, target, source_vocabulary, target_vocabulary, {}, stats);
  CHECK(stats.source_unknown == 0);
  CHECK(stats.target_unknown == 1);  // y
  const auto batching = make_batches(sentence_sizes(corpus.source), sentence_sizes(corpus.target), {});
  const std::string path = (dir.path / "sep.h5").string();
  write_batch_file(path, corpus, batching, source_vocabulary, target_vocabulary, false, {source, target, {}});
  BatchReader reader(path);
  CHECK_FALSE(reader.joint_vocabulary());
  CHECK(reader.target_vocabulary() == target_vocabulary);
  SentencePairBatch batch;
  REQUIRE(reader.next(batch));
  // Both pairs have size 3 (odd): the longer source comes first.
  CHECK(batch.lines == std::vector<std::uint64_t>{0, 1});
  CHECK(batch.target[1] == std::vector<std::uint32_t>{4, kUnkId});
  CHECK(batch.source_tokens() == 3);
  CHECK(describe_file(path).find("vocabulary: source 6 tokens, target 5 tokens") != std::string::npos);

  const std::string model = (dir.path / "model.h5").string();
  {
    auto file = hdf5::File::create(model);
    hdf5::write_format(file, "tfm-model", 1);
    file.write("params/w", std::vector<float>{1, 2, 3, 4}, {2, 2});
    file.commit();
  }
  CHECK(error_of([&] { BatchReader r(model); }) ==
        model + ": expected a tfm-batches file (format_version 1), found tfm-model");
  CHECK(describe_file(model).find("/params/w                float32  [2, 2]") != std::string::npos);
}
