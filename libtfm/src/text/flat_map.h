// Internal to libtfm's text module (not installed): a small open-addressing
// hash map for the BPE learner's and applier's hot lookups.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tfm {

// An open-addressing hash map from 64-bit keys (never ~0) to small values:
// the hot lookups of BPE, without a node allocation per entry.
template <class Value>
class FlatMap {
 public:
  FlatMap() { rehash(1024); }
  Value* find(std::uint64_t key) { return const_cast<Value*>(std::as_const(*this).find(key)); }
  const Value* find(std::uint64_t key) const {
    for (std::size_t i = slot(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }
  // The value of `key`, inserted as `init` if absent; `added` tells which.
  Value& get(std::uint64_t key, Value init, bool& added) {
    if ((size_ + 1) * 2 > keys_.size()) rehash(keys_.size() * 2);
    std::size_t i = slot(key);
    for (; keys_[i] != kEmpty; i = (i + 1) & mask_)
      if (keys_[i] == key) return added = false, values_[i];
    ++size_;
    keys_[i] = key;
    values_[i] = init;
    return added = true, values_[i];
  }
  // Removes `key` (if present), shifting back later entries of its probe run.
  void erase(std::uint64_t key) {
    std::size_t i = slot(key);
    while (keys_[i] != key) {
      if (keys_[i] == kEmpty) return;
      i = (i + 1) & mask_;
    }
    for (std::size_t j = (i + 1) & mask_; keys_[j] != kEmpty; j = (j + 1) & mask_) {
      const std::size_t home = slot(keys_[j]);
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        keys_[i] = keys_[j];
        values_[i] = values_[j];
        i = j;
      }
    }
    keys_[i] = kEmpty;
    --size_;
  }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t(0);
  std::size_t slot(std::uint64_t key) const { return (key * 0x9E3779B97F4A7C15ull) >> shift_; }
  void rehash(std::size_t capacity) {
    std::vector<std::uint64_t> keys(capacity, kEmpty);
    std::vector<Value> values(capacity);
    keys.swap(keys_);
    values.swap(values_);
    mask_ = capacity - 1;
    shift_ = 64 - static_cast<int>(std::countr_zero(capacity));
    size_ = 0;
    bool added;
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (keys[i] != kEmpty) get(keys[i], values[i], added);
  }
  std::vector<std::uint64_t> keys_;
  std::vector<Value> values_;
  std::size_t mask_ = 0, size_ = 0;
  int shift_ = 64;
};

}  // namespace tfm
