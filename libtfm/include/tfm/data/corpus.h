// A parallel corpus as token ids, filtered the way Moses' clean-corpus-n.perl
// filters: whitespace runs are collapsed and the ends trimmed, then a pair is
// dropped when a side is empty, when a side has fewer than min_length or more
// than max_length tokens, or when one side is more than max_ratio times longer
// than the other. Every drop is counted, never silent.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tfm/data/vocabulary.h"

namespace tfm {

// Sentences of one language, concatenated: sentence i is
// tokens[offsets[i], offsets[i + 1]). Ids carry no <s> or </s>.
struct TokenizedSide {
  std::vector<std::uint32_t> tokens;
  std::vector<std::uint64_t> offsets{0};

  std::size_t size() const { return offsets.size() - 1; }
  std::size_t length(std::size_t i) const { return offsets[i + 1] - offsets[i]; }
  std::span<const std::uint32_t> sentence(std::size_t i) const {
    return {tokens.data() + offsets[i], length(i)};
  }
  void add(std::span<const std::uint32_t> ids);
};

// Kept sentence pairs; lines[i] is the 0-based input line of pair i.
struct ParallelCorpus {
  TokenizedSide source, target;
  std::vector<std::uint64_t> lines;
  std::size_t size() const { return lines.size(); }
};

// clean-corpus-n's limits (its defaults are min 1; tfm's max is 256 subwords
// and the ratio 9, fairseq's and Moses' usual settings). `filter` false keeps
// every pair, empty ones included (for validation sets).
struct CleanConfig {
  std::size_t min_length = 1;
  std::size_t max_length = 256;
  double max_ratio = 9.0;
  bool filter = true;
};

// What reading a corpus did, for the summary on stderr.
struct CorpusStats {
  std::uint64_t pairs = 0;          // lines read from each side
  std::uint64_t kept = 0;
  std::uint64_t empty = 0;          // a side empty after trimming
  std::uint64_t too_short = 0;      // a side under min_length (and not empty)
  std::uint64_t too_long = 0;       // a side over max_length
  std::uint64_t bad_ratio = 0;      // length ratio over max_ratio
  std::uint64_t source_tokens = 0, target_tokens = 0;    // of kept pairs
  std::uint64_t source_unknown = 0, target_unknown = 0;  // mapped to <unk>
};

// Splits `line` at runs of ASCII whitespace (space, tab, CR, FF, VT) into ids
// (kUnkId for tokens not in the vocabulary).
void line_to_ids(std::string_view line, const Vocabulary& vocabulary, std::vector<std::uint32_t>& ids);

// Why clean-corpus-n drops a pair of these lengths (the first rule that applies).
enum class Drop { kNone, kEmpty, kTooShort, kTooLong, kRatio };
Drop drop_reason(std::size_t source_length, std::size_t target_length, const CleanConfig& config);

// Drops the pairs of `corpus` that drop_reason() rejects, compacting it in
// place; lines[] then names the input line of each kept pair. Adds the counts
// to `stats` (unknown = ids of <unk> in kept pairs).
void filter(ParallelCorpus& corpus, const CleanConfig& config, CorpusStats& stats);

// Reads two aligned files, one thread each ("-" is stdin for one of them), and
// filters them. Throws InputError(file, line) on invalid UTF-8 (the source's
// first when both have some) and Error naming both files and their line
// counts when the counts differ.
ParallelCorpus read_parallel_corpus(const std::string& source_path, const std::string& target_path,
                                    const Vocabulary& source_vocabulary, const Vocabulary& target_vocabulary,
                                    const CleanConfig& config, CorpusStats& stats);

// For a corpus read from `copies` equal parts, one after the other (one
// corpus segmented `copies` times, as with BPE-dropout), the part each kept
// pair came from, for make_batches' groups. Throws Error naming `source_path`
// when its `stats.pairs` lines do not split into `copies` equal parts, and
// UsageError for 0 copies.
std::vector<std::uint32_t> copy_of_pairs(const ParallelCorpus& corpus, const CorpusStats& stats, std::size_t copies,
                                         const std::string& source_path);

// "kept 28990 of 29000 pairs; dropped 3 empty, 7 longer than 256 tokens, ..."
std::string describe(const CorpusStats& stats, const CleanConfig& config);

}  // namespace tfm
