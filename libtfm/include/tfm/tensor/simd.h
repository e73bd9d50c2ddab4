// Sixteen-float vectors as GCC vector extensions: one zmm register with
// AVX-512, two ymm or four xmm registers elsewhere, from the same source. For
// the small inner loops (a 64-float head dot product, a scan for values above
// a threshold) where the compiler's own vectorizer gives up on a horizontal
// reduction or an early exit.
//
// Kernels built for several instruction-set levels (tensor/isa.h) include
// this with TFM_ISA_NS set to their level's namespace: an inline namespace
// keeps each level's copies of these functions apart, so the linker never
// hands one level's code (say, with AVX-512) to another's.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

#ifndef TFM_ISA_NS
#define TFM_ISA_NS isa_generic
#endif

namespace tfm::simd {
inline namespace TFM_ISA_NS {

constexpr int kWidth = 16;
using Floats = float __attribute__((vector_size(64)));
using Mask = std::int32_t __attribute__((vector_size(64)));

inline Floats load(const float* p) {
  Floats v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}

inline void store(float* p, Floats v) { std::memcpy(p, &v, sizeof v); }

inline Floats broadcast(float x) { return x - Floats{}; }

// The widest vector the level has: GCC lowers a ?: on a wider vector one
// float at a time, so selects run on pieces of this width.
#if defined(__AVX512F__)
constexpr int kNativeWidth = 16;
#elif defined(__AVX__)
constexpr int kNativeWidth = 8;
#else
constexpr int kNativeWidth = 4;
#endif
using NativeFloats = float __attribute__((vector_size(kNativeWidth * sizeof(float))));
using NativeInts = std::int32_t __attribute__((vector_size(kNativeWidth * sizeof(float))));

[[gnu::always_inline]] inline NativeFloats piece(const Floats& v, int k) {
  NativeFloats p;
  std::memcpy(&p, reinterpret_cast<const float*>(&v) + k, sizeof p);
  return p;
}

// f applied to each native-width piece of the vectors v.
template <class F, class... V>
[[gnu::always_inline]] inline Floats piecewise(F f, const V&... v) {
  Floats out;
  for (int k = 0; k < kWidth; k += kNativeWidth) {
    NativeFloats p = f(piece(v, k)...);
    std::memcpy(reinterpret_cast<float*>(&out) + k, &p, sizeof p);
  }
  return out;
}

inline Floats max(Floats a, Floats b) {
  return piecewise([](NativeFloats x, NativeFloats y) { return x > y ? x : y; }, a, b);
}

// Largest lane.
inline float max_lane(Floats v) {
  float m = v[0];
  for (int k = 1; k < kWidth; ++k) m = v[k] > m ? v[k] : m;
  return m;
}

inline Floats abs(Floats v) {
  Mask bits;
  std::memcpy(&bits, &v, sizeof v);
  bits &= 0x7fffffff;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// 16 values already rounded to integers in [-128, 127], stored as int8.
inline void store_int8(std::int8_t* p, Floats v) {
  using Bytes = std::int8_t __attribute__((vector_size(16)));
  Bytes b = __builtin_convertvector(__builtin_convertvector(v, Mask), Bytes);
  std::memcpy(p, &b, sizeof b);
}

// 16 int32 values as floats.
inline Floats load_int32(const std::int32_t* p) {
  Mask m;
  std::memcpy(&m, p, sizeof m);
  return __builtin_convertvector(m, Floats);
}

// Sum of the lanes, pairwise (8 + 8, 4 + 4, then the last four).
inline float sum(Floats v) {
  using F8 = float __attribute__((vector_size(32)));
  using F4 = float __attribute__((vector_size(16)));
  F8 h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
         __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  F4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
  return (q[0] + q[2]) + (q[1] + q[3]);
}

// Whether any lane of a comparison result is set.
inline bool any(Mask m) {
  using M8 = std::int32_t __attribute__((vector_size(32)));
  using M4 = std::int32_t __attribute__((vector_size(16)));
  M8 h = __builtin_shufflevector(m, m, 0, 1, 2, 3, 4, 5, 6, 7) |
         __builtin_shufflevector(m, m, 8, 9, 10, 11, 12, 13, 14, 15);
  M4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) | __builtin_shufflevector(h, h, 4, 5, 6, 7);
  return (q[0] | q[1] | q[2] | q[3]) != 0;
}

// 16 bf16 values (the high halves of floats) widened to floats.
inline Floats load(const std::uint16_t* p) {
  using Halves = std::uint16_t __attribute__((vector_size(32)));
  using Words = std::uint32_t __attribute__((vector_size(64)));
  Halves h;
  std::memcpy(&h, p, sizeof h);
  Words w = __builtin_convertvector(h, Words) << 16;
  Floats v;
  std::memcpy(&v, &w, sizeof v);
  return v;
}

inline float to_float(std::uint16_t bf16) {
  std::uint32_t w = std::uint32_t{bf16} << 16;
  float f;
  std::memcpy(&f, &w, sizeof f);
  return f;
}

// The index of the first largest of x[0, n), n ≥ 1, as std::max_element
// finds it (NaNs aside): the maximum in vectors, then its first position.
inline std::int64_t argmax(const float* x, std::int64_t n) {
  Floats top = broadcast(x[0]);
  std::int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) top = max(top, load(x + i));
  float m = max_lane(top);
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  const Floats vm = broadcast(m);
  for (i = 0; i + kWidth <= n; i += kWidth)
    if (any(load(x + i) == vm)) break;
  while (x[i] != m) ++i;
  return i;
}

inline float to_float(float x) { return x; }

// Σ a[i]·b[i], b in float or bf16: four independent vector accumulators, then
// the tail.
template <class T>
[[gnu::always_inline]] inline float dot(const float* a, const T* b, std::int64_t n) {
  Floats acc[4] = {};
  std::int64_t i = 0;
  for (; i + 4 * kWidth <= n; i += 4 * kWidth)
    for (int k = 0; k < 4; ++k) acc[k] += load(a + i + k * kWidth) * load(b + i + k * kWidth);
  for (; i + kWidth <= n; i += kWidth) acc[0] += load(a + i) * load(b + i);
  float s = sum((acc[0] + acc[1]) + (acc[2] + acc[3]));
  for (; i < n; ++i) s += a[i] * to_float(b[i]);
  return s;
}

// y[i] += a · x[i], x in float or bf16.
template <class T>
[[gnu::always_inline]] inline void axpy(float a, const T* x, float* y, std::int64_t n) {
  const Floats va = broadcast(a);
  std::int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) store(y + i, load(y + i) + va * load(x + i));
  for (; i < n; ++i) y[i] += a * to_float(x[i]);
}

