#include "tfm/model/incremental_decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/tensor/gemm.h"
#include "tfm/tensor/kernels.h"
#include "tfm/tensor/threads.h"

namespace tfm {

namespace {

struct NormW {
  const float *gamma = nullptr, *beta = nullptr;
};
// q, k, v weights are stored adjacent ([3d, d] from q, [2d, d] from k), as are their biases.
struct AttnW {
  const float *q_w, *q_b, *k_w, *k_b, *out_w, *out_b;
  NormW norm;
};
struct FfnW {
  const float *w1, *b1, *w2, *b2;
  NormW norm;
};

// y [rows, out] = x [rows, in] · Wᵀ + b
float* linear(Arena& arena, const float* x, std::int64_t rows, std::int64_t in, std::int64_t out,
              const float* w, const float* b, bool relu = false) {
  float* y = arena.floats(static_cast<std::size_t>(rows * out));
  linear_forward(x, rows, in, out, w, b, relu, y);
  return y;
}

float* layer_norm(Arena& arena, const float* x, std::int64_t rows, std::int64_t d, NormW n) {
  float* y = arena.floats(static_cast<std::size_t>(rows * d));
  float* stats = arena.floats(static_cast<std::size_t>(2 * rows));
  layer_norm_forward(x, n.gamma, n.beta, y, stats, stats + rows, rows, d, 1e-5f);
  return y;
}

// Post-norm y = LN(x + F(x)), pre-norm y = x + F(LN(x)), as Sublayer without dropout.
template <class F>
float* residual(Arena& arena, const float* x, std::int64_t rows, std::int64_t d, NormW n,
                bool pre_norm, F&& f) {
  float* out = f(pre_norm ? layer_norm(arena, x, rows, d, n) : x);
  add_into(out, x, rows * d);
  return pre_norm ? out : layer_norm(arena, out, rows, d, n);
}

// x [n] = layer(x), the layer's scratch given back afterwards: the memory of
// an encoder pass or a step is that of one layer, not of all of them (less
// fresh memory to fault in, and what is touched stays in cache).
template <class F>
void in_place_layer(Arena& arena, float* x, std::int64_t n, F&& layer) {
  const Arena::Mark mark = arena.mark();
  const float* y = layer(static_cast<const float*>(x));
  std::copy_n(y, n, x);
  arena.release(mark);
}

}  // namespace

// Rows of keys|values [n, 2d] of one layer: floats, or bf16 when products
// are bf16 or int8 (attention over the cache is bound by memory traffic:
// half the bytes, and the products round their operands as much anyway).
// The memory stays from batch to batch and only grows.
class IncrementalDecoder::KeyValueRows {
 public:
  void reset(std::int64_t width, bool bf16) { width_ = width, bf16_ = bf16, rows_ = 0; }
  std::int64_t rows() const { return rows_; }
  // Room for `more` rows beyond the current ones, so that appending them
  // copies nothing.
  void reserve_more(std::int64_t more) {
    auto need = static_cast<std::size_t>((rows_ + more) * width_), keep = static_cast<std::size_t>(rows_ * width_);
    bf16_ ? (void)halves_.reserve(need, keep) : (void)floats_.reserve(need, keep);
  }
  // Appends rows [src + r·stride, + width) for r < n.
  void append(const float* src, std::int64_t n, std::int64_t stride) {
    reserve_more(n);
    const std::int64_t base = rows_ * width_;
    rows_ += n;
    if (bf16_ && stride == width_) {  // dense rows: one call of the kernel
      round_to_bf16(src, n * width_, halves_.data() + base);
      return;
    }
    for (std::int64_t r = 0; r < n; ++r) {
      if (bf16_) round_to_bf16(src + r * stride, width_, halves_.data() + base + r * width_);
      else std::copy_n(src + r * stride, width_, floats_.data() + base + r * width_);
    }
  }
  // f(pointer to row 0), as const float* or const std::uint16_t*.
  template <class F>
  void visit(F&& f) const {
    if (bf16_) f(halves_.data());
    else f(floats_.data());
  }

