#include "tfm/data/lexical_table.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {

void validate(const ShortlistConfig& c) {
  if (c.candidates < 0 || c.frequent < 0)
    throw UsageError("--candidates and --frequent must not be negative");
  if (c.iterations < 1) throw UsageError(fmt::format("--iterations must be at least 1, not {}", c.iterations));
}

namespace {

void sort_unique(std::vector<std::uint32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

LexicalTable::LexicalTable(const Corpus& corpus, std::int64_t source_vocab_size, std::int64_t iterations)
    : rows_(static_cast<std::size_t>(source_vocab_size) + 1) {
  corpus([&](const SentencePairBatch& b) { collect(b); });
  for (Row& r : rows_) {
    sort_unique(r.targets);
    // Uniform start: any constant, as the E step normalizes per target word.
    r.probability.assign(r.targets.size(), 1.0f);
    r.count.assign(r.targets.size(), 0.0);
  }
  for (std::int64_t i = 0; i < iterations; ++i) {
    corpus([&](const SentencePairBatch& b) { expect(b); });
    maximize();
  }
}

// Every target word of a pair, under every source word of it and NULL.
void LexicalTable::collect(const SentencePairBatch& batch) {
  std::vector<std::uint32_t> targets, sources;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    targets = batch.target[i];
    sort_unique(targets);
    sources = batch.source[i];
    sort_unique(sources);
    auto add = [&](Row& row) {
      row.targets.insert(row.targets.end(), targets.begin(), targets.end());
      // Sorted again as it doubles: memory stays near the distinct pairs.
      if (row.targets.size() > 2 * row.compacted + 4096) sort_unique(row.targets), row.compacted = row.targets.size();
    };
    add(rows_[0]);
    for (std::uint32_t s : sources) {
      if (s + 1 >= rows_.size()) throw Error(fmt::format("source id {} outside the vocabulary", s));
      add(rows_[s + 1]);
    }
  }
}

// Adds each target word's expected alignments to the counts: source word i
// (or NULL) takes p(t | s_i) / Σ_j p(t | s_j).
void LexicalTable::expect(const SentencePairBatch& batch) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& source = batch.source[i];
    for (std::uint32_t t : batch.target[i]) {
      cells_.clear();
      p_.clear();
      double z = 0;
      auto look_up = [&](Row& row) {
        auto at = std::lower_bound(row.targets.begin(), row.targets.end(), t);  // there: collect() saw the pair
        auto index = static_cast<std::size_t>(at - row.targets.begin());
        cells_.emplace_back(&row, index);
        p_.push_back(row.probability[index]);
        z += row.probability[index];
      };
      look_up(rows_[0]);
      for (std::uint32_t s : source) look_up(rows_[s + 1]);
      if (z <= 0) continue;
      for (std::size_t k = 0; k < cells_.size(); ++k) cells_[k].first->count[cells_[k].second] += p_[k] / z;
    }
  }
}

void LexicalTable::maximize() {
  for (Row& r : rows_) {
    const double total = std::accumulate(r.count.begin(), r.count.end(), 0.0);
    for (std::size_t k = 0; k < r.count.size(); ++k) {
      r.probability[k] = total > 0 ? static_cast<float>(r.count[k] / total) : 0.0f;
      r.count[k] = 0;
    }
  }
}

float LexicalTable::probability(std::int32_t source, std::int32_t target) const {
  if (source < 0 || static_cast<std::size_t>(source) + 1 >= rows_.size() || target < 0) return 0;
  const Row& r = rows_[static_cast<std::size_t>(source) + 1];
  auto at = std::lower_bound(r.targets.begin(), r.targets.end(), static_cast<std::uint32_t>(target));
  return at != r.targets.end() && *at == static_cast<std::uint32_t>(target)
             ? r.probability[static_cast<std::size_t>(at - r.targets.begin())]
             : 0.0f;
}

std::vector<Shortlist::Candidate> LexicalTable::best(std::int32_t source, std::int64_t n) const {
  std::vector<Shortlist::Candidate> all;
  if (source < 0 || static_cast<std::size_t>(source) + 1 >= rows_.size()) return all;
  const Row& r = rows_[static_cast<std::size_t>(source) + 1];
  for (std::size_t k = 0; k < r.targets.size(); ++k)
    if (r.targets[k] >= kSpecialTokens.size() && r.probability[k] > 0)
      all.push_back({static_cast<std::int32_t>(r.targets[k]), r.probability[k]});
  auto better = [](const Shortlist::Candidate& a, const Shortlist::Candidate& b) {
    return a.probability != b.probability ? a.probability > b.probability : a.token < b.token;
  };
  const auto keep = static_cast<std::size_t>(std::min<std::int64_t>(n, static_cast<std::int64_t>(all.size())));
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end(), better);
  all.resize(keep);
  return all;
}

Shortlist build_shortlist(BatchReader& batches, const ShortlistConfig& config) {
  validate(config);
  const Vocabulary& source_vocabulary = batches.source_vocabulary();
  const Vocabulary& target_vocabulary = batches.target_vocabulary();
  std::vector<std::uint64_t> target_counts(target_vocabulary.size(), 0);
  auto corpus = [&](const std::function<void(const SentencePairBatch&)>& visit) {
    batches.start_in_order();
    SentencePairBatch batch;
    while (batches.next(batch)) visit(batch);
  };
  corpus([&](const SentencePairBatch& b) {
    for (const auto& sentence : b.target)
      for (std::uint32_t t : sentence) ++target_counts[t];  // ids checked by the reader
  });
  LexicalTable table(corpus, static_cast<std::int64_t>(source_vocabulary.size()), config.iterations);
  Shortlist s;
  std::vector<std::int32_t> order(target_counts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
    return target_counts[static_cast<std::size_t>(a)] > target_counts[static_cast<std::size_t>(b)];
  });
  for (std::int32_t t : order)
    if (static_cast<std::int64_t>(s.frequent.size()) < config.frequent && t >= static_cast<std::int32_t>(kSpecialTokens.size()) &&
        target_counts[static_cast<std::size_t>(t)] > 0)
      s.frequent.push_back(t);
  s.candidates.resize(source_vocabulary.size());
  for (std::size_t source = 0; source < source_vocabulary.size(); ++source)
    s.candidates[source] = table.best(static_cast<std::int32_t>(source), config.candidates);
  return s;
}

}  // namespace tfm
