#include "tfm/tensor/random.h"

#include <cmath>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "tfm/tensor/threads.h"

namespace tfm {
namespace {

constexpr std::uint32_t kMul0 = 0xD2511F53, kMul1 = 0xCD9E8D57;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;

inline void round(std::array<std::uint32_t, 4>& c, std::uint32_t k0, std::uint32_t k1) {
  std::uint64_t p0 = std::uint64_t{kMul0} * c[0], p1 = std::uint64_t{kMul1} * c[2];
  c = {static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k0, static_cast<std::uint32_t>(p1),
       static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k1, static_cast<std::uint32_t>(p0)};
}

}  // namespace

std::array<std::uint32_t, 4> philox(const RngKey& key, std::uint32_t block) {
  std::array<std::uint32_t, 4> c = {block, key.stream, static_cast<std::uint32_t>(key.step),
                                    static_cast<std::uint32_t>(key.step >> 32)};
  std::uint32_t k0 = static_cast<std::uint32_t>(key.seed);
  std::uint32_t k1 = static_cast<std::uint32_t>(key.seed >> 32);
  for (int r = 0; r < 10; ++r) {
    round(c, k0, k1);
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return c;
}

void fill_uniform(const RngKey& key, std::int64_t n, float lo, float hi, float* out) {
  for (std::int64_t e = 0; e < n; ++e) out[e] = lo + (hi - lo) * bits_to_unit(random_bits(key, e));
}

void fill_normal(const RngKey& key, std::int64_t n, float stddev, float* out) {
  // Box-Muller on the two halves of each block.
  for (std::int64_t e = 0; e < n; e += 2) {
    auto w = philox(key, static_cast<std::uint32_t>(e / 2));
    float r = std::sqrt(-2.0f * std::log(bits_to_unit(w[0])));
    float theta = 6.2831853f * bits_to_unit(w[1]);
    out[e] = stddev * r * std::cos(theta);
    if (e + 1 < n) out[e + 1] = stddev * r * std::sin(theta);
  }
}

#ifdef __AVX512F__
namespace {

// High and low 32 bits of mul · x for the 16 lanes of x. (The maskz forms
// with all lanes set: GCC 12's plain ones warn of an uninitialized operand.)
inline void mul_hi_lo(__m512i x, __m512i mul, __m512i& hi, __m512i& lo) {
  const __m512i even = _mm512_maskz_mul_epu32(0xFF, x, mul);  // lanes 0, 2, ...: 64-bit products
  const __m512i odd = _mm512_maskz_mul_epu32(0xFF, _mm512_maskz_srli_epi64(0xFF, x, 32), mul);
  hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_maskz_srli_epi64(0xFF, even, 32), odd);
  lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_maskz_slli_epi64(0xFF, odd, 32));
}

// philox(key, first + l) for the 16 lanes l, word j in w[j]: the same rounds
// as the scalar version, lane by lane.
void philox16(const RngKey& key, std::uint32_t first, __m512i w[4]) {
  const __m512i mul0 = _mm512_set1_epi64(kMul0), mul1 = _mm512_set1_epi64(kMul1);
  __m512i c0 = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(first)),
                                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  __m512i c1 = _mm512_set1_epi32(static_cast<int>(key.stream));
  __m512i c2 = _mm512_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(key.step)));
  __m512i c3 = _mm512_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(key.step >> 32)));
  std::uint32_t k0 = static_cast<std::uint32_t>(key.seed);
  std::uint32_t k1 = static_cast<std::uint32_t>(key.seed >> 32);
  for (int r = 0; r < 10; ++r) {
    __m512i hi0, lo0, hi1, lo1;
    mul_hi_lo(c0, mul0, hi0, lo0);
    mul_hi_lo(c2, mul1, hi1, lo1);
    c0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), _mm512_set1_epi32(static_cast<int>(k0)));
    c1 = lo1;
    c2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), _mm512_set1_epi32(static_cast<int>(k1)));
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  w[0] = c0, w[1] = c1, w[2] = c2, w[3] = c3;
}

}  // namespace
#endif

void dropout_mask(const RngKey& key, std::int64_t n, float p, std::uint8_t* mask) {
  auto threshold = static_cast<std::uint32_t>(std::min(4294967295.0, p * 4294967296.0));
  parallel_range((n + 3) / 4, 4096, [&](std::int64_t lo, std::int64_t hi) {
    std::int64_t b = lo;
#ifdef __AVX512F__
    // 16 blocks, 64 mask bytes at once: byte j of 32-bit lane l is element
    // 4 (b + l) + j, kept when word j of block b + l reaches the threshold.
    const __m512i limit = _mm512_set1_epi32(static_cast<int>(threshold));
    for (; b + 16 <= hi && 4 * (b + 16) <= n; b += 16) {
      __m512i w[4];
      philox16(key, static_cast<std::uint32_t>(b), w);
      __m512i bytes = _mm512_setzero_si512();
      for (int j = 0; j < 4; ++j)
        bytes = _mm512_or_si512(bytes, _mm512_maskz_set1_epi32(_mm512_cmpge_epu32_mask(w[j], limit), 1 << (8 * j)));
      _mm512_storeu_si512(mask + 4 * b, bytes);
    }
#endif
    for (; b < hi; ++b) {
      auto w = philox(key, static_cast<std::uint32_t>(b));
      for (std::int64_t j = 0; j < 4 && 4 * b + j < n; ++j) mask[4 * b + j] = w[j] >= threshold;
    }
  });
}

}  // namespace tfm
