#include "tfm/text/bpe_learn.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "tfm/core/flat_map.h"
#include "tfm/core/progress.h"
#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"
#include "tfm/text/bpe_codes.h"

namespace tfm {

namespace {

using Symbol = std::uint32_t;
constexpr Symbol kNoSymbol = ~Symbol(0);
using Word = std::vector<Symbol>;

// A symbol pair with its counts in subword-nmt's two tables: `stats` (present
// only while in_stats) and `big_stats` (present once in_big).
struct PairEntry {
  Symbol left, right;
  std::uint64_t left_prefix, right_prefix;  // first 8 bytes, big-endian: most ties end there
  std::int64_t stats = 0, big = 0;
  std::int64_t delta = 0;  // the current merge's change to stats, applied at its end
  bool in_stats = false, in_big = false;
  bool in_order = false;  // in ranked_ (stats >= threshold), else in low_
  bool touched = false;   // listed in touched_ (its delta may be zero)
  std::vector<std::uint32_t> words;  // words with an index entry for this pair
};

class Learner {
 public:
  Learner(const WordCounts& counts, BpeLearnResult& result);
  BpeLearnResult run(const BpeLearnConfig& config, long symbols, const MergeObserver& observer);

 private:
  // A pair with its stats when pushed on ranked_: stale once they changed.
  struct Ranked {
    std::int64_t stats;
    std::uint32_t pair;
  };
  struct ByStats {
    const Learner* learner;
    bool operator()(const Ranked& a, const Ranked& b) const {
      return a.stats != b.stats ? a.stats < b.stats : learner->less_text(a.pair, b.pair);
    }
  };

  Symbol intern(std::string_view text);
  std::uint32_t pair_id(Symbol left, Symbol right);
  bool less(std::uint32_t a, std::uint32_t b, bool by_big) const;
  bool less_text(std::uint32_t a, std::uint32_t b) const;
  std::uint32_t best_ranked();
  void stats_set(std::uint32_t pair, std::int64_t value);
  void stats_add(std::uint32_t pair, std::int64_t delta);
  void index_add(std::uint32_t pair, std::uint32_t word, int delta);
  std::int32_t index_take(std::uint32_t pair, std::uint32_t word);
  void add_delta(std::uint32_t pair, std::int64_t delta);
  void prune();
  std::uint32_t reload_from_big(long i);
  void merge_pair(std::uint32_t pair);
  static void merge_in_place(Word& word, Symbol left, Symbol right, Symbol merged);
  Word merge_like_regex(const Word& word, Symbol left, Symbol right);
  void prefetch_word(std::uint32_t word, bool contents) const;
  void count_old_word(std::uint32_t word, const Word& old, Symbol first, Symbol second, std::int64_t freq);
  void count_new_word(std::uint32_t word, const Word& now, Symbol merged, std::int64_t freq);

