// Dense per-segment ids for tokens and n-grams (internal to libtfm eval).
// An n-gram's id is the id of the pair (id of its first n-1 units, last
// unit), so every order is interned by one 64-bit-keyed table and counts live
// in plain arrays indexed by id. Ids start at 1; 0 means "absent". Both
// tables are core/flat_map.h's FlatMap with stamped slots: cleared once a
// segment in O(1), however large the longest segment made them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tfm/core/flat_map.h"

namespace tfm::detail {

// 64-bit keys, 32-bit ids and stamps: 16-byte slots.
using IdMap = FlatMap<std::uint32_t, std::uint64_t, std::uint32_t>;

// Token ids of one segment; the tokens are views of text the caller keeps
// alive until clear().
class TokenIds {
 public:
  void clear() {
    ids_.clear();
    tokens_.clear();
  }
  // The token's id, assigning the next one if it is new.
  std::uint32_t intern(std::string_view token) {
    const std::uint64_t key = string_key(token);
    if (const std::uint32_t* id = find(key, token)) return *id;
    tokens_.push_back(token);
    return ids_.insert(key, static_cast<std::uint32_t>(tokens_.size()));
  }
  // The token's id, or 0.
  std::uint32_t find(std::string_view token) const {
    const std::uint32_t* id = find(string_key(token), token);
    return id ? *id : 0;
  }

 private:
  const std::uint32_t* find(std::uint64_t key, std::string_view token) const {
    return ids_.find_if(key, [&](std::uint32_t id) { return tokens_[id - 1] == token; });
  }
  IdMap ids_{64};
  std::vector<std::string_view> tokens_;  // by id - 1
};

// N-gram ids of one segment: extend(prefix, unit) with prefix 0 for unigrams.
class NgramIds {
 public:
  void clear() { ids_.clear(); }
  std::uint32_t size() const { return static_cast<std::uint32_t>(ids_.size()); }
  std::uint32_t intern(std::uint32_t prefix, std::uint32_t unit) {
    bool added;
    return ids_.get(key(prefix, unit), size() + 1, added);
  }
  std::uint32_t find(std::uint32_t prefix, std::uint32_t unit) const {
    const std::uint32_t* id = ids_.find(key(prefix, unit));
    return id ? *id : 0;
  }

 private:
  // Never FlatMap's empty key: ids stay far below 2^32 - 1.
  static std::uint64_t key(std::uint32_t prefix, std::uint32_t unit) {
    return (std::uint64_t(prefix) << 32) | unit;
  }
  IdMap ids_{256};
};

}  // namespace tfm::detail
