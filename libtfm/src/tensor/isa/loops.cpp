// The kernels of level.h's LoopKernels for one instruction-set level:
// compiled once per level into namespace TFM_ISA_NS (see level.h). The
// instruction-specific paths are chosen by the level's own macros
// (__AVX2__, __AVX512F__, __AVX512BF16__) and give the same bits as the plain loops.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "level.h"
#include "tfm/tensor/simd.h"
#include "tfm/tensor/threads.h"

namespace tfm::TFM_ISA_NS {
namespace {

void round_to_bf16(const float* x, std::int64_t n, std::uint16_t* out) {
  std::int64_t i = 0;
#ifdef __AVX512BF16__
  // One instruction for 16 values, rounding as the loop below does.
  for (; i + 16 <= n; i += 16) {
    __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), reinterpret_cast<__m256i&>(h));
  }
#endif
  for (; i < n; ++i) {
    std::uint32_t u = std::bit_cast<std::uint32_t>(x[i]);
    if ((u & 0x7f800000u) == 0) u &= 0x80000000u;  // subnormal → signed zero, as VCVTNEPS2BF16
    bool nan = (u & 0x7fffffffu) > 0x7f800000u;
    std::uint32_t rounded = (u + 0x7fffu + (u >> 16 & 1)) >> 16;
    out[i] = static_cast<std::uint16_t>(nan ? u >> 16 | 0x40 : rounded);
  }
}

void dequantize_row(const std::int32_t* sums, float row_scale, const float* col_scale, const float* bias, bool relu,
                    std::int64_t n, float* out) {
  const simd::Floats vrow = simd::broadcast(row_scale), zero{};
  std::int64_t j = 0;
  for (; j + simd::kWidth <= n; j += simd::kWidth) {
    simd::Floats y = simd::load_int32(sums + j) * (vrow * simd::load(col_scale + j));
    if (bias) y += simd::load(bias + j);
    simd::store(out + j, relu ? simd::max(y, zero) : y);
  }
  for (; j < n; ++j) {
    float y = static_cast<float>(sums[j]) * (row_scale * col_scale[j]) + (bias ? bias[j] : 0.0f);
    out[j] = relu ? (y > 0.0f ? y : 0.0f) : y;
  }
}

// Philox blocks on a vector of 32-bit lanes, one block a lane: the level's
// lane operations (PhiloxLanes), then the rounds and the mask once for all.
#ifdef __AVX512F__
struct PhiloxLanes {
  using Words = __m512i;
  static constexpr int kCount = 16;
  static Words splat(std::uint32_t x) { return _mm512_set1_epi32(static_cast<int>(x)); }
  static Words counters(std::uint32_t first) {
    return _mm512_add_epi32(splat(first), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  }
  static Words bit_xor(Words a, Words b) { return _mm512_xor_si512(a, b); }
  // High and low 32 bits of mul · x in each lane. (The maskz forms with all
  // lanes set: GCC 12's plain ones warn of an uninitialized operand.)
  static void mul_hi_lo(Words x, std::uint32_t mul, Words& hi, Words& lo) {
    const __m512i m = _mm512_set1_epi64(mul);
    const __m512i even = _mm512_maskz_mul_epu32(0xFF, x, m);  // lanes 0, 2, ...: 64-bit products
    const __m512i odd = _mm512_maskz_mul_epu32(0xFF, _mm512_maskz_srli_epi64(0xFF, x, 32), m);
    hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_maskz_srli_epi64(0xFF, even, 32), odd);
    lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_maskz_slli_epi64(0xFF, odd, 32));
  }
  // Byte j of lane l: 1 when w[j]'s lane l reaches the threshold.
  static void store_mask(const Words w[4], std::uint32_t threshold, std::uint8_t* out) {
    const __m512i limit = splat(threshold);
    __m512i bytes = _mm512_setzero_si512();
    for (int j = 0; j < 4; ++j)
      bytes = _mm512_or_si512(bytes, _mm512_maskz_set1_epi32(_mm512_cmpge_epu32_mask(w[j], limit), 1 << (8 * j)));
    _mm512_storeu_si512(out, bytes);
  }
};
#elif defined(__AVX2__)
struct PhiloxLanes {
  using Words = __m256i;
  static constexpr int kCount = 8;
  static Words splat(std::uint32_t x) { return _mm256_set1_epi32(static_cast<int>(x)); }
  static Words counters(std::uint32_t first) {
    return _mm256_add_epi32(splat(first), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Words bit_xor(Words a, Words b) { return _mm256_xor_si256(a, b); }
  static void mul_hi_lo(Words x, std::uint32_t mul, Words& hi, Words& lo) {
    const __m256i m = _mm256_set1_epi64x(mul);
    const __m256i even = _mm256_mul_epu32(x, m);
    const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);
    hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  }
  // As AVX-512's; unsigned w ≥ limit is max(w, limit) == w.
  static void store_mask(const Words w[4], std::uint32_t threshold, std::uint8_t* out) {
    const __m256i limit = splat(threshold);
    __m256i bytes = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i kept = _mm256_cmpeq_epi32(_mm256_max_epu32(w[j], limit), w[j]);
      bytes = _mm256_or_si256(bytes, _mm256_and_si256(kept, _mm256_set1_epi32(1 << (8 * j))));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), bytes);
  }
};
#endif

