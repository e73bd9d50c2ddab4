// The library's hash map and string hash: FlatMap, open addressing over
// 64-bit keys with values stored in the slots (no allocation per entry), and
// hash_string for words and tokens. The BPE learner and applier and the word
// counter use them on their hot paths. Every string table of the library
// hashes with hash_string; two tables keep their own slots for a reason of
// shape: eval's IdTable (eval/ngram_ids.h) is cleared once per sentence, in
// O(1) by a generation stamp where a FlatMap would wipe every slot, and
// Vocabulary (data/vocabulary.h) keys its slots by string with the strings
// kept once, in id order, for id → token.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
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

// An open-addressing hash map from 64-bit keys (never ~0) to small values:
// the hot lookups of BPE, without a node allocation per entry.
template <class Value>
class FlatMap {
 public:
  // `capacity`: the initial number of slots, a power of two.
  explicit FlatMap(std::size_t capacity = 1024) { rehash(capacity); }
  Value* find(std::uint64_t key) { return const_cast<Value*>(std::as_const(*this).find(key)); }
  const Value* find(std::uint64_t key) const {
    for (std::size_t i = slot(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].value;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }
  // The value of `key`, inserted as `init` if absent; `added` tells which.
  Value& get(std::uint64_t key, Value init, bool& added) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    std::size_t i = slot(key);
    for (; slots_[i].key != kEmpty; i = (i + 1) & mask_)
      if (slots_[i].key == key) return added = false, slots_[i].value;
    ++size_;
    slots_[i] = Slot{key, init};
    return added = true, slots_[i].value;
  }
  // Removes `key` (if present), shifting back later entries of its probe run.
  void erase(std::uint64_t key) {
    std::size_t i = slot(key);
    while (slots_[i].key != key) {
      if (slots_[i].key == kEmpty) return;
      i = (i + 1) & mask_;
    }
    for (std::size_t j = (i + 1) & mask_; slots_[j].key != kEmpty; j = (j + 1) & mask_) {
      const std::size_t home = slot(slots_[j].key);
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i].key = kEmpty;
    --size_;
  }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t(0);
  std::size_t slot(std::uint64_t key) const { return (key * 0x9E3779B97F4A7C15ull) >> shift_; }
  struct Slot {
    std::uint64_t key = kEmpty;
    Value value{};
  };
  void rehash(std::size_t capacity) {
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    shift_ = 64 - static_cast<int>(std::countr_zero(capacity));
    size_ = 0;
    bool added;
    for (const Slot& s : old)
      if (s.key != kEmpty) get(s.key, s.value, added);
  }
  std::vector<Slot> slots_;  // key and value side by side: one cache miss a probe
  std::size_t mask_ = 0, size_ = 0;
  int shift_ = 64;
};

}  // namespace tfm
