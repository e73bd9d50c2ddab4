// The token ↔ id map shared by every tool after tfm-batch. Ids 0..3 are the
// special tokens <pad> <unk> <s> </s>; the rest follow in the order of the
// word-count file they were built from (tfm-bpe and subword-nmt's get-vocab
// write `token count` lines, most frequent first). Stored in HDF5 files as a
// 1-D string dataset (`/vocab`), id = index.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tfm/core/flat_map.h"
#include "tfm/data/special_tokens.h"
#include "tfm/io/hdf5.h"

namespace tfm {

class Vocabulary {
 public:
  // Only the four special tokens.
  Vocabulary();
  // From a full token list whose first four entries are the special tokens;
  // throws Error naming `source` if they are not, or if a token repeats.
  Vocabulary(std::vector<std::string> tokens, const std::string& source);

  // Reads `token count` lines (one space before the count), keeping tokens whose
  // count is at least `min_count`. Throws InputError(file, line) on a line
  // without a count, a bad count, invalid UTF-8 or a repeated token; the
  // special tokens, if listed, are skipped (they already have their ids).
  static Vocabulary from_counts(const std::string& path, std::uint64_t min_count = 1);

  // Writes `name` (e.g. "vocab") as a string dataset in `group`; loads one back
  // (throws IoError / Error when missing or malformed).
  void save(hdf5::Group& group, const std::string& name) const;
  static Vocabulary load(const hdf5::Group& group, const std::string& name);

  std::size_t size() const { return tokens_.size(); }
  // kUnkId for a token not in the vocabulary.
  std::uint32_t id(std::string_view token) const;
  bool contains(std::string_view token) const;
  const std::string& token(std::uint32_t id) const { return tokens_.at(id); }
  const std::vector<std::string>& tokens() const { return tokens_; }
  bool operator==(const Vocabulary& other) const { return tokens_ == other.tokens_; }

 private:
  // The id of `token`, or nullptr.
  const std::uint32_t* find(std::string_view token) const;
  void add(std::string token, const std::string& source, std::size_t line);
  std::vector<std::string> tokens_;
  // 32 bits of each token's hash → its id (8-byte slots: the table of a
  // large vocabulary stays in cache for the hundreds of millions of lookups
  // of a large corpus).
  FlatMap<std::uint32_t, std::uint32_t> ids_{64};
};

}  // namespace tfm
