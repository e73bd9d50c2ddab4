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
  // Restricts step()'s outputs to the target tokens `ids` (a vocabulary
  // shortlist): column j of step() is then token ids[j], and the softmax
  // normalizes over these tokens only. `ids` must be ascending and start
  // with the four special tokens (so that they keep their columns); empty
  // lifts the restriction. The output projection's rows are gathered here,
  // in the precision in effect (gemm.h's WeightRows). Throws Error on bad ids.
  void restrict_output(std::vector<std::int32_t> ids);
  // The tokens of step()'s columns; empty when unrestricted (column = id).
  const std::vector<std::int32_t>& output_tokens() const { return output_tokens_; }
  std::int64_t output_size() const;
  // After step(): for each row, the source position (</s> excluded, when the
  // sentence has words) with the highest cross-attention weight of the last
  // layer, averaged over heads.
  const std::vector<std::int32_t>& attention_argmax() const { return argmax_; }

  // The weight matrices of the linear layers this decoder multiplies by
  // (as C = X · Wᵀ): pointer, rows (outputs), columns (inputs); the output
  // projection (the embedding) included. For add_int8_weight().
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
  GrowOnlyBuffer<float> logprobs_;
  std::vector<std::int32_t> output_tokens_;
  WeightRows output_rows_;  // the embedding's rows of output_tokens_
};

}  // namespace tfm
