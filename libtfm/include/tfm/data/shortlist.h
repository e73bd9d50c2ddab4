// A vocabulary shortlist: for each source token, the target tokens likely to
// translate it, and the target tokens frequent enough to be allowed always.
// A decoder restricts each sentence's output vocabulary to its source
// tokens' candidates, the frequent tokens and the special tokens (Marian's
// lexical shortlist, CTranslate2's vocabulary map, which take a batch's union). tfm-shortlist builds one
// (lexical_table.h); tfm-decode --shortlist reads it.
//
// The file (format "tfm-shortlist", version 1) is UTF-8 text, fields split by
// single spaces:
//   tfm-shortlist 1
//   frequent T1 T2 ...                   the always-allowed target tokens
//   source S T1 P1 T2 P2 ...             a source token, then each candidate
//                                        with its probability p(T | S), best first
// one `frequent` line, then any number of `source` lines (each source token
// once, with at least one candidate). Tokens never contain spaces, so the
// file reads with awk or grep.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tfm/data/vocabulary.h"

namespace tfm {

inline constexpr const char* kShortlistFormat = "tfm-shortlist";
inline constexpr std::int64_t kShortlistFormatVersion = 1;

struct Shortlist {
  struct Candidate {
    std::int32_t token;  // target id
    float probability;   // p(token | source), for readers; the decoder takes every candidate
  };
  std::vector<std::int32_t> frequent;              // target ids, most frequent first
  std::vector<std::vector<Candidate>> candidates;  // [source id] → best first (none: no line)

  // Reads `path` with the ids of `source_vocabulary` and `target_vocabulary`
  // (one model vocabulary for both, when joint). Throws IoError when it
  // cannot be read, InputError(path, line) on a line that breaks the format:
  // another header, an unknown keyword or token, a missing or bad
  // probability, a source given twice or without candidates.
  static Shortlist load(const std::string& path, const Vocabulary& source_vocabulary,
                        const Vocabulary& target_vocabulary);
  // Writes it to `path` ("-": standard output) atomically. Throws IoError.
  void save(const std::string& path, const Vocabulary& source_vocabulary,
            const Vocabulary& target_vocabulary) const;

  // The target ids every sentence may produce: the special tokens and the
  // frequent tokens, ascending, each once. Throws Error on an id not below
  // `vocab_size`.
  std::vector<std::int32_t> shared_tokens(std::int64_t vocab_size) const;
  // The others a sentence of `source` ids may produce: its tokens'
  // candidates not among `shared` (shared_tokens()), ascending, each once.
  // Throws Error on an id not below `vocab_size`.
  std::vector<std::int32_t> own_tokens(const std::vector<std::int32_t>& source, const std::vector<std::int32_t>& shared,
                                       std::int64_t vocab_size) const;
};

}  // namespace tfm
