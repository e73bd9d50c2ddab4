// Inference with a trained Transformer, one target position at a time: the
// encoder runs once per batch of sentences, the cross-attention keys and
// values of every decoder layer are computed once per sentence, and each
// decoder layer keeps a key/value cache of the positions already decoded, so
// a step costs one position per hypothesis, not the whole prefix again.
//
// Rows are hypotheses. start() makes one row per sentence; select() keeps,
// duplicates or drops rows (beam search reorders its beams, finished
// sentences leave the batch); step() feeds one token per row and returns the
// log-probabilities of the next one. Weights are read from the model's
// ParamStore by name, so training code stays untouched.
//
// Results do not depend on the thread count: every row is computed by the
// same code path whatever the split (see tensor/threads.h).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tfm/data/special_tokens.h"
#include "tfm/model/transformer.h"
#include "tfm/tensor/gemm.h"
#include "tfm/tensor/tensor.h"

namespace tfm {

class IncrementalDecoder {
 public:
  // `model` must outlive the decoder; its parameters are read, never changed.
  explicit IncrementalDecoder(Transformer& model);
  ~IncrementalDecoder();
  IncrementalDecoder(const IncrementalDecoder&) = delete;
  IncrementalDecoder& operator=(const IncrementalDecoder&) = delete;

  // Encodes `sources` (ids without specials; </s> is appended; each at most
  // max_positions − 1 long) and makes row i = sentence i at position 0.
  // `max_steps` bounds the number of step() calls (≤ max_positions).
  void start(const std::vector<std::vector<std::int32_t>>& sources, std::int64_t max_steps);
  // New row i continues old row parents[i] (cache included).
  void select(const std::vector<std::int32_t>& parents);
  // Feeds tokens[row] (the first step feeds <s>) and returns log-probabilities
  // [rows, output_size()] of the next token, valid until the next call; the
  // caller may change them in place (a search masks tokens there).
  float* step(const std::vector<std::int32_t>& tokens);
  // What step_best() keeps of each row r: the log-sum-exp of its logits
  // (a token's log-probability is its logit minus this; bit for bit those
  // step() returns), the logits of the special tokens, and the `width`
  // highest logits of the row's other tokens (a shortlist's, or the whole
  // vocabulary's), highest first, ties to the lower token (−inf and token −1
  // where the row has fewer).
  struct BestTokens {
    std::int64_t width = 0;
    std::vector<float> log_sum_exp;     // [rows]
    std::vector<float> special_logits;  // [rows, kSpecialTokens.size()]
    std::vector<float> logits;          // [rows, width]
    std::vector<std::int32_t> tokens;   // [rows, width]
  };
  // step() for a search that needs only each row's best tokens: the output
  // layer runs panel by panel of the vocabulary, each scanned while it is in
  // cache, and the rows of log-probabilities are never written (at 10k
  // tokens they are megabytes a step, which the scans would read back from
  // memory; a shortlist's rows are one piece each). Valid until the next
  // call.
  const BestTokens& step_best(const std::vector<std::int32_t>& tokens, std::int64_t width);
  // Restricts step()'s outputs to a vocabulary shortlist: every row to the
  // target tokens `shared`, and the rows of sentence i (of the next start())
  // also to own[i] (`own` is empty or holds a list for each sentence; the
  // check is start()'s). A row's columns are `shared`, then its sentence's
  // own tokens, then −inf up to output_size(); output_token() names them,
  // and the softmax normalizes over the row's tokens only. `shared` must be
  // ascending and start with the four special tokens (so that they keep
  // their columns), each own list ascending and apart from `shared`; an
  // empty `shared` lifts the restriction. The output projection's rows are
  // gathered here (`shared`'s only when it changed), in the precision in
  // effect (gemm.h's WeightRows): `shared` is one product for all rows a
  // step, a sentence's own tokens a small one for its rows. Throws Error on
  // bad ids.
  void restrict_output(std::vector<std::int32_t> shared, std::vector<std::vector<std::int32_t>> own = {});
  bool restricted() const { return !shared_tokens_.empty(); }
  const std::vector<std::int32_t>& shared_output_tokens() const { return shared_tokens_; }
  const std::vector<std::vector<std::int32_t>>& own_output_tokens() const { return own_tokens_; }
  // Columns of step()'s rows: the vocabulary, or the shared tokens and the
  // longest own list.
  std::int64_t output_size() const;
  std::int32_t output_token(std::int64_t row, std::int64_t column) const {
    if (shared_tokens_.empty()) return static_cast<std::int32_t>(column);
    const auto shared = static_cast<std::int64_t>(shared_tokens_.size());
    if (column < shared) return shared_tokens_[static_cast<std::size_t>(column)];
    return own_tokens_[static_cast<std::size_t>(sentence_[static_cast<std::size_t>(row)])]
                      [static_cast<std::size_t>(column - shared)];
  }
  // After step(): for each row, the source position (</s> excluded, when the
  // sentence has words) with the highest cross-attention weight of the last
  // layer, averaged over heads.
  const std::vector<std::int32_t>& attention_argmax() const { return argmax_; }

