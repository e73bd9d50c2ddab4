// Learning BPE merge operations from a word-count dictionary, merge for merge
// the same as subword-nmt 0.3.8's learn_bpe (ties included).
//
// subword-nmt picks the most frequent pair by max over (frequency, pair), so of
// equally frequent pairs the lexicographically larger (left, right) wins, and
// it keeps two tables: `stats`, pruned below a threshold for speed, and
// `big_stats`, the full statistics it falls back to when the best pair in
// `stats` drops below the threshold. Pruning and its incremental update have
// quirks that change results in rare cases (a pair pruned and then updated
// keeps only the later change; a word that already held the merged symbol gets
// its neighbours counted twice), so the learner reproduces both tables and the
// update rules exactly, with a max-heap as the priority structure and an
// index from pairs to the words that hold them (no recount per merge).
// Memory is proportional to the number of distinct words and their length.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tfm/text/word_counts.h"

namespace tfm {

struct BpeLearnConfig {
  long symbols = 10000;        // merges to learn (-s)
  long min_frequency = 2;      // stop when the best pair is rarer than this
  bool total_symbols = false;  // subtract the number of distinct characters from `symbols`
  bool progress = false;       // force the progress bar (else only on a terminal)
};

struct BpeLearnResult {
  std::vector<std::pair<std::string, std::string>> merges;  // in order learned
  bool stopped_early = false;     // no pair reached min_frequency
  std::size_t internal_chars = 0; // distinct word-internal / word-final
  std::size_t final_chars = 0;    //   characters (for --total-symbols)
};

// Called after each merge with its number (0-based), pair and frequency.
using MergeObserver = std::function<void(long index, const std::string& left,
                                         const std::string& right, std::int64_t frequency)>;

// Learns merges from `words` (counts from count_words or read_word_counts).
// Words must be valid UTF-8. An empty dictionary, or one whose words are all
// a single character, gives no merges.
BpeLearnResult learn_bpe(const WordCounts& words, const BpeLearnConfig& config,
                         const MergeObserver& observer = nullptr);

}  // namespace tfm
