// SplitMix64 (Steele, Lea and Flood, 2014): the small 64-bit generator tfm
// uses wherever a seeded stream of choices must be the same on every machine
// and for any thread count (BPE dropout per line, the batch shuffle per
// epoch). The tensor module's dropout uses Philox instead (tensor/random.h):
// it needs random access by counter, not a stream.
#pragma once

#include <cstdint>

namespace tfm {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t state) : state_(state) {}
  // The next 64 random bits.
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1), from the top 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

}  // namespace tfm