 private:
  std::int64_t width_ = 1, rows_ = 0;
  bool bf16_ = false;
  GrowOnlyBuffer<float> floats_;
  GrowOnlyBuffer<std::uint16_t> halves_;
};

struct IncrementalDecoder::Weights {
  const float* embed;
  std::vector<AttnW> enc_attn, dec_self, dec_cross;
  std::vector<FfnW> enc_ffn, dec_ffn;
  NormW enc_final, dec_final;
};

namespace {

const float* param(Transformer& m, const std::string& name) {
  return m.params().value(m.params().index(name));
}

NormW norm_weights(Transformer& m, const std::string& p) {
  return {param(m, p + "/weight"), param(m, p + "/bias")};
}

AttnW attention_weights(Transformer& m, const std::string& layer, const std::string& name) {
  std::string p = layer + "/" + name;
  return {param(m, p + "/q/weight"),   param(m, p + "/q/bias"),   param(m, p + "/k/weight"),
          param(m, p + "/k/bias"),     param(m, p + "/out/weight"), param(m, p + "/out/bias"),
          norm_weights(m, p + "_norm")};
}

FfnW ffn_weights(Transformer& m, const std::string& layer) {
  std::string p = layer + "/ffn";
  return {param(m, p + "/fc1/weight"), param(m, p + "/fc1/bias"), param(m, p + "/fc2/weight"),
          param(m, p + "/fc2/bias"), norm_weights(m, p + "_norm")};
}

}  // namespace

IncrementalDecoder::IncrementalDecoder(Transformer& model)
    : config_(model.config()), w_(std::make_unique<Weights>()) {
  w_->embed = param(model, "embed/weight");
  for (std::int64_t i = 0; i < config_.encoder_layers; ++i) {
    std::string p = fmt::format("encoder/layer_{}", i);
    w_->enc_attn.push_back(attention_weights(model, p, "self_attn"));
    w_->enc_ffn.push_back(ffn_weights(model, p));
  }
  for (std::int64_t i = 0; i < config_.decoder_layers; ++i) {
    std::string p = fmt::format("decoder/layer_{}", i);
    w_->dec_self.push_back(attention_weights(model, p, "self_attn"));
    w_->dec_cross.push_back(attention_weights(model, p, "cross_attn"));
    w_->dec_ffn.push_back(ffn_weights(model, p));
  }
  if (config_.pre_norm) {
    w_->enc_final = norm_weights(model, "encoder/final_norm");
    w_->dec_final = norm_weights(model, "decoder/final_norm");
  }
  positions_ = model.positions().data();
  cache_.resize(static_cast<std::size_t>(config_.decoder_layers));
  cross_kv_.resize(static_cast<std::size_t>(config_.decoder_layers));
}

IncrementalDecoder::~IncrementalDecoder() = default;

std::vector<IncrementalDecoder::WeightMatrix> IncrementalDecoder::linear_weights() const {
  const std::int64_t d = config_.d_model, f = config_.ffn;
  std::vector<WeightMatrix> out;
  const std::int64_t v = config_.vocab_size, panel = output_panel();
  for (std::int64_t c = 0; c < v; c += panel) out.push_back({w_->embed + c * d, std::min(panel, v - c), d});
  auto ffn = [&](const FfnW& w) {
    out.push_back({w.w1, f, d});
    out.push_back({w.w2, d, f});
  };
  for (std::size_t l = 0; l < w_->enc_attn.size(); ++l) {
    out.push_back({w_->enc_attn[l].q_w, 3 * d, d});  // q, k and v at once
    out.push_back({w_->enc_attn[l].out_w, d, d});
    ffn(w_->enc_ffn[l]);
  }
  for (std::size_t l = 0; l < w_->dec_self.size(); ++l) {
    out.push_back({w_->dec_self[l].q_w, 3 * d, d});
    out.push_back({w_->dec_self[l].out_w, d, d});
    out.push_back({w_->dec_cross[l].q_w, d, d});
    out.push_back({w_->dec_cross[l].k_w, 2 * d, d});  // k and v at once
    out.push_back({w_->dec_cross[l].out_w, d, d});
    ffn(w_->dec_ffn[l]);
  }
  return out;
}

void IncrementalDecoder::start(const std::vector<std::vector<std::int32_t>>& sources,
                               std::int64_t max_steps) {
  if (max_steps < 1 || max_steps > config_.max_positions)
    throw Error(fmt::format("max_steps {} outside [1, {}]", max_steps, config_.max_positions));
  if (!own_tokens_.empty() && own_tokens_.size() != sources.size())
    throw Error(fmt::format("start: own output tokens for {} sentences, not {}", own_tokens_.size(), sources.size()));
  max_steps_ = max_steps;
  position_ = 0;
  std::size_t n = sources.size();
  sentence_.resize(n);
  for (std::size_t i = 0; i < n; ++i) sentence_[i] = static_cast<std::int32_t>(i);
  argmax_.assign(n, 0);
  // Both are written at each step before that step reads them.
  ancestors_.resize(n * static_cast<std::size_t>(max_steps_));
  slab_offset_.resize(static_cast<std::size_t>(max_steps_));
  // Caches in bf16 whenever products are not fp32 (the rounding is done in
  // software where the CPU lacks bf16, so any CPU can hold them).
  const bool bf16 = gemm_precision() != Precision::kFp32;
  for (auto& c : cache_) c.reset(2 * config_.d_model, bf16);
  for (auto& c : cross_kv_) c.reset(2 * config_.d_model, bf16);
  encode(sources);
}

void IncrementalDecoder::encode(const std::vector<std::vector<std::int32_t>>& sources) {
  const std::int64_t d = config_.d_model, heads = config_.heads, dh = d / heads;
  const std::int64_t b = static_cast<std::int64_t>(sources.size());
  src_len_ = 1;
  src_lengths_.resize(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (static_cast<std::int64_t>(sources[i].size()) + 1 > config_.max_positions)
      throw Error(fmt::format("source of {} tokens exceeds max_positions − 1", sources[i].size()));
    src_lengths_[i] = static_cast<std::int32_t>(sources[i].size() + 1);
    src_len_ = std::max<std::int64_t>(src_len_, src_lengths_[i]);
  }
  const std::int64_t s = src_len_, rows = b * s;
  std::vector<std::int32_t> ids(static_cast<std::size_t>(rows), kPadId);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    std::copy(sources[i].begin(), sources[i].end(), ids.begin() + static_cast<std::ptrdiff_t>(i) * s);
    ids[i * static_cast<std::size_t>(s) + sources[i].size()] = kEosId;
  }
  arena_.reset();
  float* x = arena_.floats(static_cast<std::size_t>(rows * d));
  embedding_forward(ids.data(), rows, w_->embed, d, std::sqrt(static_cast<float>(d)), nullptr,
                    positions_, s, x);
  for (std::int64_t l = 0; l < config_.encoder_layers; ++l) in_place_layer(arena_, x, rows * d, [&](const float* x) {
    const AttnW& a = w_->enc_attn[static_cast<std::size_t>(l)];
    x = residual(arena_, x, rows, d, a.norm, config_.pre_norm, [&](const float* in) {
      float* qkv = linear(arena_, in, rows, d, 3 * d, a.q_w, a.q_b);
      float* probs = arena_.floats(static_cast<std::size_t>(b * heads * s * s));
      float* context = arena_.floats(static_cast<std::size_t>(rows * d));
      const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
      if (gemm_precision() == Precision::kBf16) {  // one oneDNN primitive for the batch
        gemm_batched(Op::kN, Op::kT, s, s, dh, scale, qkv, 3 * d, {s * 3 * d, dh}, qkv + d, 3 * d,
                     {s * 3 * d, dh}, 0.0f, probs, s, {heads * s * s, s * s}, b, heads);
        attention_softmax(probs, b, heads, s, s, src_lengths_.data(), false);
        gemm_batched(Op::kN, Op::kN, s, dh, s, 1.0f, probs, s, {heads * s * s, s * s}, qkv + 2 * d,
                     3 * d, {s * 3 * d, dh}, 0.0f, context, d, {s * d, dh}, b, heads);
      } else {
        // fp32 and int8: gemm_batched multiplies one head at a time anyway, so
        // each sentence over its own length costs nothing. Products of other
        // shapes may round differently (AVX2's sgemm does), so the padded
        // length would let a sentence's batch change its encoding, which
        // int8's rounding of inputs can turn into another translation.
        for (std::int64_t i = 0; i < b; ++i) {
          const std::int64_t len = src_lengths_[static_cast<std::size_t>(i)];
          const float* q = qkv + i * s * 3 * d;
          float* p = probs + i * heads * s * s;
          float* out = context + i * s * d;
          gemm_batched(Op::kN, Op::kT, len, len, dh, scale, q, 3 * d, {0, dh}, q + d, 3 * d, {0, dh}, 0.0f, p,
                       len, {0, len * len}, 1, heads);
          attention_softmax(p, 1, heads, len, len, &src_lengths_[static_cast<std::size_t>(i)], false);
          gemm_batched(Op::kN, Op::kN, len, dh, len, 1.0f, p, len, {0, len * len}, q + 2 * d, 3 * d, {0, dh},
                       0.0f, out, d, {0, dh}, 1, heads);
          std::fill(out + len * d, out + s * d, 0.0f);  // padding: never attended to
        }
      }
      return linear(arena_, context, rows, d, d, a.out_w, a.out_b);
    });
    const FfnW& f = w_->enc_ffn[static_cast<std::size_t>(l)];
    x = residual(arena_, x, rows, d, f.norm, config_.pre_norm, [&](const float* in) {
      float* hidden = linear(arena_, in, rows, d, config_.ffn, f.w1, f.b1, true);
      return linear(arena_, hidden, rows, config_.ffn, d, f.w2, f.b2);
    });
    return x;
  });
  if (config_.pre_norm) x = layer_norm(arena_, x, rows, d, w_->enc_final);
  for (std::size_t l = 0; l < cross_kv_.size(); ++l) {
    const AttnW& a = w_->dec_cross[l];
    cross_kv_[l].append(linear(arena_, x, rows, d, 2 * d, a.k_w, a.k_b), rows, 2 * d);
  }
}

