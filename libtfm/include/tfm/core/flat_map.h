// The library's hash table and string hash: FlatMap, open addressing with
// keys and values side by side in the slots (no allocation per entry), and
// hash_string for words and tokens. BPE's pair ids and segmentation cache
// (text/), the vocabulary's token → id map (data/) and eval's per-segment
// token and n-gram ids are FlatMaps. A table of strings keys each one by its
// hash (string_key) and keeps the strings in a list of its own, in id order;
// the value tells which string an entry stands for.
// Eval's tables, cleared once a segment, stamp their slots (the Stamp
// parameter) so that clear() costs O(1): wiping every slot, tables sized by
// the longest segment, took 7 % of tfm-bleu's instructions on newstest2013
// (callgrind). The other tables keep slots of key and value only: a stamp
// would make the vocabulary's 8-byte slots 12.
// Word counting (text/word_counts.h) keeps its own slots, for a measured
// reason: its 16-byte slots hold a word's first 8 bytes and length, and on a
// FlatMap (24-byte slots, the key beside them) tfm-bpe vocab and learn on
// Multi30k x10 took 1.06-1.08x the CPU time (medians of 9-11 alternated
// whole-process runs, AMD Zen 5, busy machine).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tfm {

// A fast 64-bit hash of a short string (words), eight bytes at a time with
// multiply-xorshift mixing; good enough for hash tables, not cryptographic.
inline std::uint64_t hash_string(std::string_view text) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ text.size();
  const char* p = text.data();
  std::size_t n = text.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t chunk;
    std::memcpy(&chunk, p, 8);
    h = (h ^ chunk) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  // The last 0..7 bytes in at most two loads (overlapping when n >= 4).
  std::uint64_t tail = 0;
  if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    tail = (std::uint64_t(a) << 32) | b;
  } else if (n > 0) {
    const auto byte = [&](std::size_t i) { return std::uint64_t(static_cast<unsigned char>(p[i])); };
    tail = (byte(0) << 16) | (byte(n / 2) << 8) | byte(n - 1);
  }
  h = (h ^ tail) * 0x94D049BB133111EBull;
  h ^= h >> 29;
  h *= 0xFF51AFD7ED558CCDull;
  return h ^ (h >> 32);
}

// A FlatMap key for a string: its hash_string, cut to the key's width and
// never the empty-slot marker.
template <class Key = std::uint64_t>
Key string_key(std::string_view text) {
  const auto key = static_cast<Key>(hash_string(text));
  return key == static_cast<Key>(~Key(0)) ? key - 1 : key;
}

// An open-addressing hash map from unsigned integer keys (never ~0) to small
// values, stored side by side in one array with linear probing: no
// allocation per entry, one cache line per lookup. Exact keys (pairs of ids)
// use find/get/erase. Keys that stand for something longer (a string_key)
// may be shared by several entries: find_if/insert, with the caller telling
// its own entry by the value (an id into its own list of strings).
// `Stamp` (an unsigned type; void for none): each slot also holds the number
// of the clear() it was written after, and slots of earlier numbers count as
// empty, so clear() is O(1) instead of a pass over every slot. For Key
// uint64_t and a 4-byte Value a uint32_t stamp fills the slot's padding.
template <class Value, class Key = std::uint64_t, class Stamp = void>
class FlatMap {
 public:
  // `capacity`: the initial number of slots, a power of two.
  explicit FlatMap(std::size_t capacity = 1024) {
    if constexpr (kStamped) stamp_ = 1;
    rehash(capacity);
  }
  std::size_t size() const { return size_; }

  Value* find(Key key) { return const_cast<Value*>(std::as_const(*this).find(key)); }
  const Value* find(Key key) const {
    return find_if(key, [](const Value&) { return true; });
  }
  // The value of `key`, inserted as `init` if absent; `added` tells which.
  Value& get(Key key, Value init, bool& added) {
    make_room();
    std::size_t i = slot(key);
    for (; !vacant(slots_[i]); i = (i + 1) & mask_)
      if (slots_[i].key == key) return added = false, slots_[i].value;
    added = true;
    return place(i, key, init);
  }
  // The value under `key` for which match(value) holds, or nullptr.
  template <class Match>
  const Value* find_if(Key key, Match match) const {
    for (std::size_t i = slot(key);; i = (i + 1) & mask_) {
      if (holds(slots_[i], key) && match(slots_[i].value)) return &slots_[i].value;
      if (vacant(slots_[i])) return nullptr;
    }
  }
  // Adds an entry under `key`, beside any already there.
  Value& insert(Key key, Value value) {
    make_room();
    std::size_t i = slot(key);
    while (!vacant(slots_[i])) i = (i + 1) & mask_;
    return place(i, key, value);
  }
  // Removes `key` (if present), shifting back later entries of its probe run.
  void erase(Key key) {
    std::size_t i = slot(key);
    while (!holds(slots_[i], key)) {
      if (vacant(slots_[i])) return;
      i = (i + 1) & mask_;
    }
    for (std::size_t j = (i + 1) & mask_; !vacant(slots_[j]); j = (j + 1) & mask_) {
      const std::size_t home = slot(slots_[j].key);
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    vacate(slots_[i]);
    --size_;
  }
  // Removes every entry, keeping the capacity.
  void clear() {
    size_ = 0;
    if constexpr (kStamped) {
      if (++stamp_ != 0) return;
      stamp_ = 1;  // wrapped: slots written under 1 long ago would look live again
    }
    for (Slot& s : slots_) vacate(s);
  }

 private:
  static_assert(std::is_unsigned_v<Key>);
  static constexpr bool kStamped = !std::is_void_v<Stamp>;
  struct NoStamp {};
  using StampField = std::conditional_t<kStamped, Stamp, NoStamp>;
  static_assert(!kStamped || std::is_unsigned_v<StampField>);
  static constexpr Key kEmpty = static_cast<Key>(~Key(0));
  std::size_t slot(Key key) const { return (std::uint64_t(key) * 0x9E3779B97F4A7C15ull) >> shift_; }
  struct PlainSlot {
    Key key = kEmpty;
    Value value{};
  };
  struct StampedSlot {
    Key key = kEmpty;
    Value value{};
    StampField stamp{};  // 0: never written
  };
  using Slot = std::conditional_t<kStamped, StampedSlot, PlainSlot>;
  bool vacant(const Slot& s) const {
    if constexpr (kStamped) return s.stamp != stamp_;
    else return s.key == kEmpty;
  }
  bool holds(const Slot& s, Key key) const {
    if constexpr (kStamped) return s.key == key && s.stamp == stamp_;
    else return s.key == key;
  }
  void vacate(Slot& s) {
    if constexpr (kStamped) s.stamp = 0;
    else s.key = kEmpty;
  }
  // At most half full, so probe runs stay short.
  void make_room() {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
  }
  Value& place(std::size_t i, Key key, Value value) {
    ++size_;
    if constexpr (kStamped) slots_[i] = Slot{key, value, stamp_};
    else slots_[i] = Slot{key, value};
    return slots_[i].value;
  }
  void rehash(std::size_t capacity) {
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    shift_ = 64 - static_cast<int>(std::countr_zero(capacity));
    size_ = 0;
    for (const Slot& s : old)
      if (!vacant(s)) insert(s.key, s.value);
  }
  std::vector<Slot> slots_;  // key and value side by side: one cache miss a probe
  std::size_t mask_ = 0, size_ = 0;
  int shift_ = 64;
  [[no_unique_address]] StampField stamp_{};  // number of the last clear(), from 1
};

}  // namespace tfm
