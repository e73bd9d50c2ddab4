// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011): the value
// for element e of tensor `stream` at training step `step` is a pure function
// of (seed, step, stream, e), so dropout masks and initial weights do not
// depend on thread count, order of evaluation or anything drawn before.
#pragma once

#include <array>
#include <cstdint>

namespace tfm {

struct RngKey {
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  std::uint32_t stream = 0;  // tensor id (dropout site, micro-batch, parameter)
};

// Four independent 32-bit words for counter block `block` of the key.
std::array<std::uint32_t, 4> philox(const RngKey& key, std::uint32_t block);

// 32 random bits for element e (elements 4b..4b+3 share block b).
inline std::uint32_t random_bits(const RngKey& key, std::uint64_t e) {
  return philox(key, static_cast<std::uint32_t>(e >> 2))[e & 3];
}

// Uniform in (0, 1) from 32 bits.
inline float bits_to_unit(std::uint32_t bits) {
  return (static_cast<float>(bits >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

// Fills out[0, n) with uniform values in [lo, hi) / normal values N(0, stddev)
// for elements 0..n-1 of the key's stream.
void fill_uniform(const RngKey& key, std::int64_t n, float lo, float hi, float* out);
void fill_normal(const RngKey& key, std::int64_t n, float stddev, float* out);

// Dropout keep mask for elements [0, n): mask[e] = 1 with probability 1 - p.
// Runs on the engine threads; identical for any thread count.
void dropout_mask(const RngKey& key, std::int64_t n, float p, std::uint8_t* mask);

}  // namespace tfm