void IncrementalDecoder::select(const std::vector<std::int32_t>& parents) {
  const std::size_t m = static_cast<std::size_t>(max_steps_), t = static_cast<std::size_t>(position_);
  spare_.resize(parents.size() * m);
  std::vector<std::int32_t> sentences(parents.size());
  for (std::size_t i = 0; i < parents.size(); ++i) {
    auto p = static_cast<std::size_t>(parents[i]);
    if (p >= sentence_.size()) throw Error(fmt::format("select: row {} of {}", p, sentence_.size()));
    std::copy_n(ancestors_.begin() + static_cast<std::ptrdiff_t>(p * m), t,
                spare_.begin() + static_cast<std::ptrdiff_t>(i * m));
    sentences[i] = sentence_[p];
  }
  ancestors_.swap(spare_);
  sentence_.swap(sentences);
  argmax_.resize(sentence_.size());
  // Room for the remaining steps at this row count (rows only shrink after a
  // beam's first step), so the caches are not copied as they grow.
  for (auto& c : cache_) c.reserve_more(static_cast<std::int64_t>(parents.size() * (m - t)));
}

// The decoder's output for the tokens fed: [rows, d_model], in the arena.
const float* IncrementalDecoder::decode_position(const std::vector<std::int32_t>& tokens) {
  const std::int64_t d = config_.d_model, rows = this->rows();
  if (static_cast<std::int64_t>(tokens.size()) != rows)
    throw Error(fmt::format("step: {} tokens for {} rows", tokens.size(), rows));
  if (position_ >= max_steps_) throw Error(fmt::format("step: more than {} steps", max_steps_));
  arena_.reset();
  slab_offset_[static_cast<std::size_t>(position_)] = cache_.empty() ? 0 : cache_[0].rows();
  for (std::int64_t r = 0; r < rows; ++r) ancestors_[static_cast<std::size_t>(r * max_steps_ + position_)] = static_cast<std::int32_t>(r);
  float* x = arena_.floats(static_cast<std::size_t>(rows * d));
  embedding_forward(tokens.data(), rows, w_->embed, d, std::sqrt(static_cast<float>(d)), nullptr,
                    positions_ + position_ * d, 1, x);
  for (std::int64_t l = 0; l < config_.decoder_layers; ++l) in_place_layer(arena_, x, rows * d, [&](const float* x) {
    auto li = static_cast<std::size_t>(l);
    x = residual(arena_, x, rows, d, w_->dec_self[li].norm, config_.pre_norm,
                 [&](const float* in) { return self_attention(l, in); });
    x = residual(arena_, x, rows, d, w_->dec_cross[li].norm, config_.pre_norm,
                 [&](const float* in) { return cross_attention(l, in); });
    const FfnW& f = w_->dec_ffn[li];
    x = residual(arena_, x, rows, d, f.norm, config_.pre_norm, [&](const float* in) {
      float* hidden = linear(arena_, in, rows, d, config_.ffn, f.w1, f.b1, true);
      return linear(arena_, hidden, rows, config_.ffn, d, f.w2, f.b2);
    });
    return x;
  });
  if (config_.pre_norm) return layer_norm(arena_, x, rows, d, w_->dec_final);
  return x;
}

