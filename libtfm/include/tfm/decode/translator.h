// From BPE text lines to hypothesis lines: loads models (one, or several as an
// ensemble), maps tokens to ids (unknown ones to <unk>), truncates lines
// longer than the model allows, sorts each chunk of lines by length into
// batches, searches, and writes the outputs back in input order.
//
// Output line formats (a hypothesis is its tokens joined by spaces):
//   plain          hyp [ ||| alignment] [ ||| log-probability]   (--scores)
//   n-best         i ||| hyp [ ||| alignment] ||| score          (Moses style, i from 0)
// alignment is Marian's hard alignment: "s-t" pairs, source position s of
// the word that target word t attends to most (both from 0, </s> excluded).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tfm/data/shortlist.h"
#include "tfm/data/vocabulary.h"
#include "tfm/decode/search.h"
#include "tfm/model/model_file.h"
#include "tfm/model/transformer.h"

namespace tfm {

class AtomicFile;
class LineReader;

struct DecodeOptions {
  SearchConfig search;
  std::int64_t batch_size = 64;  // sentences a batch (more rows per product: faster, up to a point)
  std::int64_t max_tokens = 0;   // sentences × longest source (</s> included) a batch; 0: no limit
  std::int64_t maxi_batch = 1000;  // lines read, sorted and batched together
  bool unbuffered = false;         // translate and flush each line as it comes
  bool scores = false;             // append the log-probability
  bool alignment = false;          // append the hard alignment
  bool strict = false;             // a line longer than the model allows is an error, not truncated
  std::string shortlist;           // vocabulary shortlist file (shortlist.h); empty: none
};

// Throws UsageError for sizes below 1 (max_tokens may be 0) or a bad search config.
void validate(const DecodeOptions& options);

class Translator {
 public:
  // Loads every model, and the shortlist when options.shortlist names one
  // (each sentence's output then restricted to the Shortlist's shared
  // tokens and its own); throws InputError when the vocabularies differ or
  // the shortlist file is bad.
  // Under gemm precision kBf16 (gemm.h), keeps bf16 shadows of the models'
  // weights for its lifetime (dropping all shadows when destroyed).
  Translator(const std::vector<std::string>& model_paths, const DecodeOptions& options);
  ~Translator();

  // Output lines (without '\n') for `lines`; `first_line` numbers the first
  // one in messages (1-based), `source` names the input.
  std::vector<std::string> translate(const std::vector<std::string>& lines, std::size_t first_line,
                                     const std::string& source);
  // Reads every line of `reader`, writes the outputs to `out` in order,
  // maxi_batch lines at a time (one at a time, flushed, when unbuffered).
  void translate_stream(LineReader& reader, AtomicFile& out);

  const Vocabulary& vocabulary() const { return vocabulary_; }

 private:
  std::vector<std::int32_t> to_ids(std::string_view line, std::size_t number, const std::string& source) const;
  std::string format(const Hypothesis& h, std::size_t index) const;

  DecodeOptions options_;
  std::vector<LoadedModel> models_;
  std::vector<std::unique_ptr<IncrementalDecoder>> decoders_;
  std::vector<IncrementalDecoder*> decoder_ptrs_;
  Vocabulary vocabulary_;
  std::unique_ptr<Shortlist> shortlist_;
  std::vector<std::int32_t> shared_tokens_;  // the shortlist's, for every sentence
  std::int64_t max_source_ = 0;  // tokens, </s> excluded
};

// Sentence indices sorted by length (stable), cut into batches of at most
// batch_size sentences and, when max_tokens > 0, count × longest (+1 for
// </s>) ≤ max_tokens (a longer sentence goes alone). Empty sentences are left out.
std::vector<std::vector<std::size_t>> length_sorted_batches(const std::vector<std::vector<std::int32_t>>& sentences,
                                                   std::int64_t batch_size, std::int64_t max_tokens);

}  // namespace tfm