  // The weight matrices of the linear layers this decoder multiplies by
  // (as C = X · Wᵀ): pointer, rows (outputs), columns (inputs); the output
  // projection (the embedding) included, as the panels the decoder
  // multiplies one at a time. For add_int8_weight() and add_packed_weight().
  struct WeightMatrix {
    const float* values;
    std::int64_t rows, cols;
  };
  std::vector<WeightMatrix> linear_weights() const;

  std::int64_t rows() const { return static_cast<std::int64_t>(sentence_.size()); }
  std::int64_t position() const { return position_; }
  std::int32_t sentence(std::int64_t row) const { return sentence_[static_cast<std::size_t>(row)]; }
  const ModelConfig& config() const { return config_; }

 private:
  struct Weights;
  class KeyValueRows;
  void encode(const std::vector<std::vector<std::int32_t>>& sources);
  float* self_attention(std::int64_t layer, const float* x);
  float* cross_attention(std::int64_t layer, const float* x);
  void shortlist_logits(const float* x, float* logits);
  std::int64_t shortlist_columns(std::int64_t row) const;
  const float* decode_position(const std::vector<std::int32_t>& tokens);
  std::int64_t output_panel() const;
  template <class Use>
  void for_each_output_panel(const float* x, Use&& use);
  float log_sum_exp(std::int64_t row) const;

  const ModelConfig config_;
  std::unique_ptr<Weights> w_;
  const float* positions_;  // the model's [max_positions, d_model]
  Arena arena_{1.0};  // per-step scratch, growing geometrically batch after batch
  // sentences: source lengths (</s> included) and cross-attention K/V per layer
  std::int64_t src_len_ = 0;  // longest source, </s> included
  std::vector<std::int32_t> src_lengths_;
  std::vector<KeyValueRows> cross_kv_;  // [layer] → [sentences, src_len, 2d]
  // rows
  std::vector<std::int32_t> sentence_, argmax_;
  std::int64_t position_ = 0, max_steps_ = 0;
  // Self-attention cache: step j appends a slab [rows at step j, 2d] of
  // keys|values per layer; row r's key at step j is in slab j, slot
  // ancestors_[r · max_steps + j], so select() copies indices, not vectors.
  std::vector<KeyValueRows> cache_;                // [layer] → slabs one after another
  std::vector<std::int64_t> slab_offset_;          // [step] → first row of its slab in cache_[layer]
  std::vector<std::int32_t> ancestors_, spare_;    // [rows, max_steps]
  GrowOnlyBuffer<float> logprobs_, panel_;
  BestTokens best_;
  std::vector<float> lse_max_, lse_sum_;  // [rows] running log-sum-exp
  std::vector<float> panel_max_;          // [rows] largest logit of the current panel
  std::vector<std::int32_t> shared_tokens_;
  std::vector<std::vector<std::int32_t>> own_tokens_;  // [sentence]
  std::int64_t longest_own_ = 0;
  WeightRows shared_rows_;              // the embedding's rows of shared_tokens_
  Precision shared_precision_ = Precision::kFp32;  // of shared_rows_
  std::vector<WeightRows> own_rows_;    // [sentence] → the rows of its own tokens
};

}  // namespace tfm
