// The encoder-decoder Transformer of "Attention Is All You Need": embeddings
// shared by source, target and the output projection (joint vocabulary),
// scaled by sqrt(d_model), plus sinusoidal positions; post-norm layers (or
// pre-norm with a final norm per stack); label-smoothed cross entropy.
//
// Batches follow fairseq: sentences are id sequences without specials; the
// source gets </s> appended, the decoder reads <s> y and predicts y </s>.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tfm/model/config.h"
#include "tfm/model/layers.h"
#include "tfm/model/params.h"
#include "tfm/tensor/tensor.h"

namespace tfm {

// One padded batch: rows of [batch, len] ids, pad = 0 at the end of a row.
struct TokenBatch {
  std::int64_t batch = 0, src_len = 0, tgt_len = 0;
  std::vector<std::int32_t> src, tgt_in, tgt_out;  // [batch, src_len] / [batch, tgt_len]
  std::vector<std::int32_t> src_lengths, tgt_lengths;  // with </s> / <s>
  std::int64_t target_tokens = 0;  // non-pad entries of tgt_out
};

// Builds `out` (reusing its memory) from sentences of ids without specials.
// Throws InputError naming the sentence when an id is neither <unk> (1) nor in
// [4, vocab_size) or a sentence is longer than max_positions − 1; ShapeError
// when the counts differ.
void make_token_batch(const std::vector<std::vector<std::uint32_t>>& sources,
                      const std::vector<std::vector<std::uint32_t>>& targets,
                      const ModelConfig& config, TokenBatch& out);

// `out` (reusing its memory) = b's sentences, then the same again: R-Drop's
// batch, whose halves see different dropout masks.
void stack_twice(const TokenBatch& b, TokenBatch& out);

struct LossStats {
  double loss = 0;  // summed label-smoothed loss, plus the R-Drop term if any (nats)
  double nll = 0;   // summed negative log-likelihood (for perplexity)
  std::int64_t tokens = 0;
  std::int64_t correct = 0;  // tokens whose target had the highest logit
  LossStats& operator+=(const LossStats& o) {
    loss += o.loss, nll += o.nll, tokens += o.tokens, correct += o.correct;
    return *this;
  }
};

class Transformer {
 public:
  // Registers and allocates the parameters (uninitialized: call
  // params().initialize(seed) or load them). Throws UsageError via validate().
  explicit Transformer(const ModelConfig& config);
  ~Transformer();
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  const ModelConfig& config() const { return config_; }
  // The dropout of embeddings and sub-layer outputs (config().dropout) from
  // the next pass on; attention and ReLU dropout stay. Throws UsageError
  // unless 0 ≤ p < 1.
  void set_dropout(float p);
  ParamStore& params() { return params_; }
  // The sinusoidal position encodings [max_positions, d_model] (not parameters).
  const Tensor& positions() const { return positions_; }

  // Called during a backward pass with a range [begin, end) of params().grads()
  // (offsets in floats) as soon as no later part of the pass changes it: one
  // layer at a time, so data-parallel training can sum gradients across
  // processes while the pass goes on. Ranges are disjoint; the embedding and
  // final norms are never reported.
  using GradsReady = std::function<void(std::int64_t begin, std::int64_t end)>;

  // Forward and backward pass: adds grad_scale · ∂loss/∂θ to params().grads().
  // Dropout from (rng.seed, rng.step, micro). Uses `arena` (reset by the caller).
  // With rdrop > 0, `batch` is stack_twice's and the loss adds R-Drop's
  // rdrop · ½(KL(p‖q) + KL(q‖p)) between the halves' predictions (rdrop_xent).
  LossStats train_batch(const TokenBatch& batch, Arena& arena, RngKey rng, std::uint32_t micro,
                        float grad_scale, const GradsReady* ready = nullptr, float rdrop = 0);
  // Loss without dropout or gradients.
  LossStats evaluate(const TokenBatch& batch, Arena& arena);

 private:
  struct EncoderLayer;
  struct DecoderLayer;
  // One side's embedding sites and what its backward pass needs.
  struct EmbedSide {
    std::uint32_t site, word_site;  // dropout, word dropout
    float word_dropout;
    std::uint8_t* mask = nullptr;   // dropout's, or null
    float* row_scales = nullptr;    // word dropout's (0 or 1 / (1 − p) a token), or null
  };
  float* embed(PassContext& ctx, const std::vector<std::int32_t>& ids, std::int64_t len, EmbedSide& side);
  void embed_backward(PassContext& ctx, const std::vector<std::int32_t>& ids, float* d, const EmbedSide& side);
  float* encode(PassContext& ctx, const TokenBatch& b);
  float* decode(PassContext& ctx, const TokenBatch& b, const float* memory);
  LossStats output_loss(PassContext& ctx, const TokenBatch& b, const float* h, float grad_scale,
                        float* dh, float rdrop);
  float* decoder_backward(PassContext& ctx, const TokenBatch& b, float* dh, const GradsReady* ready);
  void encoder_backward(PassContext& ctx, const TokenBatch& b, float* dmemory, const GradsReady* ready);

  ModelConfig config_;
  ParamStore params_;
  SiteCounter sites_;
  int embed_;
  std::vector<std::unique_ptr<EncoderLayer>> encoder_;
  std::vector<std::unique_ptr<DecoderLayer>> decoder_;
  // Each layer's range of the parameter vector (floats), for GradsReady.
  std::vector<std::pair<std::int64_t, std::int64_t>> encoder_ranges_, decoder_ranges_;
  std::unique_ptr<LayerNorm> encoder_norm_, decoder_norm_;  // pre-norm only
  EmbedSide src_, tgt_;
  Tensor positions_;  // [max_positions, d_model]
};

// Sinusoidal position encodings [len, d]: sin(p / 10000^(2i/d)) at 2i, cos at 2i+1.
Tensor sinusoid_positions(std::int64_t len, std::int64_t d);

}  // namespace tfm
