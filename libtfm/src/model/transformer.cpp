#include "tfm/model/transformer.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/tensor/gemm.h"
#include "tfm/tensor/kernels.h"

namespace tfm {

struct Transformer::EncoderLayer {
  Sublayer attn_sub;
  Attention attn;
  Sublayer ffn_sub;
  FeedForward ffn;
  EncoderLayer(ParamStore& s, const std::string& p, const ModelConfig& c, SiteCounter& sites)
      : attn_sub(s, p + "/self_attn_norm", c.d_model, c.dropout, c.pre_norm, sites),
        attn(s, p + "/self_attn", c.d_model, c.heads, c.attention_dropout, sites),
        ffn_sub(s, p + "/ffn_norm", c.d_model, c.dropout, c.pre_norm, sites),
        ffn(s, p + "/ffn", c.d_model, c.ffn, c.relu_dropout, sites) {}
};

struct Transformer::DecoderLayer : Transformer::EncoderLayer {
  Sublayer cross_sub;
  Attention cross;
  DecoderLayer(ParamStore& s, const std::string& p, const ModelConfig& c, SiteCounter& sites)
      : EncoderLayer(s, p, c, sites),
        cross_sub(s, p + "/cross_attn_norm", c.d_model, c.dropout, c.pre_norm, sites),
        cross(s, p + "/cross_attn", c.d_model, c.heads, c.attention_dropout, sites) {}
};

Tensor sinusoid_positions(std::int64_t len, std::int64_t d) {
  Tensor t = Tensor::zeros({len, d});
  std::vector<double> wavelengths(static_cast<std::size_t>(d / 2));  // one pow per column pair, not per entry
  for (std::int64_t i = 0; i < d / 2; ++i)
    wavelengths[static_cast<std::size_t>(i)] = std::pow(10000.0, 2.0 * static_cast<double>(i) / d);
  for (std::int64_t p = 0; p < len; ++p)
    for (std::int64_t i = 0; i < d / 2; ++i) {
      double angle = static_cast<double>(p) / wavelengths[static_cast<std::size_t>(i)];
      t[p * d + 2 * i] = static_cast<float>(std::sin(angle));
      t[p * d + 2 * i + 1] = static_cast<float>(std::cos(angle));
    }
  return t;
}

Transformer::Transformer(const ModelConfig& config) : config_(config) {
  validate(config_);
  std::int64_t d = config_.d_model;
  embed_ = params_.add("embed/weight", {config_.vocab_size, d}, Init::kNormal,
                       static_cast<float>(1.0 / std::sqrt(static_cast<double>(d))));
  src_.site = sites_.take();
  tgt_.site = sites_.take();
  src_.word_dropout = config_.source_word_dropout;
  tgt_.word_dropout = config_.target_word_dropout;
  for (std::int64_t i = 0; i < config_.encoder_layers; ++i) {
    std::int64_t begin = params_.size();
    encoder_.push_back(std::make_unique<EncoderLayer>(params_, fmt::format("encoder/layer_{}", i),
                                                      config_, sites_));
    encoder_ranges_.emplace_back(begin, params_.size());
  }
  for (std::int64_t i = 0; i < config_.decoder_layers; ++i) {
    std::int64_t begin = params_.size();
    decoder_.push_back(std::make_unique<DecoderLayer>(params_, fmt::format("decoder/layer_{}", i),
                                                      config_, sites_));
    decoder_ranges_.emplace_back(begin, params_.size());
  }
  if (config_.pre_norm) {
    encoder_norm_ = std::make_unique<LayerNorm>(params_, "encoder/final_norm", d);
    decoder_norm_ = std::make_unique<LayerNorm>(params_, "decoder/final_norm", d);
  }
  // Taken last, so that the other sites, and the masks of models without word dropout, stay as they were.
  src_.word_site = sites_.take();
  tgt_.word_site = sites_.take();
  params_.allocate();
  positions_ = sinusoid_positions(config_.max_positions, d);
}

Transformer::~Transformer() = default;

void Transformer::set_dropout(float p) {
  ModelConfig changed = config_;
  changed.dropout = p;
  validate(changed);
  config_ = changed;
  for (auto& layer : encoder_) layer->attn_sub.set_dropout(p), layer->ffn_sub.set_dropout(p);
  for (auto& layer : decoder_)
    layer->attn_sub.set_dropout(p), layer->ffn_sub.set_dropout(p), layer->cross_sub.set_dropout(p);
}

float* Transformer::embed(PassContext& ctx, const std::vector<std::int32_t>& ids, std::int64_t len,
                          EmbedSide& side) {
  std::int64_t d = config_.d_model, n = static_cast<std::int64_t>(ids.size());
  side.row_scales = nullptr;
  if (const std::uint8_t* kept = ctx.dropout_mask(side.word_site, n, side.word_dropout)) {
    side.row_scales = ctx.arena.floats(static_cast<std::size_t>(n));
    const float keep_scale = 1.0f / (1.0f - side.word_dropout);
    for (std::int64_t r = 0; r < n; ++r) side.row_scales[r] = kept[r] ? keep_scale : 0.0f;
  }
  float* x = ctx.arena.floats(static_cast<std::size_t>(n * d));
  embedding_forward(ids.data(), n, params_.value(embed_), d, std::sqrt(static_cast<float>(d)), side.row_scales,
                    positions_.data(), len, x);
  side.mask = ctx.dropout_mask(side.site, n * d, config_.dropout);
  if (side.mask) dropout_apply(x, side.mask, n * d, config_.dropout);
  return x;
}

void Transformer::embed_backward(PassContext& ctx, const std::vector<std::int32_t>& ids, float* d,
                                 const EmbedSide& side) {
  std::int64_t dm = config_.d_model, n = static_cast<std::int64_t>(ids.size());
  if (side.mask) dropout_apply(d, side.mask, n * dm, config_.dropout);
  embedding_backward(ids.data(), n, d, dm, std::sqrt(static_cast<float>(dm)), side.row_scales,
                     ctx.params.grad(embed_));
}

float* Transformer::encode(PassContext& ctx, const TokenBatch& b) {
  std::int64_t rows = b.batch * b.src_len;
  float* x = embed(ctx, b.src, b.src_len, src_);
  for (auto& layer : encoder_) {
    x = layer->attn_sub.forward(ctx, x, rows, [&](const float* in) {
      return layer->attn.forward_self(ctx, in, b.batch, b.src_len, b.src_lengths.data(), false);
    });
    x = layer->ffn_sub.forward(ctx, x, rows,
                               [&](const float* in) { return layer->ffn.forward(ctx, in, rows); });
  }
  return encoder_norm_ ? encoder_norm_->forward(ctx, x, rows) : x;
}

float* Transformer::decode(PassContext& ctx, const TokenBatch& b, const float* memory) {
  std::int64_t rows = b.batch * b.tgt_len;
  float* x = embed(ctx, b.tgt_in, b.tgt_len, tgt_);
  for (auto& layer : decoder_) {
    x = layer->attn_sub.forward(ctx, x, rows, [&](const float* in) {
      return layer->attn.forward_self(ctx, in, b.batch, b.tgt_len, b.tgt_lengths.data(), true);
    });
    x = layer->cross_sub.forward(ctx, x, rows, [&](const float* in) {
      return layer->cross.forward_cross(ctx, in, memory, b.batch, b.tgt_len, b.src_len,
                                        b.src_lengths.data());
    });
    x = layer->ffn_sub.forward(ctx, x, rows,
                               [&](const float* in) { return layer->ffn.forward(ctx, in, rows); });
  }
  return decoder_norm_ ? decoder_norm_->forward(ctx, x, rows) : x;
}

// Tied output projection and loss, a chunk of rows at a time so that at most
// kChunk × vocab logits exist; with gradients, fills dh and the embedding gradient.
// With rdrop > 0 the batch is two copies (stack_twice): row r of the first
// half and row r of the second are taken together, chunk by chunk.
LossStats Transformer::output_loss(PassContext& ctx, const TokenBatch& b, const float* h,
                                   float grad_scale, float* dh, float rdrop) {
  constexpr std::int64_t kChunk = 512;
  std::int64_t rows = b.batch * b.tgt_len, v = config_.vocab_size, d = config_.d_model;
  float* logits = ctx.arena.floats(static_cast<std::size_t>(std::min(rows, kChunk) * v));
  auto* row_loss = reinterpret_cast<double*>(ctx.arena.floats(static_cast<std::size_t>(2 * rows)));
  auto* row_nll = reinterpret_cast<double*>(ctx.arena.floats(static_cast<std::size_t>(2 * rows)));
  std::int32_t* row_correct = ctx.arena.ints(static_cast<std::size_t>(rows));
  const float* table = params_.value(embed_);
  // project: the logits of n rows from row r; project_back: their share of dh and of the embedding gradient.
  auto project = [&](std::int64_t r, std::int64_t n, float* out) {
    gemm(Op::kN, Op::kT, n, v, d, 1.0f, h + r * d, d, table, d, 0.0f, out, v);
  };
  auto project_back = [&](std::int64_t r, std::int64_t n, const float* g) {
    gemm(Op::kN, Op::kN, n, d, v, 1.0f, g, v, table, d, 0.0f, dh + r * d, d);
    gemm(Op::kT, Op::kN, v, d, n, 1.0f, g, v, h + r * d, d, 1.0f, params_.grad(embed_), d);
  };
  float scale = dh ? grad_scale : 0.0f;
  if (rdrop > 0) {
    std::int64_t half = rows / 2, chunk = kChunk / 2;
    for (std::int64_t r0 = 0; r0 < half; r0 += chunk) {
      std::int64_t n = std::min(chunk, half - r0);
      float *first = logits, *second = logits + n * v;
      project(r0, n, first);
      project(half + r0, n, second);
      rdrop_xent(first, second, n, v, b.tgt_out.data() + r0, kPadId, config_.label_smoothing, rdrop, scale,
                 {row_loss + r0, row_nll + r0, row_correct + r0},
                 {row_loss + half + r0, row_nll + half + r0, row_correct + half + r0});
      if (!dh) continue;
      project_back(r0, n, first);
      project_back(half + r0, n, second);
    }
  } else {
    for (std::int64_t r0 = 0; r0 < rows; r0 += kChunk) {
      std::int64_t n = std::min(kChunk, rows - r0);
      project(r0, n, logits);
      label_smoothed_xent(logits, n, v, b.tgt_out.data() + r0, kPadId, config_.label_smoothing, scale,
                          row_loss + r0, row_nll + r0, row_correct + r0);
      if (dh) project_back(r0, n, logits);
    }
  }
  LossStats stats;
  for (std::int64_t r = 0; r < rows; ++r)
    stats.loss += row_loss[r], stats.nll += row_nll[r], stats.correct += row_correct[r];
  stats.tokens = b.target_tokens;
  return stats;
}

namespace {

// Runs one layer's backward pass and gives its scratch memory back: the
// gradient it returns is copied to `keep` first ([rows, d], outside the mark).
template <class F>
float* layer_backward(Arena& arena, float* keep, std::int64_t n, F backward) {
  Arena::Mark mark = arena.mark();
  const float* g = backward();
  std::memcpy(keep, g, static_cast<std::size_t>(n) * sizeof(float));
  arena.release(mark);
  return keep;
}

}  // namespace

float* Transformer::decoder_backward(PassContext& ctx, const TokenBatch& b, float* dh, const GradsReady* ready) {
  std::int64_t d = config_.d_model, n = b.batch * b.tgt_len * d;
  float* dmemory = ctx.arena.zeros(static_cast<std::size_t>(b.batch * b.src_len * d));
  float* buffers[2] = {ctx.arena.floats(static_cast<std::size_t>(n)), ctx.arena.floats(static_cast<std::size_t>(n))};
  float* g = decoder_norm_ ? decoder_norm_->backward(ctx, dh) : dh;
  for (std::size_t i = decoder_.size(); i-- > 0;) {
    auto& layer = *decoder_[i];
    g = layer_backward(ctx.arena, buffers[i % 2], n, [&] {
      float* x = layer.ffn_sub.backward(ctx, g, [&](const float* y) { return layer.ffn.backward(ctx, y); });
      x = layer.cross_sub.backward(ctx, x, [&](const float* y) { return layer.cross.backward(ctx, y, dmemory); });
      return layer.attn_sub.backward(ctx, x, [&](const float* y) { return layer.attn.backward(ctx, y); });
    });
    if (ready) (*ready)(decoder_ranges_[i].first, decoder_ranges_[i].second);
  }
  embed_backward(ctx, b.tgt_in, g, tgt_);
  return dmemory;
}

void Transformer::encoder_backward(PassContext& ctx, const TokenBatch& b, float* dmemory,
                                   const GradsReady* ready) {
  std::int64_t n = b.batch * b.src_len * config_.d_model;
  float* buffers[2] = {ctx.arena.floats(static_cast<std::size_t>(n)), ctx.arena.floats(static_cast<std::size_t>(n))};
  float* g = encoder_norm_ ? encoder_norm_->backward(ctx, dmemory) : dmemory;
  for (std::size_t i = encoder_.size(); i-- > 0;) {
    auto& layer = *encoder_[i];
    g = layer_backward(ctx.arena, buffers[i % 2], n, [&] {
      float* x = layer.ffn_sub.backward(ctx, g, [&](const float* y) { return layer.ffn.backward(ctx, y); });
      return layer.attn_sub.backward(ctx, x, [&](const float* y) { return layer.attn.backward(ctx, y); });
    });
    if (ready) (*ready)(encoder_ranges_[i].first, encoder_ranges_[i].second);
  }
  embed_backward(ctx, b.src, g, src_);
}

LossStats Transformer::train_batch(const TokenBatch& batch, Arena& arena, RngKey rng,
                                   std::uint32_t micro, float grad_scale, const GradsReady* ready, float rdrop) {
  PassContext ctx{params_, arena, true, rng, micro};
  const float* memory = encode(ctx, batch);
  const float* h = decode(ctx, batch, memory);
  float* dh = arena.floats(static_cast<std::size_t>(batch.batch * batch.tgt_len * config_.d_model));
  LossStats stats = output_loss(ctx, batch, h, grad_scale, dh, rdrop);
  encoder_backward(ctx, batch, decoder_backward(ctx, batch, dh, ready), ready);
  return stats;
}

LossStats Transformer::evaluate(const TokenBatch& batch, Arena& arena) {
  PassContext ctx{params_, arena, false, {}, 0};
  const float* memory = encode(ctx, batch);
  return output_loss(ctx, batch, decode(ctx, batch, memory), 0.0f, nullptr, 0.0f);
}

namespace {

void check_sentence(const std::vector<std::uint32_t>& s, std::size_t index,
                    const ModelConfig& config, const char* side) {
  if (static_cast<std::int64_t>(s.size()) + 1 > config.max_positions)
    throw InputError(side, index + 1,
                     fmt::format("sentence of {} tokens is longer than max_positions − 1 = {}",
                                 s.size(), config.max_positions - 1));
  // Ids 0..3 are <pad> <unk> <s> </s>: a sentence holds words and <unk>.
  for (auto id : s)
    if ((id < kSpecialTokens.size() && id != kUnkId) || static_cast<std::int64_t>(id) >= config.vocab_size)
      throw InputError(side, index + 1,
                       fmt::format("token id {} is neither <unk> (1) nor in the vocabulary [4, {})", id,
                                   config.vocab_size));
}

}  // namespace

void make_token_batch(const std::vector<std::vector<std::uint32_t>>& sources,
                      const std::vector<std::vector<std::uint32_t>>& targets,
                      const ModelConfig& config, TokenBatch& out) {
  if (sources.size() != targets.size())
    throw ShapeError(fmt::format("{} source and {} target sentences", sources.size(), targets.size()));
  std::size_t n = sources.size();
  std::size_t src_len = 1, tgt_len = 1;
  for (std::size_t i = 0; i < n; ++i) {
    check_sentence(sources[i], i, config, "source");
    check_sentence(targets[i], i, config, "target");
    src_len = std::max(src_len, sources[i].size() + 1);
    tgt_len = std::max(tgt_len, targets[i].size() + 1);
  }
  out.batch = static_cast<std::int64_t>(n);
  out.src_len = static_cast<std::int64_t>(src_len);
  out.tgt_len = static_cast<std::int64_t>(tgt_len);
  out.src.assign(n * src_len, kPadId);
  out.tgt_in.assign(n * tgt_len, kPadId);
  out.tgt_out.assign(n * tgt_len, kPadId);
  out.src_lengths.resize(n);
  out.tgt_lengths.resize(n);
  out.target_tokens = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto &s = sources[i], &t = targets[i];
    std::copy(s.begin(), s.end(), out.src.begin() + static_cast<std::ptrdiff_t>(i * src_len));
    out.src[i * src_len + s.size()] = kEosId;
    out.tgt_in[i * tgt_len] = kBosId;
    std::copy(t.begin(), t.end(), out.tgt_in.begin() + static_cast<std::ptrdiff_t>(i * tgt_len + 1));
    std::copy(t.begin(), t.end(), out.tgt_out.begin() + static_cast<std::ptrdiff_t>(i * tgt_len));
    out.tgt_out[i * tgt_len + t.size()] = kEosId;
    out.src_lengths[i] = static_cast<std::int32_t>(s.size() + 1);
    out.tgt_lengths[i] = static_cast<std::int32_t>(t.size() + 1);
    out.target_tokens += static_cast<std::int64_t>(t.size() + 1);
  }
}

void stack_twice(const TokenBatch& b, TokenBatch& out) {
  auto twice = [](const std::vector<std::int32_t>& v, std::vector<std::int32_t>& o) {
    o.assign(v.begin(), v.end());
    o.insert(o.end(), v.begin(), v.end());
  };
  out.batch = 2 * b.batch, out.src_len = b.src_len, out.tgt_len = b.tgt_len;
  twice(b.src, out.src), twice(b.tgt_in, out.tgt_in), twice(b.tgt_out, out.tgt_out);
  twice(b.src_lengths, out.src_lengths), twice(b.tgt_lengths, out.tgt_lengths);
  out.target_tokens = 2 * b.target_tokens;
}

}  // namespace tfm
