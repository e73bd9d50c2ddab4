#include "tfm/tensor/random.h"

#include <cmath>

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

}  // namespace tfm