// Columns of the output projection a product: its weights take 512 KB
// (512 tokens at d_model 256), and so do its logits at 256 rows, which
// stay in the core's cache for the scans that follow.
std::int64_t IncrementalDecoder::output_panel() const {
  constexpr std::int64_t kPanelWeights = 1 << 17;
  return std::max<std::int64_t>(64, kPanelWeights / config_.d_model / 64 * 64);
}

namespace {

// Keeps the `width` highest of row[from, n) in logits / tokens, highest
// first, an equal logit after a lower token; column j is token ids[j], or
// first + j without ids. Whole vectors of values below the last kept are
// skipped unread, so an equal value with a lower token is seen only beside a
// higher one (never when the tokens ascend with the columns).
void keep_highest(const float* row, std::int64_t from, std::int64_t n, std::int64_t first, const std::int32_t* ids,
                  std::int64_t width, float* logits, std::int32_t* tokens) {
  auto consider = [&](std::int64_t j) {
    const float x = row[j];
    const auto token = static_cast<std::int32_t>(ids ? ids[j] : first + j);
    auto above = [&](std::int64_t k) { return x > logits[k] || (x == logits[k] && token < tokens[k]); };
    if (!above(width - 1)) return;
    std::int64_t k = width - 1;
    for (; k > 0 && above(k - 1); --k) logits[k] = logits[k - 1], tokens[k] = tokens[k - 1];
    logits[k] = x;
    tokens[k] = token;
  };
  std::int64_t j = from;
  while ((j = next_block_above(row, j, n, 0.0f, logits[width - 1])) + kScanBlock <= n)
    for (const std::int64_t end = j + kScanBlock; j < end; ++j) consider(j);
  for (; j < n; ++j) consider(j);
}

// log Σ exp over a row folded as one piece (a shortlist's rows are short).
float whole_log_sum_exp(const float* row, std::int64_t n) {
  float maximum = -std::numeric_limits<float>::infinity(), sum = 0;
  fold_log_sum_exp(row, n, maximum, sum);
  return maximum + std::log(sum);
}

}  // namespace