#ifdef __AVX2__
constexpr std::uint32_t kMul0 = 0xD2511F53, kMul1 = 0xCD9E8D57;  // random.cpp's
constexpr std::uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;

// philox(key, first + l) for the lanes l, word j in w[j]: the same rounds as
// the scalar version (random.cpp), lane by lane.
void philox_lanes(const RngKey& key, std::uint32_t first, PhiloxLanes::Words w[4]) {
  using L = PhiloxLanes;
  L::Words c0 = L::counters(first), c1 = L::splat(key.stream);
  L::Words c2 = L::splat(static_cast<std::uint32_t>(key.step)), c3 = L::splat(static_cast<std::uint32_t>(key.step >> 32));
  std::uint32_t k0 = static_cast<std::uint32_t>(key.seed);
  std::uint32_t k1 = static_cast<std::uint32_t>(key.seed >> 32);
  for (int r = 0; r < 10; ++r) {
    L::Words hi0, lo0, hi1, lo1;
    L::mul_hi_lo(c0, kMul0, hi0, lo0);
    L::mul_hi_lo(c2, kMul1, hi1, lo1);
    c0 = L::bit_xor(L::bit_xor(hi1, c1), L::splat(k0));
    c1 = lo1;
    c2 = L::bit_xor(L::bit_xor(hi0, c3), L::splat(k1));
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  w[0] = c0, w[1] = c1, w[2] = c2, w[3] = c3;
}
#endif

void dropout_mask(const RngKey& key, std::int64_t n, float p, std::uint8_t* mask) {
  auto threshold = static_cast<std::uint32_t>(std::min(4294967295.0, p * 4294967296.0));
  parallel_range((n + 3) / 4, 4096, [&](std::int64_t lo, std::int64_t hi) {
    std::int64_t b = lo;
#ifdef __AVX2__
    // The vector's blocks at once: byte j of lane l is element 4 (b + l) + j.
    constexpr int kLanes = PhiloxLanes::kCount;
    for (; b + kLanes <= hi && 4 * (b + kLanes) <= n; b += kLanes) {
      PhiloxLanes::Words w[4];
      philox_lanes(key, static_cast<std::uint32_t>(b), w);
      PhiloxLanes::store_mask(w, threshold, mask + 4 * b);
    }
#endif
    for (; b < hi; ++b) {
      auto w = philox(key, static_cast<std::uint32_t>(b));
      for (std::int64_t j = 0; j < 4 && 4 * b + j < n; ++j) mask[4 * b + j] = w[j] >= threshold;
    }
  });
}

void adam_update(float* params, const float* grads, float* m, float* v, std::int64_t n, const AdamStep& s) {
  const float b1 = s.beta1, b2 = s.beta2, eps = s.eps, step_size = s.step_size, inv_sqrt_bc2 = s.inv_sqrt_bc2;
  parallel_range(n, 1 << 15, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) {
      float g = grads[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      params[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
  });
}

// Softmax of p[0, n) in place.
void softmax(float* p, std::int64_t n) {
  float mx = p[0];
  for (std::int64_t j = 1; j < n; ++j) mx = p[j] > mx ? p[j] : mx;
  const simd::Floats vmx = simd::broadcast(mx);
  std::int64_t j = 0;
  for (; j + simd::kWidth <= n; j += simd::kWidth) simd::store(p + j, simd::vexp(simd::load(p + j) - vmx));
  for (; j < n; ++j) p[j] = simd::vexp(p[j] - mx);
  float sum = 0;
  for (j = 0; j < n; ++j) sum += p[j];
  float inv = 1.0f / sum;
  for (std::int64_t j = 0; j < n; ++j) p[j] *= inv;
}

// Keys are walked once for all heads (each read is one contiguous vector).
template <class T>
void attend_cached(const float* q, std::int64_t n, const T* const* kv, std::int64_t d, std::int64_t heads,
                   float* scores, float* context) {
  const std::int64_t dh = d / heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  // Positions are scattered over the cache (one slab per step): fetch the
  // next ones ahead, the hardware prefetcher cannot guess them.
  constexpr std::int64_t kAhead = 4;
  auto prefetch = [&](const T* p) {
    const auto* bytes = reinterpret_cast<const char*>(p);
    for (std::int64_t i = 0; i < 2 * d * static_cast<std::int64_t>(sizeof *p); i += 64) __builtin_prefetch(bytes + i);
  };
  for (std::int64_t j = 0; j < n && j < kAhead; ++j) prefetch(kv[j]);
  for (std::int64_t j = 0; j < n; ++j) {
    if (j + kAhead < n) prefetch(kv[j + kAhead]);
    const T* k = kv[j];
    for (std::int64_t h = 0; h < heads; ++h) scores[h * n + j] = simd::dot(q + h * dh, k + h * dh, dh) * scale;
  }
  for (std::int64_t h = 0; h < heads; ++h) softmax(scores + h * n, n);
  for (std::int64_t i = 0; i < d; ++i) context[i] = 0.0f;
  for (std::int64_t j = 0; j < n; ++j) {
    const T* v = kv[j] + d;
    for (std::int64_t h = 0; h < heads; ++h) simd::axpy(scores[h * n + j], v + h * dh, context + h * dh, dh);
  }
}

// Max and Σ exp(x − m) in 16 independent lanes, so the loops vectorize.
float lanes_max(const float* x, std::int64_t n) {
  simd::Floats lanes = simd::broadcast(x[0]);
  std::int64_t i = 0;
  for (; i + simd::kWidth <= n; i += simd::kWidth) lanes = simd::max(lanes, simd::load(x + i));
  float m = simd::max_lane(lanes);
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

float lanes_sum_exp(const float* x, std::int64_t n, float m) {
  simd::Floats lanes{};
  const simd::Floats vm = simd::broadcast(m);
  std::int64_t i = 0;
  for (; i + simd::kWidth <= n; i += simd::kWidth) lanes += simd::vexp(simd::load(x + i) - vm);
  float s = simd::sum(lanes);
  for (; i < n; ++i) s += simd::vexp(x[i] - m);
  return s;
}

void log_softmax_rows(float* x, std::int64_t rows, std::int64_t cols) {
  parallel_range(rows, 1, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      float* row = x + r * cols;
      float m = lanes_max(row, cols);
      float shift = m + std::log(lanes_sum_exp(row, cols, m));
      for (std::int64_t j = 0; j < cols; ++j) row[j] -= shift;
    }
  });
}

// The piece's own maximum and sum, then one rescaling: one exponential
// more per piece, not per value.
float fold_log_sum_exp(const float* x, std::int64_t n, float& maximum, float& sum) {
  const float m = lanes_max(x, n);
  if (m == -std::numeric_limits<float>::infinity()) return m;  // adds nothing
  const float s = lanes_sum_exp(x, n, m);
  if (m > maximum) {
    sum = sum * simd::vexp(maximum - m) + s;
    maximum = m;
  } else {
    sum += s * simd::vexp(m - maximum);
  }
  return m;
}

std::int64_t argmax(const float* x, std::int64_t n) { return simd::argmax(x, n); }

std::int64_t next_block_above(const float* x, std::int64_t from, std::int64_t n, float base, float bound) {
  static_assert(kScanBlock == simd::kWidth);
  const simd::Floats vbase = simd::broadcast(base), vbound = simd::broadcast(bound);
  std::int64_t j = from;
  for (; j + simd::kWidth <= n; j += simd::kWidth)
    if (simd::any(simd::load(x + j) + vbase > vbound)) break;
  return j;
}

}  // namespace

const detail::LoopKernels kLoops = {
    round_to_bf16, dequantize_row, dropout_mask, adam_update, attend_cached<float>, attend_cached<std::uint16_t>,
    log_softmax_rows, fold_log_sum_exp, argmax, next_block_above,
};

}  // namespace tfm::TFM_ISA_NS