  std::vector<std::string> symbol_text_;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Symbol, Hash, std::equal_to<>> symbol_ids_;
  // subword-nmt's indices[pair][word], stored by word: a word holds few
  // pairs, so a short vector scanned in cache beats a global hash table.
  struct IndexEntry {
    std::uint32_t pair;
    std::int32_t count;
  };
  // All a merge reads of a word, in one cache line.
  struct alignas(64) WordState {
    Word symbols;
    std::vector<IndexEntry> index;
    std::int64_t freq = 0;
    std::uint32_t stamp = 0;  // the last merge that rewrote the word
    bool has_inner_whitespace = false;
  };
  std::vector<WordState> words_;
  std::uint32_t merge_stamp_ = 0;
  std::vector<PairEntry> pairs_;
  FlatMap<std::uint32_t> pair_ids_;
  // `stats` split at the threshold: pairs at or above it in a max-heap,
  // those below it only listed, as they can never be picked (the best pair
  // below the threshold means a reload) and only wait for the next prune.
  // This keeps most updates out of the heap. A change pushes the pair again;
  // entries whose stats are no longer the pair's are dropped when on top (the
  // heap holds an entry per change, bounded by the merge work on the word
  // dictionary; on Multi30k fewer entries than there are pairs).
  double threshold_ = 0;
  std::vector<Ranked> ranked_;
  std::vector<std::uint32_t> low_;  // may list a pair that has moved since
  std::vector<std::uint32_t> touched_;  // pairs with a delta (possibly zero)
};

std::uint64_t key(std::uint32_t high, std::uint32_t low) { return (std::uint64_t(high) << 32) | low; }

// The first 8 bytes of `text` as a big-endian number (zero-padded): ordered
// as the strings are whenever the numbers differ.
std::uint64_t prefix_key(std::string_view text) {
  std::uint64_t k = 0;
  for (std::size_t i = 0; i < 8; ++i) k = (k << 8) | (i < text.size() ? static_cast<unsigned char>(text[i]) : 0u);
  return k;
}

Learner::Learner(const WordCounts& counts, BpeLearnResult& result) {
  std::unordered_set<Symbol> internal, final_chars;
  std::vector<Symbol> ascii(256, kNoSymbol), ascii_final(256, kNoSymbol);  // most characters
  words_.reserve(counts.size());
  for (const auto& [text, freq] : counts.entries()) {
    Word word;
    word.reserve(text.size());  // one allocation: a word has at most one symbol per byte
    bool whitespace = false;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t start = pos;
      const char32_t c = decode_utf8(text, pos);
      whitespace |= unicode_is(c, kPySpace);
      const bool last = pos == text.size();
      Symbol& known = (last ? ascii_final : ascii)[c < 128 ? c : 0];
      if (c < 128 && known != kNoSymbol) {
        word.push_back(known);
      } else {
        const std::string_view character = std::string_view(text).substr(start, pos - start);
        word.push_back(last ? intern(std::string(character) + std::string(kEndOfWord)) : intern(character));
        (last ? final_chars : internal).insert(word.back());
        if (c < 128) known = word.back();
      }
    }
    const auto w = static_cast<std::uint32_t>(words_.size());
    words_.emplace_back().index.reserve(word.size());
    for (std::size_t i = 1; i < word.size(); ++i) {
      const std::uint32_t p = pair_id(word[i - 1], word[i]);
      pairs_[p].stats += freq;
      index_add(p, w, 1);
    }
    words_[w].symbols = std::move(word);
    words_[w].freq = freq;
    words_[w].has_inner_whitespace = whitespace;
  }
  std::int64_t max_stats = 0;
  for (const PairEntry& entry : pairs_) max_stats = std::max(max_stats, entry.stats);
  threshold_ = static_cast<double>(max_stats) / 10.0;  // subword-nmt's first threshold
  for (std::uint32_t p = 0; p < pairs_.size(); ++p) {
    pairs_[p].big = pairs_[p].stats;
    pairs_[p].in_big = true;
    stats_set(p, pairs_[p].stats);
  }
  result.internal_chars = internal.size();
  result.final_chars = final_chars.size();
}

Symbol Learner::intern(std::string_view text) {
  if (const auto it = symbol_ids_.find(text); it != symbol_ids_.end()) return it->second;
  const auto id = static_cast<Symbol>(symbol_text_.size());
  symbol_ids_.emplace(text, id);
  symbol_text_.emplace_back(text);
  return id;
}

std::uint32_t Learner::pair_id(Symbol left, Symbol right) {
  bool added;
  const std::uint32_t id = pair_ids_.get(key(left, right), static_cast<std::uint32_t>(pairs_.size()), added);
  if (added) {
    PairEntry& entry = pairs_.emplace_back();
    entry.left = left;
    entry.right = right;
    entry.left_prefix = prefix_key(symbol_text_[left]);
    entry.right_prefix = prefix_key(symbol_text_[right]);
  }
  return id;
}

void Learner::add_delta(std::uint32_t pair, std::int64_t delta) {
  PairEntry& entry = pairs_[pair];
  if (!entry.touched) {
    entry.touched = true;
    touched_.push_back(pair);
  }
  entry.delta += delta;
}

// subword-nmt's order: (frequency, left, right), strings compared by code
// point, which is the byte order of UTF-8.
bool Learner::less(std::uint32_t a, std::uint32_t b, bool by_big) const {
  const PairEntry& x = pairs_[a];
  const PairEntry& y = pairs_[b];
  const std::int64_t fx = by_big ? x.big : x.stats, fy = by_big ? y.big : y.stats;
  return fx != fy ? fx < fy : less_text(a, b);
}

bool Learner::less_text(std::uint32_t a, std::uint32_t b) const {
  const PairEntry& x = pairs_[a];
  const PairEntry& y = pairs_[b];
  if (x.left != y.left)
    return x.left_prefix != y.left_prefix ? x.left_prefix < y.left_prefix
                                          : symbol_text_[x.left] < symbol_text_[y.left];
  return x.right_prefix != y.right_prefix ? x.right_prefix < y.right_prefix
                                          : symbol_text_[x.right] < symbol_text_[y.right];
}

void Learner::stats_set(std::uint32_t pair, std::int64_t value) {
  PairEntry& entry = pairs_[pair];
  const bool was_low = entry.in_stats && !entry.in_order;
  entry.stats = value;
  entry.in_stats = true;
  entry.in_order = static_cast<double>(value) >= threshold_;
  if (entry.in_order) {
    ranked_.push_back(Ranked{value, pair});
    std::push_heap(ranked_.begin(), ranked_.end(), ByStats{this});
  } else if (!was_low) {
    low_.push_back(pair);
  }
}

// The best pair at or above the threshold (UINT32_MAX when there is none):
// the top of the heap once stale entries are dropped. A pair may have two
// current entries (its stats went back to an earlier value): either will do.
std::uint32_t Learner::best_ranked() {
  for (; !ranked_.empty(); ranked_.pop_back()) {
    const Ranked& top = ranked_.front();
    const PairEntry& entry = pairs_[top.pair];
    if (entry.in_order && entry.stats == top.stats) return top.pair;
    std::pop_heap(ranked_.begin(), ranked_.end(), ByStats{this});
  }
  return UINT32_MAX;
}

// stats[pair] += delta on a defaultdict: a pruned pair comes back with only
// the delta.
void Learner::stats_add(std::uint32_t pair, std::int64_t delta) {
  const PairEntry& entry = pairs_[pair];
  stats_set(pair, (entry.in_stats ? entry.stats : 0) + delta);
}

// indices[pair][word] += delta. A zero count reads as absent (a defaultdict),
// so it is dropped to save memory; the word list may then repeat a word.
void Learner::index_add(std::uint32_t pair, std::uint32_t word, int delta) {
  auto& entries = words_[word].index;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].pair != pair) continue;
    if ((entries[i].count += delta) == 0) {
      entries[i] = entries.back();
      entries.pop_back();
    }
    return;
  }
  entries.push_back(IndexEntry{pair, delta});
  pairs_[pair].words.push_back(word);
}

