#include "tfm/text/bpe_apply.h"

#include <algorithm>
#include <climits>
#include <atomic>
#include <bit>
#include <thread>

#include "tfm/core/error.h"
#include "tfm/core/flat_map.h"
#include "tfm/core/line_io.h"
#include "tfm/core/splitmix64.h"
#include "tfm/core/utf8.h"
#include "tfm/text/word_counts.h"

namespace tfm {

// Segmentations of words seen before (without dropout), shared by threads:
// 64 shards, each a flat table from a 64-bit hash of the word to its text in
// an arena (word then segmentation), behind a spin lock held for a lookup.
// Bounded: a full shard caches nothing more.
class BpeSegmentCache {
 public:
  explicit BpeSegmentCache(bool concurrent) : concurrent_(concurrent) {
    if (!concurrent_) recent_.resize(kRecent);
  }
  bool find(std::string_view word, std::string& out) {
    const std::uint64_t hash = hash_of(word);
    Shard& shard = shards_[hash >> 58];
    // One thread: a small direct-mapped table of recent hits, which the
    // frequent words fill, stays in cache where the big table cannot.
    Recent* recent = concurrent_ ? nullptr : &recent_[hash % kRecent];
    if (recent && recent->hash == hash && emit(shard.arena, recent->entry, word, out)) return true;
    const Lock lock(shard.busy, concurrent_);
    const Entry* entry = shard.index.find(hash);
    if (!entry || !emit(shard.arena, *entry, word, out)) return false;
    if (recent) *recent = Recent{hash, *entry};
    return true;
  }
  void add(std::string_view word, std::string_view segmented) {
    const std::uint64_t hash = hash_of(word);
    Shard& shard = shards_[hash >> 58];
    const Lock lock(shard.busy, concurrent_);
    if (shard.arena.size() + word.size() + segmented.size() > kArenaBytes || word.size() > 0xFFFF ||
        segmented.size() > 0xFFFF)
      return;
    Entry entry;
    entry.offset = static_cast<std::uint32_t>(shard.arena.size());
    entry.key_length = static_cast<std::uint16_t>(word.size());
    entry.value_length = static_cast<std::uint16_t>(segmented.size());
    entry.unsplit = segmented == word;
    word.copy(entry.head, kHead);
    bool added;
    shard.index.get(hash, entry, added);
    if (!added) return;
    shard.arena.insert(shard.arena.end(), word.begin(), word.end());
    shard.arena.insert(shard.arena.end(), segmented.begin(), segmented.end());
  }

 private:
  static constexpr std::size_t kShards = 64, kArenaBytes = std::size_t(1) << 19;
  static constexpr std::size_t kHead = 15, kRecent = 4096;
  struct Entry {  // with its 8-byte key, a 32-byte slot
    std::uint32_t offset = 0;
    std::uint16_t key_length = 0, value_length = 0;
    bool unsplit = false;  // the segmentation is the word itself
    char head[kHead] = {};  // the word's first bytes
  };
  struct Recent {
    std::uint64_t hash = ~std::uint64_t(0);
    Entry entry;
  };
  // Appends the segmentation of `word` if `entry` is its own (not a collision).
  static bool emit(const std::vector<char>& arena, const Entry& entry, std::string_view word, std::string& out) {
    if (entry.key_length != word.size()) return false;
    // Most words are short and most are not split: then the entry is all we read.
    const char* text = arena.data() + entry.offset;
    const std::string_view key =
        word.size() <= kHead ? std::string_view(entry.head, word.size()) : std::string_view(text, word.size());
    if (key != word) return false;
    if (entry.unsplit)
      out += word;
    else
      out.append(text + entry.key_length, entry.value_length);
    return true;
  }
  struct Shard {
    std::atomic_flag busy;
    FlatMap<Entry> index{64};  // grows as needed: unused slots would cost page faults at start-up
    std::vector<char> arena;
  };
  struct Lock {
    Lock(std::atomic_flag& flag, bool needed) : flag_(needed ? &flag : nullptr) {
      if (flag_)
        while (flag_->test_and_set(std::memory_order_acquire)) std::this_thread::yield();
    }
    ~Lock() {
      if (flag_) flag_->clear(std::memory_order_release);
    }
    std::atomic_flag* flag_;
  };
  static std::uint64_t hash_of(std::string_view word) { return string_key(word); }
  bool concurrent_;
  Shard shards_[kShards];
  std::vector<Recent> recent_;
};

// Seeded per line: dropout decisions depend on (seed, line) only.
class BpeApplier::Random : public SplitMix64 {
 public:
  Random(std::uint64_t seed, std::uint64_t line) : SplitMix64(seed ^ (line * 0xD1B54A32D192ED03ull)) {}
};

namespace {

std::uint64_t key(std::int32_t left, std::int32_t right) {
  return (std::uint64_t(std::uint32_t(left)) << 32) | std::uint32_t(right);
}

// `text` without its last `n` code points.
std::string drop_last_code_points(const std::string& text, std::size_t n) {
  std::size_t end = text.size();
  for (; n > 0 && end > 0; --n)
    do --end;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80);
  return text.substr(0, end);
}

}  // namespace