// The logits panel by panel (output_panel()), each folded into its row's
// log-sum-exp while in cache and then `use`d: use(first column, columns,
// panel [rows, columns], first row, end row, the rows' largest logits in the
// panel). Afterwards lse_max_ / lse_sum_ hold each row's.
template <class Use>
void IncrementalDecoder::for_each_output_panel(const float* x, Use&& use) {
  const std::int64_t d = config_.d_model, rows = this->rows(), v = config_.vocab_size, panel = output_panel();
  lse_max_.assign(static_cast<std::size_t>(rows), -std::numeric_limits<float>::infinity());
  lse_sum_.assign(static_cast<std::size_t>(rows), 0.0f);
  panel_max_.resize(static_cast<std::size_t>(rows));
  float* out = panel_.reserve(static_cast<std::size_t>(rows * std::min(panel, v)));
  for (std::int64_t c = 0; c < v; c += panel) {
    const std::int64_t n = std::min(panel, v - c);
    gemm(Op::kN, Op::kT, rows, n, d, 1.0f, x, d, w_->embed + c * d, d, 0.0f, out, n);
    parallel_range(rows, 1, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t r = lo; r < hi; ++r) {
        auto ri = static_cast<std::size_t>(r);
        panel_max_[ri] = fold_log_sum_exp(out + r * n, n, lse_max_[ri], lse_sum_[ri]);
      }
      use(c, n, out, lo, hi);
    });
  }
}

