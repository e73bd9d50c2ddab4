// The Transformer's layers, each with its forward pass and, next to it, its
// backward pass. A layer registers its weights in a ParamStore under a name
// prefix, keeps pointers to the activations of its last forward pass (in the
// pass's Arena) and accumulates weight gradients into the store's gradient
// array. Rows are positions: x [batch·len, d_model], row b·len + t.
#pragma once

#include <cstdint>
#include <string>

#include "tfm/model/params.h"
#include "tfm/tensor/random.h"
#include "tfm/tensor/tensor.h"
#include "tfm/tensor/threads.h"

namespace tfm {

// What one forward/backward pass shares: weights, scratch memory, dropout.
struct PassContext {
  ParamStore& params;
  Arena& arena;
  bool training = false;  // dropout on; backward() may follow
  RngKey rng;             // seed and step; the stream is set per dropout site
  std::uint32_t micro = 0;  // micro-batch within the step (--update-freq)

  // Keep mask for n elements at `site`, or null when dropout is off.
  std::uint8_t* dropout_mask(std::uint32_t site, std::int64_t n, float p);
};

// Hands out dropout site ids, one per place dropout is applied.
struct SiteCounter {
  std::uint32_t next = 0;
  std::uint32_t take() { return next++; }
};

class LayerNorm {
 public:
  LayerNorm(ParamStore& store, const std::string& prefix, std::int64_t d);
  // x [rows, d] → y [rows, d] (arena)
  float* forward(PassContext& ctx, const float* x, std::int64_t rows);
  // dy [rows, d] → dx [rows, d] (arena)
  float* backward(PassContext& ctx, const float* dy);

 private:
  int gamma_, beta_;
  std::int64_t d_, rows_ = 0;
  const float* x_ = nullptr;
  float *mean_ = nullptr, *rstd_ = nullptr;
};

// Multi-head attention with q, k, v, out projections (weights [d, d], y = x·Wᵀ + b).
class Attention {
 public:
  Attention(ParamStore& store, const std::string& prefix, std::int64_t d, std::int64_t heads,
            float dropout, SiteCounter& sites);
  // Self-attention over x [batch, len, d]; key_len [batch]; causal masks the future.
  float* forward_self(PassContext& ctx, const float* x, std::int64_t batch, std::int64_t len,
                      const std::int32_t* key_len, bool causal);
  // Queries from x [batch, len, d], keys and values from memory [batch, mem_len, d].
  float* forward_cross(PassContext& ctx, const float* x, const float* memory, std::int64_t batch,
                       std::int64_t len, std::int64_t mem_len, const std::int32_t* mem_key_len);
  // dout [batch·len, d] → dx (arena); for cross attention also dmemory += ∂/∂memory.
  float* backward(PassContext& ctx, const float* dout, float* dmemory = nullptr);

 private:
  float* attend(PassContext& ctx, const std::int32_t* key_len, bool causal);
  int wq_, wk_, wv_, wo_, bq_, bk_, bv_, bo_;
  std::int64_t d_, heads_;
  float dropout_;
  std::uint32_t site_;
  // last forward pass
  bool self_ = true;
  std::int64_t batch_ = 0, len_ = 0, mem_len_ = 0;
  const float *x_ = nullptr, *memory_ = nullptr;
  float *q_ = nullptr, *kv_ = nullptr;  // self: q_ = [rows, 3d] qkv; cross: q [rows, d], kv [mem, 2d]
  float *probs_ = nullptr, *dropped_ = nullptr, *context_ = nullptr;
  std::uint8_t* mask_ = nullptr;
};

// Position-wise feed-forward: relu(x·W1ᵀ + b1)·W2ᵀ + b2, optional ReLU dropout.
class FeedForward {
 public:
  FeedForward(ParamStore& store, const std::string& prefix, std::int64_t d, std::int64_t ffn,
              float relu_dropout, SiteCounter& sites);
  float* forward(PassContext& ctx, const float* x, std::int64_t rows);
  float* backward(PassContext& ctx, const float* dout);

 private:
  int w1_, b1_, w2_, b2_;
  std::int64_t d_, ffn_, rows_ = 0;
  float dropout_;
  std::uint32_t site_;
  const float* x_ = nullptr;
  float* hidden_ = nullptr;
  std::uint8_t* mask_ = nullptr;
};

// Residual connection, dropout and layer norm around a sub-layer F:
// post-norm y = LN(x + drop(F(x))), pre-norm y = x + drop(F(LN(x))).
class Sublayer {
 public:
  using Forward = FunctionRef<float*(const float* in)>;
  using Backward = FunctionRef<float*(const float* dout)>;
  Sublayer(ParamStore& store, const std::string& norm_name, std::int64_t d, float dropout,
           bool pre_norm, SiteCounter& sites);
  float* forward(PassContext& ctx, const float* x, std::int64_t rows, Forward f);
  float* backward(PassContext& ctx, const float* dy, Backward f_backward);
  void set_dropout(float p) { dropout_ = p; }

 private:
  LayerNorm norm_;
  std::int64_t d_, rows_ = 0;
  float dropout_;
  bool pre_norm_;
  std::uint32_t site_;
  std::uint8_t* mask_ = nullptr;
};

}  // namespace tfm