// exp(x) to ~2 ulp (Cephes expf: x = n·ln2 + g, |g| ≤ ln2/2, exp(g) by a
// polynomial), the same operations for one float and for a vector: each
// lane gets the scalar one's bits. GCC vectorizes loops over the scalar one
// only with AVX-512's masks; below that, it turns the clamps into branches.
template <class T>
[[gnu::always_inline]] inline T vexp_of(T x) {
  x = x < -87.0f ? -87.0f + T{} : x;  // (std::clamp returns a reference)
  x = x > 88.0f ? 88.0f + T{} : x;
  // Round to nearest by adding 1.5·2^23 (std::floor has no vector form).
  T n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  T g = x - n * 0.693359375f + n * 2.12194440e-4f;
  T p = 1.9875691500e-4f + T{};
  p = p * g + 1.3981999507e-3f;
  p = p * g + 8.3334519073e-3f;
  p = p * g + 4.1665795894e-2f;
  p = p * g + 1.6666665459e-1f;
  p = p * g + 5.0000001201e-1f;
  p = p * g * g + g + 1.0f;
  if constexpr (std::is_same_v<T, float>) {
    return p * std::bit_cast<float>((static_cast<std::int32_t>(n) + 127) << 23);
  } else {
    return p * std::bit_cast<T>((__builtin_convertvector(n, NativeInts) + 127) << 23);
  }
}

inline float vexp(float x) { return vexp_of(x); }
inline Floats vexp(Floats x) {
  return piecewise([](NativeFloats p) { return vexp_of(p); }, x);
}

}  // inline namespace TFM_ISA_NS
}  // namespace tfm::simd