float IncrementalDecoder::log_sum_exp(std::int64_t row) const {
  auto r = static_cast<std::size_t>(row);
  return lse_max_[r] + std::log(lse_sum_[r]);
}

float* IncrementalDecoder::step(const std::vector<std::int32_t>& tokens) {
  const float* x = decode_position(tokens);
  const std::int64_t rows = this->rows(), v = output_size();
  float* logprobs = logprobs_.reserve(static_cast<std::size_t>(rows * v));
  if (shared_tokens_.empty()) {
    for_each_output_panel(x, [&](std::int64_t c, std::int64_t n, const float* panel, std::int64_t lo, std::int64_t hi) {
      for (std::int64_t r = lo; r < hi; ++r) std::copy_n(panel + r * n, n, logprobs + r * v + c);
    });
    parallel_range(rows, 1, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t r = lo; r < hi; ++r) {
        const float shift = log_sum_exp(r);
        for (float *p = logprobs + r * v, *end = p + v; p < end; ++p) *p -= shift;
      }
    });
  } else {
    shortlist_logits(x, logprobs);
    parallel_range(rows, 1, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t r = lo; r < hi; ++r) {
        float* row = logprobs + r * v;
        const std::int64_t n = shortlist_columns(r);
        const float shift = whole_log_sum_exp(row, n);
        for (std::int64_t j = 0; j < n; ++j) row[j] -= shift;
      }
    });
  }
  ++position_;
  return logprobs;
}

const IncrementalDecoder::BestTokens& IncrementalDecoder::step_best(const std::vector<std::int32_t>& tokens,
                                                                     std::int64_t width) {
  if (width < 1) throw Error(fmt::format("step_best: width {}", width));
  const float* x = decode_position(tokens);
  const std::int64_t rows = this->rows();
  constexpr auto specials = static_cast<std::int64_t>(kSpecialTokens.size());
  BestTokens& b = best_;
  b.width = width;
  b.log_sum_exp.resize(static_cast<std::size_t>(rows));
  b.special_logits.resize(static_cast<std::size_t>(rows * specials));
  b.logits.assign(static_cast<std::size_t>(rows * width), -std::numeric_limits<float>::infinity());
  b.tokens.assign(static_cast<std::size_t>(rows * width), -1);
  if (!shared_tokens_.empty()) {
    // A shortlist's rows are short: each is one piece, from the specials'
    // columns on (its shared tokens begin with them), then its own tokens.
    const std::int64_t v = output_size(), shared = static_cast<std::int64_t>(shared_tokens_.size());
    float* logits = panel_.reserve(static_cast<std::size_t>(rows * v));
    shortlist_logits(x, logits);
    parallel_range(rows, 1, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t r = lo; r < hi; ++r) {
        const float* row = logits + r * v;
        const std::int64_t n = shortlist_columns(r);
        b.log_sum_exp[static_cast<std::size_t>(r)] = whole_log_sum_exp(row, n);
        std::copy_n(row, specials, b.special_logits.data() + r * specials);
        float* best = b.logits.data() + r * width;
        std::int32_t* ids = b.tokens.data() + r * width;
        keep_highest(row, specials, shared, 0, shared_tokens_.data(), width, best, ids);
        if (n > shared) {
          const auto& own = own_tokens_[static_cast<std::size_t>(sentence_[static_cast<std::size_t>(r)])];
          keep_highest(row + shared, 0, n - shared, 0, own.data(), width, best, ids);
        }
      }
    });
    ++position_;
    return b;
  }
  // The first panel holds the special tokens (panels are ≥ 64 wide).
  for_each_output_panel(x, [&](std::int64_t c, std::int64_t n, const float* panel, std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const float* row = panel + r * n;
      if (c == 0) std::copy_n(row, specials, b.special_logits.data() + r * specials);
      // Most panels hold none of the row's best so far (their largest is known).
      float* logits = b.logits.data() + r * width;
      if (panel_max_[static_cast<std::size_t>(r)] > logits[width - 1])
        keep_highest(row, c == 0 ? specials : 0, n, c, nullptr, width, logits, b.tokens.data() + r * width);
    }
  });
  for (std::int64_t r = 0; r < rows; ++r) b.log_sum_exp[static_cast<std::size_t>(r)] = log_sum_exp(r);
  ++position_;
  return b;
}