// Removes indices[pair][word], returning its count (0 when absent).
std::int32_t Learner::index_take(std::uint32_t pair, std::uint32_t word) {
  auto& entries = words_[word].index;
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (entries[i].pair == pair) {
      const std::int32_t count = entries[i].count;
      entries[i] = entries.back();
      entries.pop_back();
      return count;
    }
  return 0;
}

// prune_stats: drops pairs below the threshold (those of low_) from `stats`
// into `big_stats`: a non-negative value replaces the stored one, a negative
// one adds to it.
void Learner::prune() {
  for (const std::uint32_t p : low_) {
    PairEntry& entry = pairs_[p];
    if (!entry.in_stats || entry.in_order) continue;  // moved up, or listed twice
    entry.in_stats = false;
    entry.big = entry.stats < 0 && entry.in_big ? entry.big + entry.stats : entry.stats;
    entry.in_big = true;
  }
  low_.clear();
}

// `stats = deepcopy(big_stats)`, then the new threshold and the prune with it
// (done in one pass: only pairs at or above the threshold enter `stats`); returns
// the best pair (or UINT32_MAX when there are no pairs at all).
std::uint32_t Learner::reload_from_big(long i) {
  std::uint32_t best = UINT32_MAX;
  for (std::uint32_t p = 0; p < pairs_.size(); ++p)
    if (pairs_[p].in_big && (best == UINT32_MAX || less(best, p, true))) best = p;
  if (best == UINT32_MAX) return best;
  threshold_ = static_cast<double>(pairs_[best].big * i) / (static_cast<double>(i) + 10000.0);
  for (std::uint32_t p = 0; p < pairs_.size(); ++p) {
    PairEntry& entry = pairs_[p];
    if (!entry.in_big) continue;
    if (static_cast<double>(entry.big) >= threshold_) {
      stats_set(p, entry.big);
    } else if (entry.big < 0) {
      entry.big += entry.big;  // pruned straight back: a negative value adds to itself
    }
  }
  return best;
}

}  // namespace

