// Dense per-segment ids for tokens and n-grams (internal to libtfm eval).
// An n-gram's id is the id of the pair (id of its first n-1 units, last
// unit), so every order is interned by one 64-bit-keyed table and counts live
// in plain arrays indexed by id. Ids start at 1; 0 means "absent". Tables are
// cleared in O(1) between segments (a generation stamp per slot).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tfm/core/flat_map.h"

namespace tfm::detail {

// Open addressing over `Key`s; `Hash` and equality on keys.
template <typename Key, typename Hash>
class IdTable {
 public:
  IdTable() { rehash(256); }

  void clear() {
    ++generation_;
    size_ = 0;
  }
  std::uint32_t size() const { return size_; }

  // The key's id, assigning the next one if it is new.
  std::uint32_t intern(const Key& key) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    std::size_t at = slot_of(key);
    if (slots_[at].generation != generation_) {
      slots_[at] = {key, ++size_, generation_};
    }
    return slots_[at].id;
  }
  // The key's id, or 0.
  std::uint32_t find(const Key& key) const {
    const std::size_t at = slot_of(key);
    return slots_[at].generation == generation_ ? slots_[at].id : 0;
  }

 private:
  struct Slot {
    Key key{};
    std::uint32_t id = 0, generation = 0;
  };
  std::size_t slot_of(const Key& key) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t at = Hash{}(key) & mask;
    while (slots_[at].generation == generation_ && !(slots_[at].key == key)) at = (at + 1) & mask;
    return at;
  }
  void rehash(std::size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    const std::uint32_t live = generation_;
    generation_ = 1;
    for (const Slot& slot : old)
      if (slot.generation == live && live != 0) slots_[slot_of(slot.key)] = {slot.key, slot.id, 1};
  }
  void grow() { rehash(slots_.size() * 2); }

  std::vector<Slot> slots_;
  std::uint32_t generation_ = 0;
  std::uint32_t size_ = 0;
};

struct PairHash {
  std::size_t operator()(std::uint64_t key) const {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return std::size_t(key);
  }
};

struct TextHash {
  std::size_t operator()(std::string_view text) const { return std::size_t(hash_string(text)); }
};

// Token ids of one segment.
using TokenIds = IdTable<std::string_view, TextHash>;

// N-gram ids of one segment: extend(prefix, unit) with prefix 0 for unigrams.
class NgramIds {
 public:
  void clear() { table_.clear(); }
  std::uint32_t size() const { return table_.size(); }
  std::uint32_t intern(std::uint32_t prefix, std::uint32_t unit) { return table_.intern(key(prefix, unit)); }
  std::uint32_t find(std::uint32_t prefix, std::uint32_t unit) const { return table_.find(key(prefix, unit)); }

 private:
  static std::uint64_t key(std::uint32_t prefix, std::uint32_t unit) {
    return (std::uint64_t(prefix) << 32) | unit;
  }
  IdTable<std::uint64_t, PairHash> table_;
};

}  // namespace tfm::detail