// The logits of a shortlist's tokens: the shared ones in one product for all
// rows, then each sentence's own tokens for its rows (consecutive, a beam),
// beside them; −inf past a row's columns (shortlist_columns()).
void IncrementalDecoder::shortlist_logits(const float* x, float* logits) {
  const std::int64_t d = config_.d_model, rows = this->rows(), v = output_size();
  const std::int64_t shared = shared_rows_.rows();
  shared_rows_.multiply(x, rows, logits, v);
  if (own_tokens_.empty()) return;
  for (std::int64_t begin = 0, end = 0; begin < rows; begin = end) {
    const std::int32_t sentence = sentence_[static_cast<std::size_t>(begin)];
    while (end < rows && sentence_[static_cast<std::size_t>(end)] == sentence) ++end;
    const WeightRows& own = own_rows_[static_cast<std::size_t>(sentence)];
    own.multiply(x + begin * d, end - begin, logits + begin * v + shared, v);
    for (std::int64_t r = begin; r < end; ++r)
      std::fill(logits + r * v + shared + own.rows(), logits + (r + 1) * v, -std::numeric_limits<float>::infinity());
  }
}

std::int64_t IncrementalDecoder::shortlist_columns(std::int64_t row) const {
  const auto shared = static_cast<std::int64_t>(shared_tokens_.size());
  if (own_tokens_.empty()) return shared;
  return shared + own_rows_[static_cast<std::size_t>(sentence_[static_cast<std::size_t>(row)])].rows();
}

void IncrementalDecoder::restrict_output(std::vector<std::int32_t> shared,
                                         std::vector<std::vector<std::int32_t>> own) {
  auto bad = [&](std::int32_t id, std::size_t at, const char* what) {
    return Error(fmt::format("restrict_output: token {} at {} ({})", id, at, what));
  };
  if (!shared.empty() && shared.size() < kSpecialTokens.size()) throw Error("restrict_output: the special tokens are missing");
  if (shared.empty() && !own.empty()) throw Error("restrict_output: own tokens without shared ones");
  for (std::size_t i = 0; i < shared.size(); ++i)
    if ((i < kSpecialTokens.size() && shared[i] != static_cast<std::int32_t>(i)) || (i > 0 && shared[i] <= shared[i - 1]) ||
        shared[i] >= config_.vocab_size)
      throw bad(shared[i], i, "shared tokens: ascending ids from the specials, below the vocabulary size");
  for (const auto& ids : own)
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (ids[i] < 0 || ids[i] >= config_.vocab_size || (i > 0 && ids[i] <= ids[i - 1]) ||
          std::binary_search(shared.begin(), shared.end(), ids[i]))
        throw bad(ids[i], i, "own tokens: ascending ids below the vocabulary size, none of them shared");
  const Precision precision = gemm_precision();
  if (shared != shared_tokens_ || precision != shared_precision_) {
    shared_tokens_ = std::move(shared);
    shared_precision_ = precision;
    if (!shared_tokens_.empty()) shared_rows_.gather(w_->embed, config_.vocab_size, config_.d_model, shared_tokens_);
  }
  own_tokens_ = std::move(own);
  if (own_rows_.size() < own_tokens_.size()) own_rows_.resize(own_tokens_.size());
  longest_own_ = 0;
  for (std::size_t i = 0; i < own_tokens_.size(); ++i) {
    own_rows_[i].gather(w_->embed, config_.vocab_size, config_.d_model, own_tokens_[i]);
    longest_own_ = std::max(longest_own_, static_cast<std::int64_t>(own_tokens_[i].size()));
  }
}