std::unordered_set<std::string> read_bpe_vocabulary(const std::string& path, long threshold) {
  std::unordered_set<std::string> vocabulary;
  read_word_count_lines(path, [&](std::string_view word, std::int64_t count, std::size_t) {
    if (threshold < 0 || count >= threshold) vocabulary.emplace(word);
  });
  return vocabulary;
}

BpeApplier::BpeApplier(const BpeCodes& codes, BpeApplyConfig config, std::unordered_set<std::string> vocabulary)
    : version_(codes.version),
      config_(std::move(config)),
      glossaries_(config_.glossaries),
      vocabulary_(vocabulary.begin(), vocabulary.end()),
      merges_(std::make_unique<FlatMap<Merge, std::uint64_t>>(std::bit_ceil(2 * codes.merges.size() + 2))),  // no rehash
      cache_(std::make_unique<BpeSegmentCache>(config_.concurrent)) {
  if (!(config_.dropout >= 0 && config_.dropout <= 1)) throw UsageError("--dropout must be between 0 and 1");
  const auto intern = [&](const std::string& text) {
    return symbol_ids_.try_emplace(text, static_cast<std::int32_t>(symbol_ids_.size())).first->second;
  };
  symbol_ids_.reserve(2 * codes.merges.size());
  for (std::size_t i = 0; i < codes.merges.size(); ++i) {
    const auto& [left, right] = codes.merges[i];
    const std::int32_t l = intern(left), r = intern(right), m = intern(left + right);
    bool added;
    merges_->get(key(l, r), Merge{static_cast<std::int32_t>(i), m}, added);  // the first duplicate wins
  }
  if (!vocabulary_.empty()) build_reverse(codes);
  if (const auto it = symbol_ids_.find(kEndOfWord); it != symbol_ids_.end()) end_of_word_id_ = it->second;
  for (std::size_t c = 0; c < ascii_ids_.size(); ++c) {
    const std::string text(1, static_cast<char>(c));
    ascii_ids_[c] = symbol_id(text);
    ascii_final_ids_[c] = version_ == 2 ? symbol_id(text + std::string(kEndOfWord)) : ascii_ids_[c];
  }
}

// subword-nmt's reverse table (for the vocabulary filter only): of pairs that
// concatenate to the same unit, the one whose last occurrence comes first.
void BpeApplier::build_reverse(const BpeCodes& codes) {
  std::unordered_map<std::uint64_t, std::int32_t> last_rank;
  for (std::size_t i = 0; i < codes.merges.size(); ++i) {
    const auto& [left, right] = codes.merges[i];
    last_rank[key(symbol_ids_.at(left), symbol_ids_.at(right))] = static_cast<std::int32_t>(i);
  }
  std::unordered_map<std::string, std::int32_t> reverse_rank;
  for (std::size_t i = 0; i < codes.merges.size(); ++i) {
    const auto& [left, right] = codes.merges[i];
    const std::int32_t rank = last_rank.at(key(symbol_ids_.at(left), symbol_ids_.at(right)));
    const auto [it, added] = reverse_rank.try_emplace(left + right, rank);
    if (added || rank < it->second) {
      it->second = rank;
      reverse_[left + right] = codes.merges[i];
    }
  }
}

BpeApplier::~BpeApplier() = default;

std::int32_t BpeApplier::symbol_id(std::string_view text) const {
  const auto it = symbol_ids_.find(text);
  return it == symbol_ids_.end() ? -1 : it->second;
}

