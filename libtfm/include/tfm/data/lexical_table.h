// A lexical translation table p(target token | source token) estimated by IBM
// model 1 (Brown et al., 1993) with a NULL source word, and the vocabulary
// shortlist built from it (shortlist.h) for tfm-shortlist.
//
// Why IBM model 1 rather than raw co-occurrence: p(t | s) from co-occurrence
// counts gives every source token the target side's most frequent tokens
// ("the", ".", "a") as its best candidates, as they co-occur with
// everything; EM explains those by the other source words and the NULL word,
// so a few iterations move each source token's mass onto its translations
// (the first iteration, from uniform, is exactly normalized co-occurrence).
// The frequent tokens are allowed separately anyway.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tfm/data/batch_file.h"
#include "tfm/data/shortlist.h"

namespace tfm {

// Defaults: tfm-shortlist(1) gives the measurements behind them.
struct ShortlistConfig {
  std::int64_t candidates = 50;  // best target tokens kept per source token
  std::int64_t frequent = 800;   // most frequent target tokens, always allowed
  std::int64_t iterations = 5;   // EM iterations of IBM model 1
};

// Throws UsageError on a negative count or fewer than one iteration.
void validate(const ShortlistConfig& config);

class LexicalTable {
 public:
  // Calls its argument once per batch of a corpus, in a fixed order.
  using Corpus = std::function<void(const std::function<void(const SentencePairBatch&)>&)>;

  // Runs `iterations` EM iterations of IBM model 1 over `corpus` (read once
  // to collect the co-occurring pairs, then once per iteration), source ids
  // below `source_vocab_size`. Deterministic.
  LexicalTable(const Corpus& corpus, std::int64_t source_vocab_size, std::int64_t iterations);

  // p(target | source); 0 for a pair never seen together.
  float probability(std::int32_t source, std::int32_t target) const;
  // The n most probable targets of `source` (special tokens left out; ties to
  // the lower id), best first.
  std::vector<Shortlist::Candidate> best(std::int32_t source, std::int64_t n) const;

 private:
  // Sparse row of one source word (row 0: NULL, row s + 1: source id s):
  // the targets seen with it, ascending, and their probabilities.
  struct Row {
    std::vector<std::uint32_t> targets;
    std::vector<float> probability;
    std::vector<double> count;  // expected counts of the E step
    std::size_t compacted = 0;  // size after the last sort
  };
  void collect(const SentencePairBatch& batch);
  void expect(const SentencePairBatch& batch);
  void maximize();
  std::vector<Row> rows_;
  std::vector<std::pair<Row*, std::size_t>> cells_;  // E step scratch: (row, index) per source word
  std::vector<float> p_;
};

// The shortlist of the batch file `batches` (its training pairs, read in
// file order): the config.frequent most frequent target tokens and each
// source token's config.candidates best targets by IBM model 1.
Shortlist build_shortlist(BatchReader& batches, const ShortlistConfig& config);

}  // namespace tfm