std::int64_t IncrementalDecoder::output_size() const {
  if (shared_tokens_.empty()) return config_.vocab_size;
  return static_cast<std::int64_t>(shared_tokens_.size()) + longest_own_;
}

// Masked self-attention of the new position over the row's cached prefix.
float* IncrementalDecoder::self_attention(std::int64_t layer, const float* x) {
  const std::int64_t d = config_.d_model, heads = config_.heads, rows = this->rows();
  const std::int64_t t = position_, m = max_steps_;
  const AttnW& a = w_->dec_self[static_cast<std::size_t>(layer)];
  float* qkv = linear(arena_, x, rows, d, 3 * d, a.q_w, a.q_b);
  KeyValueRows& cache = cache_[static_cast<std::size_t>(layer)];
  cache.append(qkv + d, rows, 3 * d);
  float* context = arena_.floats(static_cast<std::size_t>(rows * d));
  float* scores = arena_.floats(static_cast<std::size_t>(rows * heads * (t + 1)));
  cache.visit([&](const auto* slots) {
    using Row = std::remove_cvref_t<decltype(*slots)>;
    parallel_range(rows, 1, [&](std::int64_t lo, std::int64_t hi) {
      thread_local std::vector<const Row*> kv;
      kv.resize(static_cast<std::size_t>(t + 1));
      for (std::int64_t r = lo; r < hi; ++r) {
        const std::int32_t* anc = ancestors_.data() + r * m;
        for (std::int64_t j = 0; j <= t; ++j)
          kv[static_cast<std::size_t>(j)] = slots + (slab_offset_[static_cast<std::size_t>(j)] + anc[j]) * 2 * d;
        attend_cached(qkv + r * 3 * d, t + 1, kv.data(), d, heads, scores + r * heads * (t + 1), context + r * d);
      }
    });
  });
  return linear(arena_, context, rows, d, d, a.out_w, a.out_b);
}

// Attention over the row's sentence; the last layer also records the argmax
// source position of the head-averaged weights.
float* IncrementalDecoder::cross_attention(std::int64_t layer, const float* x) {
  const std::int64_t d = config_.d_model, heads = config_.heads, rows = this->rows();
  const std::int64_t s = src_len_;
  const bool last = layer + 1 == config_.decoder_layers;
  const AttnW& a = w_->dec_cross[static_cast<std::size_t>(layer)];
  float* q = linear(arena_, x, rows, d, d, a.q_w, a.q_b);
  float* context = arena_.floats(static_cast<std::size_t>(rows * d));
  float* scores = arena_.floats(static_cast<std::size_t>(rows * heads * s));
  cross_kv_[static_cast<std::size_t>(layer)].visit([&](const auto* kv_all) {
    using Row = std::remove_cvref_t<decltype(*kv_all)>;
    parallel_range(rows, 1, [&](std::int64_t lo, std::int64_t hi) {
      thread_local std::vector<const Row*> kv;
      kv.resize(static_cast<std::size_t>(s));
      for (std::int64_t r = lo; r < hi; ++r) {
        const std::int32_t sent = sentence_[static_cast<std::size_t>(r)];
        const std::int64_t len = src_lengths_[static_cast<std::size_t>(sent)];
        for (std::int64_t j = 0; j < len; ++j) kv[static_cast<std::size_t>(j)] = kv_all + (sent * s + j) * 2 * d;
        float* p = scores + r * heads * s;
        attend_cached(q + r * d, len, kv.data(), d, heads, p, context + r * d);
        if (last) {
          // Head-averaged weights over the words (</s> only when there are none).
          std::int64_t words = len > 1 ? len - 1 : len;
          for (std::int64_t h = 1; h < heads; ++h)
            for (std::int64_t j = 0; j < words; ++j) p[j] += p[h * len + j];
          argmax_[static_cast<std::size_t>(r)] = static_cast<std::int32_t>(std::max_element(p, p + words) - p);
        }
      }
    });
  });
  return linear(arena_, context, rows, d, d, a.out_w, a.out_b);
}

}  // namespace tfm