// One unit per character; the last carries `</w>` (version 0.2) or is
// followed by a `</w>` unit of its own (version 0.1, empty range).
std::vector<BpeApplier::Piece> BpeApplier::initial_pieces(std::string_view word) const {
  std::vector<Piece> pieces;
  pieces.reserve(word.size() + 1);
  for (std::size_t pos = 0; pos < word.size();) {
    const auto begin = static_cast<std::uint32_t>(pos);
    const auto byte = static_cast<unsigned char>(word[pos]);
    pos += utf8_sequence_length(byte);
    const std::string_view text = word.substr(begin, pos - begin);
    const bool last = pos >= word.size();
    std::int32_t id;
    if (byte < 0x80)
      id = (last ? ascii_final_ids_ : ascii_ids_)[byte];
    else
      id = last && version_ == 2 ? symbol_id(std::string(text) + std::string(kEndOfWord)) : symbol_id(text);
    pieces.push_back(Piece{begin, static_cast<std::uint32_t>(pos), id});
  }
  if (version_ == 1) {
    const auto end = static_cast<std::uint32_t>(word.size());
    pieces.push_back(Piece{end, end, end_of_word_id_});
  }
  return pieces;
}

// One round of apply_bpe's loop: the pair with the earliest merge (then the
// leftmost), merged at all its positions left to right without overlaps.
// With dropout each candidate position is skipped with that probability.
bool BpeApplier::merge_best_pair(std::vector<Piece>& pieces, Random* random) const {
  const std::size_t n = pieces.size();
  std::vector<char> dropped(random ? n : 0, 0);
  const Merge* best = nullptr;
  std::size_t best_i = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (random && !(random->uniform() > config_.dropout)) {
      dropped[i] = 1;
      continue;
    }
    if (pieces[i].id < 0 || pieces[i + 1].id < 0) continue;
    const Merge* merge = merges_->find(key(pieces[i].id, pieces[i + 1].id));
    if (merge && (!best || merge->rank < best->rank)) {
      best = merge;
      best_i = i;
    }
  }
  if (!best) return false;
  const std::int32_t left = pieces[best_i].id, right = pieces[best_i + 1].id;
  std::size_t out = best_i;  // merged in place: `out` never passes `i`
  for (std::size_t i = best_i; i < n;) {
    if (i + 1 < n && !(random && dropped[i]) && pieces[i].id == left && pieces[i + 1].id == right) {
      pieces[out++] = Piece{pieces[i].begin, pieces[i + 1].end, best->result};
      i += 2;
    } else {
      pieces[out++] = pieces[i++];
    }
  }
  pieces.resize(out);
  return true;
}

// The same rounds as merge_best_pair without dropout, all of them: the rank
// of each adjacent pair is kept and looked up again only next to merged
// units, instead of for every pair in every round.
void BpeApplier::merge_all(std::vector<Piece>& pieces) const {
  constexpr Merge kNone{INT32_MAX, -1};
  const auto merge_at = [&](std::size_t i) {
    if (pieces[i].id < 0 || pieces[i + 1].id < 0) return kNone;
    const Merge* merge = merges_->find(key(pieces[i].id, pieces[i + 1].id));
    return merge ? *merge : kNone;
  };
  std::vector<Merge> merges(pieces.size());  // merges[i]: of pieces i and i + 1
  for (std::size_t i = 0; i + 1 < pieces.size(); ++i) merges[i] = merge_at(i);
  const auto by_rank = [](const Merge& a, const Merge& b) { return a.rank < b.rank; };
  for (std::size_t n = pieces.size(); n > 1; n = pieces.size()) {
    const auto best_i =
        static_cast<std::size_t>(std::min_element(merges.begin(), merges.begin() + (n - 1), by_rank) - merges.begin());
    if (merges[best_i].rank == kNone.rank) return;
    const std::int32_t left = pieces[best_i].id, right = pieces[best_i + 1].id, result = merges[best_i].result;
    std::size_t out = best_i;
    for (std::size_t i = best_i; i < n; ++out) {
      const bool merge = i + 1 < n && pieces[i].id == left && pieces[i + 1].id == right;
      const bool after_merge = out > best_i && pieces[out - 1].id == result;
      if (merge) {
        pieces[out] = Piece{pieces[i].begin, pieces[i + 1].end, result};
        i += 2;
      } else {
        pieces[out] = pieces[i];
        merges[out] = merges[i];  // stays right unless the next piece is merged: then redone below
        ++i;
      }
      if (out > 0 && (merge || after_merge)) merges[out - 1] = merge_at(out - 1);
    }
    pieces.resize(out);
  }
}

std::vector<std::string> BpeApplier::encode(std::string_view word, Random* random) const {
  if (glossaries_.matches(word) || utf8_length(word) == 1) return {std::string(word)};
  std::vector<Piece> pieces = initial_pieces(word);
  if (random)
    while (pieces.size() > 1 && merge_best_pair(pieces, random)) {
    }
  else
    merge_all(pieces);
  if (pieces.back().begin == pieces.back().end) pieces.pop_back();  // a lone `</w>` (0.1)
  std::vector<std::string> units;
  for (const Piece& piece : pieces) units.emplace_back(word.substr(piece.begin, piece.end - piece.begin));
  return vocabulary_.empty() ? units : check_vocabulary(std::move(units));
}

