// Applying learned BPE merges to text, with output identical to subword-nmt
// 0.3.8's apply_bpe: each word is split into characters (the last one marked
// with `</w>` in codes version 0.2) and the pair with the earliest merge is
// merged, all its occurrences left to right, until no pair is in the codes;
// non-final units get the separator ("Wort@@ schatz"). Also its vocabulary
// filter (merges producing a unit rarer than a threshold are undone
// recursively), glossaries and BPE-dropout. Links nothing of the learner.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tfm/text/bpe_codes.h"
#include "tfm/text/bpe_glossary.h"
#include "tfm/text/word_counts.h"

namespace tfm {

struct BpeApplyConfig {
  std::string separator = "@@";         // appended to every non-final unit
  std::vector<std::string> glossaries;  // words/regexes never split (bpe_glossary.h)
  double dropout = 0;                   // probability of skipping each merge candidate
  std::uint64_t seed = 0;               // dropout randomness: same seed, same output
  bool concurrent = true;               // false: one thread only, the cache takes no locks
};

// Reads a vocabulary (`word count` lines, get-vocab's format) and keeps the
// words with count >= threshold (all when threshold < 0). Throws InputError
// naming the line for a line without a count.
std::unordered_set<std::string> read_bpe_vocabulary(const std::string& path, long threshold);

class BpeSegmentCache;
template <class Value, class Key, class Stamp>
class FlatMap;

// Segments text with one set of codes. Thread-safe unless configured with
// concurrent = false: apply_line may be called concurrently; a shared cache
// keeps the segmentation of frequent words.
class BpeApplier {
 public:
  // `vocabulary` empty means no vocabulary filter (as in subword-nmt, where an
  // empty set is no filter). Throws UsageError for invalid glossaries or a
  // dropout outside [0, 1].
  BpeApplier(const BpeCodes& codes, BpeApplyConfig config, std::unordered_set<std::string> vocabulary = {});
  ~BpeApplier();

  // Segments one input line (without its '\n') into `out`, as apply_bpe's
  // process_line: words split at spaces, repeated spaces collapsed, leading
  // and trailing spaces kept. A '\r' ends a line as in Python's universal
  // newlines ("a\r\nb" reads as "a", "b"; the output has '\n'). `line_number`
  // selects the dropout randomness, so results do not depend on threads.
  void apply_line(std::string_view line, std::uint64_t line_number, std::string& out) const;

  // The units of one word (no spaces), without separators.
  std::vector<std::string> segment_word(std::string_view word) const;

 private:
  struct Piece {
    std::uint32_t begin, end;
    std::int32_t id;  // symbol id, -1 when not in the codes
  };
  class Random;
  void build_reverse(const BpeCodes& codes);
  void apply_spaced_line(std::string_view line, Random* random, std::string& out) const;
  void append_token(std::string_view token, Random* random, std::string& out) const;
  std::vector<std::string> encode(std::string_view word, Random* random) const;
  std::vector<Piece> initial_pieces(std::string_view word) const;
  bool merge_best_pair(std::vector<Piece>& pieces, Random* random) const;
  void merge_all(std::vector<Piece>& pieces) const;
  std::int32_t symbol_id(std::string_view text) const;
  std::vector<std::string> check_vocabulary(std::vector<std::string> units) const;
  void recursive_split(const std::string& unit, bool final, std::vector<std::string>& out) const;

  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
public:
  struct Merge {  // a merge's position in the codes and the id of its result
    std::int32_t rank = 0, result = 0;
  };

 private:
  int version_;
  BpeApplyConfig config_;
  BpeGlossaries glossaries_;
  std::unordered_set<std::string, Hash, std::equal_to<>> vocabulary_;
  std::unordered_map<std::string, std::int32_t, Hash, std::equal_to<>> symbol_ids_;
  std::unique_ptr<FlatMap<Merge, std::uint64_t, void>> merges_;  // (left id, right id) -> merge
  // merged text -> pair; only with a vocabulary
  std::unordered_map<std::string, std::pair<std::string, std::string>> reverse_;
  std::int32_t end_of_word_id_ = -1;  // the lone `</w>` symbol of version 0.1
  // Ids of the one-byte characters inside a word and at its end (with `</w>`
  // in version 0.2): most characters, looked up without hashing.
  std::array<std::int32_t, 128> ascii_ids_{}, ascii_final_ids_{};
  std::unique_ptr<BpeSegmentCache> cache_;
};

// The word counts of a text file once segmented (learn-joint-bpe-and-vocab's
// vocabularies). Throws InputError on invalid UTF-8, IoError on read failure.
WordCounts count_segmented_words(const BpeApplier& applier, const std::string& path);

// Undoes BPE on one line as `sed -E 's/(@@ )|(@@ ?$)//g'` does (with
// `separator` for "@@"): every separator followed by a space, and one at the
// end of the line, is removed. undo(apply(x)) == x for text with single
// spaces between words and no separator of its own.
void undo_bpe(std::string_view line, std::string_view separator, std::string& out);

}  // namespace tfm