namespace {

// Non-overlapping occurrences left to right, as subword-nmt's regex replaces.
void Learner::merge_in_place(Word& word, Symbol left, Symbol right, Symbol merged) {
  std::size_t out = 0;
  for (std::size_t i = 0; i < word.size(); ++i, ++out) {
    if (i + 1 < word.size() && word[i] == left && word[i + 1] == right) {
      word[out] = merged;
      ++i;
    } else {
      word[out] = word[i];
    }
  }
  word.resize(out);
}

bool python_space_before(std::string_view text, std::size_t pos) {
  if (pos == 0) return true;
  std::size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return unicode_is(decode_utf8(text, start), kPySpace);
}

bool python_space_at(std::string_view text, std::size_t pos) {
  return pos == text.size() || unicode_is(decode_utf8(text, pos), kPySpace);
}

// subword-nmt merges by regex on the symbols joined with spaces:
// (?<!\S)left right(?!\S). In a word holding other whitespace (tab, NBSP...)
// that can match inside a symbol, so such words take this literal route.
Word Learner::merge_like_regex(const Word& word, Symbol left, Symbol right) {
  std::string joined;
  for (const Symbol s : word) {
    if (!joined.empty()) joined += ' ';
    joined += symbol_text_[s];
  }
  const std::string pattern = symbol_text_[left] + ' ' + symbol_text_[right];
  std::string replaced;
  std::size_t copied = 0;
  for (std::size_t pos = joined.find(pattern); pos != std::string::npos; pos = joined.find(pattern, pos + 1)) {
    if (pos < copied || !python_space_before(joined, pos) || !python_space_at(joined, pos + pattern.size()))
      continue;
    replaced.append(joined, copied, pos - copied);
    replaced += symbol_text_[left] + symbol_text_[right];
    copied = pos + pattern.size();
  }
  replaced.append(joined, copied);
  Word out;
  for (std::size_t start = 0;;) {
    const std::size_t space = replaced.find(' ', start);
    out.push_back(intern(std::string_view(replaced).substr(start, space - start)));
    if (space == std::string::npos) break;
    start = space + 1;
  }
  return out;
}

// The decrements of update_pair_statistics around each occurrence of the
// merged pair in the old word.
void Learner::count_old_word(std::uint32_t w, const Word& old, Symbol first, Symbol second, std::int64_t freq) {
  const std::size_t n = old.size();
  const auto drop = [&](Symbol a, Symbol b) {
    const std::uint32_t p = pair_id(a, b);
    add_delta(p, -freq);
    index_add(p, w, -1);
  };
  for (std::size_t i = 0; i < n;) {
    if (old[i] != first) {
      ++i;
      continue;
    }
    if (i + 1 < n && old[i + 1] == second) {
      if (i > 0) drop(old[i - 1], old[i]);
      // In "A B C B C" (merging B C) the middle "C B" is dropped once, by the
      // next occurrence.
      if (i + 2 < n && (old[i + 2] != first || i + 3 >= n || old[i + 3] != second)) drop(old[i + 1], old[i + 2]);
      i += 2;
    } else {
      ++i;
    }
  }
}

// The increments: pairs around every symbol equal to the merged one in the
// new word (including one that was there before the merge, as subword-nmt
// counts it).
void Learner::count_new_word(std::uint32_t w, const Word& now, Symbol merged, std::int64_t freq) {
  const auto add = [&](Symbol a, Symbol b) {
    const std::uint32_t p = pair_id(a, b);
    add_delta(p, freq);
    index_add(p, w, 1);
  };
  for (std::size_t i = 0; i < now.size(); ++i) {
    if (now[i] != merged) continue;
    if (i > 0) add(now[i - 1], now[i]);
    if (i + 1 < now.size() && now[i + 1] != merged) add(now[i], now[i + 1]);
  }
}

// Words are visited in no useful order, so each visit would wait for its
// state and then its symbols and index from memory: fetch them ahead.
void Learner::prefetch_word(std::uint32_t word, bool contents) const {
  const WordState& state = words_[word];
  if (!contents) return __builtin_prefetch(&state);
  __builtin_prefetch(state.symbols.data());
  __builtin_prefetch(state.index.data());
}

// replace_pair then update_pair_statistics, word by word: each word's update
// touches only its own index entries, and stats changes are summed per pair
// and applied at the end (nothing reads them in between), so the result is
// subword-nmt's. The pair's own index is reset first, as subword-nmt does.
// The decrements are counted on the word before it is merged in place.
void Learner::merge_pair(std::uint32_t pair) {
  constexpr std::size_t kAhead = 8;  // words whose state is fetched ahead; contents half as far
  const Symbol first = pairs_[pair].left, second = pairs_[pair].right;
  const Symbol merged = intern(symbol_text_[first] + symbol_text_[second]);
  const std::vector<std::uint32_t> words = std::move(pairs_[pair].words);
  pairs_[pair].words.clear();
  ++merge_stamp_;
  for (std::size_t k = 0; k < words.size(); ++k) {
    if (k + kAhead < words.size()) prefetch_word(words[k + kAhead], false);
    if (k + kAhead / 2 < words.size()) prefetch_word(words[k + kAhead / 2], true);
    // A word may be listed twice; once updated, its new entries must stay.
    const std::uint32_t w = words[k];
    WordState& word = words_[w];
    if (word.stamp == merge_stamp_) continue;
    if (index_take(pair, w) < 1) continue;
    word.stamp = merge_stamp_;
    count_old_word(w, word.symbols, first, second, word.freq);
    if (word.has_inner_whitespace)
      word.symbols = merge_like_regex(word.symbols, first, second);
    else
      merge_in_place(word.symbols, first, second, merged);
    count_new_word(w, word.symbols, merged, word.freq);
  }
  for (const std::uint32_t p : touched_) {
    stats_add(p, pairs_[p].delta);  // a zero net change still creates the entry
    pairs_[p].delta = 0;
    pairs_[p].touched = false;
  }
  touched_.clear();
}

BpeLearnResult Learner::run(const BpeLearnConfig& config, long symbols, const MergeObserver& observer) {
  BpeLearnResult result;
  if (pairs_.empty()) return result;
  ProgressBar progress("merges", static_cast<std::uint64_t>(std::max(symbols, 0L)), config.progress);
  for (long i = 0; i < symbols; ++i) {
    std::uint32_t best = best_ranked();
    if (best == UINT32_MAX) {  // every pair in `stats` is below the threshold
      prune();
      best = reload_from_big(i);
      if (best == UINT32_MAX) break;
    }
    const std::int64_t frequency = pairs_[best].in_stats ? pairs_[best].stats : 0;
    if (frequency < config.min_frequency) {
      result.stopped_early = true;
      break;
    }
    const PairEntry& entry = pairs_[best];
    result.merges.emplace_back(symbol_text_[entry.left], symbol_text_[entry.right]);
    if (observer) observer(i, result.merges.back().first, result.merges.back().second, frequency);
    merge_pair(best);
    stats_set(best, 0);
    if (i % 100 == 0) prune();
    progress.update(static_cast<std::uint64_t>(i + 1), "freq " + std::to_string(frequency));
  }
  progress.finish();
  return result;
}

}  // namespace

BpeLearnResult learn_bpe(const WordCounts& words, const BpeLearnConfig& config, const MergeObserver& observer) {
  BpeLearnResult counts;
  Learner learner(words, counts);
  long symbols = config.symbols;
  if (config.total_symbols) symbols -= static_cast<long>(counts.internal_chars + counts.final_chars);
  BpeLearnResult result = learner.run(config, symbols, observer);
  result.internal_chars = counts.internal_chars;
  result.final_chars = counts.final_chars;
  return result;
}

}  // namespace tfm