std::vector<std::string> BpeApplier::segment_word(std::string_view word) const {
  std::vector<std::string> units;
  for (const std::string& segment : glossaries_.isolate(std::string(word)))
    for (std::string& unit : encode(segment, nullptr)) units.push_back(std::move(unit));
  return units;
}

// check_vocab_and_split: units not in the vocabulary (non-final ones with the
// separator) are split again by undoing merges.
std::vector<std::string> BpeApplier::check_vocabulary(std::vector<std::string> units) const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 1 < units.size(); ++i) {
    if (vocabulary_.contains(units[i] + config_.separator))
      out.push_back(units[i]);
    else
      recursive_split(units[i], false, out);
  }
  if (vocabulary_.contains(units.back()))
    out.push_back(units.back());
  else
    recursive_split(units.back(), true, out);
  return out;
}

void BpeApplier::recursive_split(const std::string& unit, bool final, std::vector<std::string>& out) const {
  const auto it = reverse_.find(final ? unit + std::string(kEndOfWord) : unit);
  if (it == reverse_.end()) {
    out.push_back(unit);
    return;
  }
  const std::string& left = it->second.first;
  const std::string right = final ? drop_last_code_points(it->second.second, 4) : it->second.second;
  if (vocabulary_.contains(left + config_.separator))
    out.push_back(left);
  else
    recursive_split(left, false, out);
  if (vocabulary_.contains(final ? right : right + config_.separator))
    out.push_back(right);
  else
    recursive_split(right, final, out);
}

void BpeApplier::append_token(std::string_view token, Random* random, std::string& out) const {
  if (!random && cache_->find(token, out)) return;
  std::vector<std::string> units;
  for (const std::string& segment : glossaries_.empty() ? std::vector<std::string>{std::string(token)}
                                                        : glossaries_.isolate(std::string(token)))
    for (std::string& unit : encode(segment, random)) units.push_back(std::move(unit));
  const std::size_t start = out.size();
  for (std::size_t i = 0; i < units.size(); ++i) {
    out += units[i];
    if (i + 1 < units.size()) (out += config_.separator) += ' ';
  }
  if (!random) cache_->add(token, std::string_view(out).substr(start));
}

// process_line on a line without '\r' or '\n'.
void BpeApplier::apply_spaced_line(std::string_view line, Random* random, std::string& out) const {
  const std::size_t first = line.find_first_not_of(' ');
  if (first == std::string_view::npos) {
    out += line;
    return;
  }
  const std::size_t last = line.find_last_not_of(' ');
  out += line.substr(0, first);
  bool any = false;
  for (std::size_t start = first; start <= last;) {
    std::size_t end = line.find(' ', start);
    if (end == std::string_view::npos || end > last) end = last + 1;
    if (end > start) {
      if (any) out += ' ';
      append_token(line.substr(start, end - start), random, out);
      any = true;
    }
    start = end + 1;
  }
  out += line.substr(last + 1);
}

void BpeApplier::apply_line(std::string_view line, std::uint64_t line_number, std::string& out) const {
  Random random(config_.seed, line_number);
  Random* dropout = config_.dropout > 0 ? &random : nullptr;
  if (line.ends_with('\r')) line.remove_suffix(1);  // "\r\n" is one line end
  for (std::size_t start = 0;;) {
    const std::size_t cr = line.find('\r', start);
    apply_spaced_line(line.substr(start, cr - start), dropout, out);
    if (cr == std::string_view::npos) break;
    out += '\n';
    start = cr + 1;
  }
}

WordCounts count_segmented_words(const BpeApplier& applier, const std::string& path) {
  LineReader reader(path);
  WordCounts counts;
  std::string_view line;
  for (std::string out; reader.next(line); out.clear()) {
    if (!is_valid_utf8(line)) throw InputError(display_name(path), reader.line_number(), "invalid UTF-8");
    applier.apply_line(line, reader.line_number(), out);
    counts.add_line(out);
  }
  return counts;
}

void undo_bpe(std::string_view line, std::string_view separator, std::string& out) {
  for (std::size_t i = 0; i < line.size();) {
    if (!separator.empty() && line.substr(i).starts_with(separator)) {
      const std::size_t after = i + separator.size();
      if (after == line.size()) return;
      if (line[after] == ' ') {
        i = after + 1;
        continue;
      }
    }
    out += line[i++];
  }
}

}  // namespace tfm
