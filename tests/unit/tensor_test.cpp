#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <cstring>
#include <functional>
#include <tuple>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/tensor/gemm.h"
#include "tfm/tensor/kernels.h"
#include "tfm/tensor/random.h"
#include "tfm/tensor/simd.h"
#include "tfm/tensor/tensor.h"
#include "tfm/tensor/threads.h"
#include "test_util.h"

using namespace tfm;
using tfm::test::skip_test_case;

namespace {

std::vector<float> random_vector(std::size_t n, std::uint32_t stream, float lo = -1, float hi = 1) {
  std::vector<float> v(n);
  fill_uniform({1234, 0, stream}, static_cast<std::int64_t>(n), lo, hi, v.data());
  return v;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// Runs fn with 1 and then 2 engine threads; restores 1.
template <class F>
void with_threads(int threads, F fn) {
  set_engine_threads(threads);
  fn();
  set_engine_threads(1);
}

std::vector<double> naive_gemm(Op ta, Op tb, int m, int n, int k, const std::vector<float>& a,
                               int lda, const std::vector<float>& b, int ldb,
                               const std::vector<float>& c0, int ldc, float alpha, float beta) {
  std::vector<double> c(c0.begin(), c0.end());
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int l = 0; l < k; ++l) {
        double av = ta == Op::kN ? a[i * lda + l] : a[l * lda + i];
        double bv = tb == Op::kN ? b[l * ldb + j] : b[j * ldb + l];
        s += av * bv;
      }
      c[i * ldc + j] = alpha * s + beta * c0[i * ldc + j];
    }
  return c;
}

}  // namespace

TEST_CASE("tensors are aligned and arenas stop allocating after the first pass") {
  Tensor t = Tensor::zeros({3, 5, 7});
  CHECK(t.size() == 105);
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % kTensorAlign == 0);
  CHECK(t.shape_string() == "[3, 5, 7]");
  CHECK_THROWS_AS(Tensor::zeros({1, 2, 3, 4, 5}), ShapeError);
  Arena arena;
  auto pass = [&] {
    for (int i = 0; i < 40; ++i) {
      float* p = arena.floats(1000003);
      CHECK(reinterpret_cast<std::uintptr_t>(p) % kTensorAlign == 0);
      p[1000002] = 1;
    }
    arena.reset();
  };
  pass();
  CHECK(arena.high_water_bytes() >= 40u * 1000003u * sizeof(float));
  std::size_t after_first = arena.allocations();
  pass();
  pass();
  CHECK(arena.allocations() == after_first);
}

TEST_CASE("gemm matches a naive product for every transpose, backend and thread count") {
  const int m = 301, n = 203, k = 37;
  for (GemmBackend backend : {GemmBackend::kOpenBlas, GemmBackend::kOneDnn})
  for (Op ta : {Op::kN, Op::kT})
    for (Op tb : {Op::kN, Op::kT}) {
      int lda = (ta == Op::kN ? k : m) + 3, ldb = (tb == Op::kN ? n : k) + 5, ldc = n + 1;
      auto a = random_vector((ta == Op::kN ? m : k) * lda, 1);
      auto b = random_vector((tb == Op::kN ? k : n) * ldb, 2);
      auto c0 = random_vector(m * ldc, 3);
      auto want = naive_gemm(ta, tb, m, n, k, a, lda, b, ldb, c0, ldc, 0.7f, 0.3f);
      set_gemm_backend(backend);
      std::vector<float> c1 = c0, c2 = c0;
      gemm(ta, tb, m, n, k, 0.7f, a.data(), lda, b.data(), ldb, 0.3f, c1.data(), ldc);
      with_threads(2, [&] {
        gemm(ta, tb, m, n, k, 0.7f, a.data(), lda, b.data(), ldb, 0.3f, c2.data(), ldc);
      });
      CHECK(max_abs_diff(c1, want) < 1e-4);
      CHECK(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)) == 0);
      set_gemm_backend(GemmBackend::kOneDnn);
    }
}

// Largest |c − want| relative to the largest |want| (bf16 keeps 8 bits of mantissa).
double relative_error(const std::vector<float>& c, const std::vector<double>& want) {
  double scale = 0;
  for (double w : want) scale = std::max(scale, std::abs(w));
  return max_abs_diff(c, want) / std::max(scale, 1e-30);
}

TEST_CASE("bf16 gemm is within bf16 rounding of fp32 and thread-independent") {
  struct Shape {
    int m, n, k;
  };
  // Awkward sizes, including ones that split into blocks (m·n·k ≥ 2^20).
  for (Shape sh : {Shape{1, 1, 1}, Shape{7, 13, 5}, Shape{65, 33, 129}, Shape{300, 257, 31}})
    for (Op ta : {Op::kN, Op::kT})
      for (Op tb : {Op::kN, Op::kT})
        for (float beta : {0.0f, 1.0f}) {
          const int m = sh.m, n = sh.n, k = sh.k;
          int lda = (ta == Op::kN ? k : m) + 2, ldb = (tb == Op::kN ? n : k) + 1, ldc = n + 3;
          auto a = random_vector((ta == Op::kN ? m : k) * lda, 11);
          auto b = random_vector((tb == Op::kN ? k : n) * ldb, 12);
          auto c0 = random_vector(m * ldc, 13, 0.5f, 1.0f);
          auto want = naive_gemm(ta, tb, m, n, k, a, lda, b, ldb, c0, ldc, 0.5f, beta);
          Precision used = set_gemm_precision(Precision::kBf16);
          CHECK((used == Precision::kBf16) == (*bf16_isa() != '\0'));
          std::vector<float> c1 = c0, c2 = c0;
          gemm(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, beta, c1.data(), ldc);
          with_threads(2, [&] {
            gemm(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, beta, c2.data(), ldc);
          });
          set_gemm_precision(Precision::kFp32);
          CAPTURE(m);
          CAPTURE(k);
          CHECK(relative_error(c1, want) <= 1e-2);
          CHECK(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)) == 0);
        }
}

TEST_CASE("bf16 gemm really rounds its operands when the CPU has bf16") {
  if (!*bf16_isa()) {
    skip_test_case("this CPU has neither AVX512-BF16 nor AMX (gemm computes in fp32)");
    return;
  }
  // 1 + 2^-10 is not a bf16 number: it rounds to 1, so the product loses it.
  float a = 1.0f + 1.0f / 1024, b = 1.0f, c = 0;
  set_gemm_precision(Precision::kBf16);
  gemm(Op::kN, Op::kN, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1);
  set_gemm_precision(Precision::kFp32);
  CHECK(c == 1.0f);
}

TEST_CASE("bf16 shadows of weights are read until refreshed") {
  if (!*bf16_isa()) {
    skip_test_case("this CPU has neither AVX512-BF16 nor AMX (gemm computes in fp32)");
    return;
  }
  const int m = 9, n = 11, k = 21, offset = 5;  // B is [n, k] (kT) inside a larger array
  std::vector<float> values = random_vector(offset + n * k + 3, 21);
  auto a = random_vector(m * k, 22);
  auto product = [&](std::vector<float>& c) {
    gemm(Op::kN, Op::kT, m, n, k, 1.0f, a.data(), k, values.data() + offset, k, 0.0f, c.data(), n);
  };
  set_gemm_precision(Precision::kBf16);
  std::vector<float> plain(m * n), shadowed(m * n), stale(m * n), fresh(m * n);
  product(plain);
  add_bf16_shadow(values.data(), static_cast<std::int64_t>(values.size()));
  product(shadowed);
  for (float& v : values) v *= 2;
  product(stale);
  refresh_bf16_shadows();
  product(fresh);
  clear_bf16_shadows();
  set_gemm_precision(Precision::kFp32);
  for (int i = 0; i < m * n; ++i) {
    CHECK(shadowed[i] == doctest::Approx(plain[i]).epsilon(1e-5));
    CHECK(stale[i] == shadowed[i]);
    CHECK(fresh[i] == 2 * shadowed[i]);  // doubling is exact in bf16
  }
}

TEST_CASE("bf16 batched gemm: every transpose and output layout, sums of the rounded operands, any thread count") {
  auto to_bf16 = [](float x) {
    std::uint16_t h;
    round_to_bf16(&x, 1, &h);
    return simd::to_float(h);
  };
  // Small, and large enough to be split in chunks of the outer batch.
  for (auto [b, h, m, n, k] : {std::tuple{3, 2, 5, 6, 7}, std::tuple{37, 3, 33, 29, 40}}) {
    for (Op ta : {Op::kN, Op::kT})
      for (Op tb : {Op::kN, Op::kT})
        for (int layout = 0; layout < 3; ++layout) {
          const bool a_transposed = ta == Op::kT, b_transposed = tb == Op::kT;
          CAPTURE(m);
          CAPTURE(a_transposed);
          CAPTURE(b_transposed);
          CAPTURE(layout);
          // Stored matrices side by side in padded rows, as attention's heads.
          const int a_rows = ta == Op::kN ? m : k, a_cols = ta == Op::kN ? k : m;
          const int b_rows = tb == Op::kN ? k : n, b_cols = tb == Op::kN ? n : k;
          const int lda = h * a_cols + 3, ldb = h * b_cols + 1;
          const BatchStrides sa{a_rows * lda, a_cols}, sb{b_rows * ldb, b_cols};
          auto av = random_vector(static_cast<std::size_t>(b * a_rows * lda), 40);
          auto bv = random_vector(static_cast<std::size_t>(b * b_rows * ldb), 41);
          // C dense, side by side, or side by side in padded rows.
          const int ldc = layout == 0 ? n : layout == 1 ? h * n : h * n + 5;
          const BatchStrides sc = layout == 0 ? BatchStrides{h * m * n, m * n} : BatchStrides{m * ldc, n};
          std::vector<float> c1(static_cast<std::size_t>(b * h * m * ldc), -7.0f), c2 = c1;
          // Where the CPU has no bf16 products, this is the fp32 path.
          const bool bf16 = set_gemm_precision(Precision::kBf16) == Precision::kBf16;
          gemm_batched(ta, tb, m, n, k, 0.5f, av.data(), lda, sa, bv.data(), ldb, sb, 0.0f, c1.data(), ldc, sc, b, h);
          with_threads(2, [&] {
            gemm_batched(ta, tb, m, n, k, 0.5f, av.data(), lda, sa, bv.data(), ldb, sb, 0.0f, c2.data(), ldc, sc, b, h);
          });
          set_gemm_precision(Precision::kFp32);
          CHECK(c1 == c2);
          double worst = 0;
          for (int i = 0; i < b; ++i)
            for (int j = 0; j < h; ++j)
              for (int r = 0; r < m; ++r)
                for (int col = 0; col < n; ++col) {
                  double want = 0, size = 0;
                  for (int l = 0; l < k; ++l) {
                    float x = ta == Op::kN ? av[i * sa.outer + j * sa.inner + r * lda + l]
                                           : av[i * sa.outer + j * sa.inner + l * lda + r];
                    float y = tb == Op::kN ? bv[i * sb.outer + j * sb.inner + l * ldb + col]
                                           : bv[i * sb.outer + j * sb.inner + col * ldb + l];
                    want += bf16 ? 0.5 * double(to_bf16(x)) * to_bf16(y) : 0.5 * double(x) * y;
                    size += std::abs(0.5 * double(x) * y);
                  }
                  worst = std::max(worst, std::abs(c1[i * sc.outer + j * sc.inner + r * ldc + col] - want) / size);
                }
          CHECK(worst < 1e-5);
          // Elements of C between the matrices are left alone.
          if (layout == 2) CHECK(c1[h * n] == -7.0f);
        }
  }
}

TEST_CASE("quantize_int8 scales by the largest magnitude and rounds to nearest even") {
  std::vector<float> x{0.5f, -2.0f, 1.0f, 0.0f, 127.0f / 254.0f * 2.0f};  // last: 63.5 steps → 64
  std::vector<std::int8_t> q(x.size());
  float scale = quantize_int8(x.data(), static_cast<std::int64_t>(x.size()), q.data());
  CHECK(scale == doctest::Approx(2.0f / 127));
  CHECK(q == std::vector<std::int8_t>{32, -127, 64, 0, 64});
  std::vector<float> zeros(20, 0.0f);
  std::vector<std::int8_t> qz(20, 5);
  CHECK(quantize_int8(zeros.data(), 20, qz.data()) == 0.0f);
  CHECK(qz == std::vector<std::int8_t>(20, 0));
  for (std::int64_t n : {1, 15, 16, 17, 100}) {  // vector lanes and tails agree
    auto v = random_vector(static_cast<std::size_t>(n), 40, -3, 3);
    std::vector<std::int8_t> qv(v.size());
    float s = quantize_int8(v.data(), n, qv.data());
    for (std::size_t i = 0; i < v.size(); ++i) CHECK(std::abs(v[i] - qv[i] * s) <= 0.5f * s * 1.0001f);
  }
}

TEST_CASE("linear_forward adds bias and ReLU in fp32, bf16 and int8; int8 needs a registered weight") {
  // Awkward sizes, including ones that split into blocks (rows·out·in ≥ 2^20).
  for (auto [rows, in, out] : {std::tuple{1, 1, 1}, std::tuple{7, 33, 13}, std::tuple{300, 65, 257},
                               std::tuple{5, 130, 2000}}) {
    auto x = random_vector(static_cast<std::size_t>(rows * in), 41);
    auto w = random_vector(static_cast<std::size_t>(out * in), 42);
    auto bias = random_vector(static_cast<std::size_t>(out), 43);
    for (bool relu : {false, true}) {
      std::vector<double> want(static_cast<std::size_t>(rows * out));
      for (int r = 0; r < rows; ++r)
        for (int j = 0; j < out; ++j) {
          double sum = bias[static_cast<std::size_t>(j)];
          for (int l = 0; l < in; ++l) sum += double{x[static_cast<std::size_t>(r * in + l)]} * w[static_cast<std::size_t>(j * in + l)];
          want[static_cast<std::size_t>(r * out + j)] = relu ? std::max(sum, 0.0) : sum;
        }
      CAPTURE(rows);
      CAPTURE(out);
      CAPTURE(relu);
      std::vector<float> y(want.size());
      linear_forward(x.data(), rows, in, out, w.data(), bias.data(), relu, y.data());
      CHECK(max_abs_diff(y, want) <= 1e-4);
      for (Precision p : {Precision::kBf16, Precision::kInt8}) {
        if (set_gemm_precision(p) != p) continue;  // no bf16 here: nothing new to test
        std::vector<float> y1(want.size()), y2(want.size());
        linear_forward(x.data(), rows, in, out, w.data(), bias.data(), relu, y1.data());
        if (p == Precision::kInt8) {  // unregistered: fp32, bit for bit
          CHECK(std::memcmp(y1.data(), y.data(), y.size() * sizeof(float)) == 0);
          add_int8_weight(w.data(), out, in);
          linear_forward(x.data(), rows, in, out, w.data(), bias.data(), relu, y1.data());
        }
        with_threads(2, [&] { linear_forward(x.data(), rows, in, out, w.data(), bias.data(), relu, y2.data()); });
        clear_int8_weights();
        set_gemm_precision(Precision::kFp32);
        // Errors of uniform [-1, 1) operands: bf16 ~2^-9 of each term, int8
        // ~1/254 of the largest one, over `in` terms that mostly cancel.
        CHECK(max_abs_diff(y1, want) <= (p == Precision::kBf16 ? 2e-2 : 4e-2) * std::sqrt(double(in)));
        CHECK(relative_error(y1, want) <= (p == Precision::kBf16 ? 1e-2 : 3e-2));
        CHECK(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)) == 0);
        if (relu) CHECK(*std::min_element(y1.begin(), y1.end()) >= 0.0f);
      }
    }
  }
}

TEST_CASE("int8 gemm: A · Wᵀ of a registered weight in int8, any other product in fp32") {
  const int m = 37, n = 300, k = 70;  // splits into blocks
  auto a = random_vector(m * k, 51), w = random_vector(n * k, 52);
  std::vector<float> c0(m * n, 0.0f), fp32(c0), int8(c0), other(c0);
  auto want = naive_gemm(Op::kN, Op::kT, m, n, k, a, k, w, k, c0, n, 1.0f, 0.0f);
  gemm(Op::kN, Op::kT, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f, fp32.data(), n);
  set_gemm_precision(Precision::kInt8);
  add_int8_weight(w.data(), n, k);
  gemm(Op::kN, Op::kT, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f, int8.data(), n);
  gemm(Op::kN, Op::kT, m, n, k, 0.5f, a.data(), k, w.data(), k, 0.0f, other.data(), n);  // alpha ≠ 1: fp32
  clear_int8_weights();
  set_gemm_precision(Precision::kFp32);
  CHECK(relative_error(int8, want) <= 3e-2);
  CHECK(relative_error(int8, want) > 1e-5);  // really quantized
  for (std::size_t i = 0; i < other.size(); ++i) CHECK(other[i] == 0.5f * fp32[i]);
}

TEST_CASE("round_to_bf16 rounds to nearest even, keeps NaN, flushes subnormals") {
  auto bits = [](std::uint32_t u) { return std::bit_cast<float>(u); };
  std::vector<float> x = {1.0f, bits(0x3f808000u), bits(0x3f818000u), bits(0x3f808001u), -2.5f,
                          std::numeric_limits<float>::quiet_NaN(), bits(0x7f7fffffu), bits(0x807fffffu)};
  // Each value alone (the scalar loop) and 16 times over (vector instructions where compiled in).
  std::vector<float> many;
  for (float v : x) many.insert(many.end(), 16, v);
  std::vector<std::uint16_t> y(x.size()), y16(many.size());
  round_to_bf16(x.data(), static_cast<std::int64_t>(x.size()), y.data());
  round_to_bf16(many.data(), static_cast<std::int64_t>(many.size()), y16.data());
  for (std::size_t i = 0; i < many.size(); ++i) CHECK(y16[i] == y[i / 16]);
  CHECK(y[0] == 0x3f80);
  CHECK(y[1] == 0x3f80);  // tie → even
  CHECK(y[2] == 0x3f82);  // tie → even (up)
  CHECK(y[3] == 0x3f81);  // above the tie
  CHECK(y[4] == 0xc020);
  CHECK((y[5] & 0x7f80) == 0x7f80);
  CHECK((y[5] & 0x7f) != 0);
  CHECK(y[6] == 0x7f80);  // FLT_MAX rounds to infinity, as in IEEE
  CHECK(y[7] == 0x8000);  // subnormal → signed zero
}

TEST_CASE("strided batched gemm computes each head's product") {
  // Q [b=3, t=5, h=2, dh=7] times K^T per (b, h) → [3, 2, 5, 6].
  const int b = 3, t = 5, s = 6, h = 2, dh = 7, d = h * dh;
  auto q = random_vector(b * t * d, 4), kk = random_vector(b * s * d, 5);
  std::vector<float> out(b * h * t * s);
  with_threads(2, [&] {
    gemm_batched(Op::kN, Op::kT, t, s, dh, 1.0f, q.data(), d, {t * d, dh}, kk.data(), d,
                 {s * d, dh}, 0.0f, out.data(), s, {h * t * s, t * s}, b, h);
  });
  double worst = 0;
  for (int bi = 0; bi < b; ++bi)
    for (int hi = 0; hi < h; ++hi)
      for (int i = 0; i < t; ++i)
        for (int j = 0; j < s; ++j) {
          double want = 0;
          for (int l = 0; l < dh; ++l)
            want += double(q[(bi * t + i) * d + hi * dh + l]) * kk[(bi * s + j) * d + hi * dh + l];
          worst = std::max(worst, std::abs(out[((bi * h + hi) * t + i) * s + j] - want));
        }
  CHECK(worst < 1e-5);
}

TEST_CASE("simd dot, axpy, sum and any match plain loops at every length") {
  for (std::int64_t n : {0, 1, 15, 16, 17, 31, 48, 63, 64, 65, 80, 100, 130}) {
    CAPTURE(n);
    auto a = random_vector(static_cast<std::size_t>(n) + 1, 31), x = random_vector(static_cast<std::size_t>(n) + 1, 32);
    std::vector<std::uint16_t> x16(x.size());
    round_to_bf16(x.data(), static_cast<std::int64_t>(x.size()), x16.data());
    double want = 0, want16 = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      want += double{a[static_cast<std::size_t>(i)]} * x[static_cast<std::size_t>(i)];
      want16 += double{a[static_cast<std::size_t>(i)]} * simd::to_float(x16[static_cast<std::size_t>(i)]);
    }
    CHECK(simd::dot(a.data(), x.data(), n) == doctest::Approx(want).epsilon(1e-5));
    CHECK(simd::dot(a.data(), x16.data(), n) == doctest::Approx(want16).epsilon(1e-5));
    std::vector<float> y(a), y16(a);
    simd::axpy(0.75f, x.data(), y.data(), n);
    simd::axpy(0.75f, x16.data(), y16.data(), n);
    for (std::int64_t i = 0; i <= n; ++i) {  // element n is past the end: untouched
      auto k = static_cast<std::size_t>(i);
      float in = i < n ? 1.0f : 0.0f;
      CHECK(y[k] == doctest::Approx(a[k] + in * 0.75f * x[k]).epsilon(1e-6));
      CHECK(y16[k] == doctest::Approx(a[k] + in * 0.75f * simd::to_float(x16[k])).epsilon(1e-6));
    }
  }
  for (std::int64_t n : {1, 2, 15, 16, 17, 40, 100}) {  // argmax: the first of the largest
    auto v = random_vector(static_cast<std::size_t>(n), 33);
    for (std::int64_t at : {std::int64_t{0}, n / 2, n - 1}) {
      auto w = v;
      w[static_cast<std::size_t>(at)] = 5.0f;
      w.back() = 5.0f;  // a later tie loses
      CHECK(simd::argmax(w.data(), n) == std::max_element(w.begin(), w.end()) - w.begin());
      CHECK(simd::argmax(w.data(), n) == std::min(at, n - 1));
    }
  }
  float lanes[simd::kWidth];
  for (int k = 0; k < simd::kWidth; ++k) lanes[k] = static_cast<float>(k + 1);
  CHECK(simd::sum(simd::load(lanes)) == 136.0f);
  for (int set = -1; set < simd::kWidth; ++set) {
    std::fill(lanes, lanes + simd::kWidth, 0.0f);
    if (set >= 0) lanes[set] = 2.0f;
    CHECK(simd::any(simd::load(lanes) > simd::broadcast(1.0f)) == (set >= 0));
  }
}

TEST_CASE("vexp is accurate over the softmax range") {
  double worst = 0;
  for (float x = -80; x < 80; x += 0.0137f)
    worst = std::max(worst, std::abs(simd::vexp(x) / std::exp(double(x)) - 1));
  CHECK(worst < 3e-7);
  CHECK(simd::vexp(-1000) >= 0);
}

TEST_CASE("masked attention softmax and its backward match a reference") {
  const int b = 2, h = 3, t = 5, s = 7;
  std::vector<std::int32_t> len = {7, 3};
  for (bool causal : {false, true}) {
    auto x = random_vector(b * h * t * s, 6, -4, 4);
    auto y = x;
    attention_softmax(y.data(), b, h, t, s, len.data(), causal);
    std::vector<double> want(x.size(), 0.0);
    for (int r = 0; r < b * h * t; ++r) {
      int valid = len[r / (h * t)];
      if (causal) valid = std::min(valid, r % t + 1);
      double m = -1e30, z = 0;
      for (int j = 0; j < valid; ++j) m = std::max(m, double(x[r * s + j]));
      for (int j = 0; j < valid; ++j) z += std::exp(x[r * s + j] - m);
      for (int j = 0; j < valid; ++j) want[r * s + j] = std::exp(x[r * s + j] - m) / z;
    }
    CHECK(max_abs_diff(y, want) < 1e-6);
  }
  auto p = random_vector(4 * 11, 7, 0, 1), g = random_vector(4 * 11, 8);
  auto dg = g;
  softmax_backward(p.data(), dg.data(), 4, 11);
  std::vector<double> want(g.size());
  for (int r = 0; r < 4; ++r) {
    double dot = 0;
    for (int j = 0; j < 11; ++j) dot += double(p[r * 11 + j]) * g[r * 11 + j];
    for (int j = 0; j < 11; ++j) want[r * 11 + j] = p[r * 11 + j] * (g[r * 11 + j] - dot);
  }
  CHECK(max_abs_diff(dg, want) < 1e-6);
}

TEST_CASE("layer norm forward matches a reference and backward matches finite differences") {
  const int rows = 13, d = 37;
  auto x = random_vector(rows * d, 9, -2, 2), gamma = random_vector(d, 10, 0.5, 1.5),
       beta = random_vector(d, 11), w = random_vector(rows * d, 12);
  std::vector<float> y(rows * d), mean(rows), rstd(rows);
  auto loss = [&](const std::vector<float>& xx, const std::vector<float>& gg,
                  const std::vector<float>& bb) {
    layer_norm_forward(xx.data(), gg.data(), bb.data(), y.data(), mean.data(), rstd.data(), rows,
                       d, 1e-5f);
    double l = 0;
    for (int i = 0; i < rows * d; ++i) l += double(y[i]) * w[i];
    return l;
  };
  loss(x, gamma, beta);
  std::vector<double> want(rows * d);
  for (int r = 0; r < rows; ++r) {
    double mu = 0, var = 0;
    for (int j = 0; j < d; ++j) mu += x[r * d + j] / double(d);
    for (int j = 0; j < d; ++j) var += std::pow(x[r * d + j] - mu, 2) / d;
    for (int j = 0; j < d; ++j)
      want[r * d + j] = (x[r * d + j] - mu) / std::sqrt(var + 1e-5) * gamma[j] + beta[j];
  }
  CHECK(max_abs_diff(y, want) < 1e-5);
  std::vector<float> dx(rows * d), dgamma(d, 0.0f), dbeta(d, 0.0f);
  layer_norm_backward(x.data(), gamma.data(), mean.data(), rstd.data(), w.data(), dx.data(),
                      dgamma.data(), dbeta.data(), rows, d);
  const float h = 1e-2f;
  for (int i : {0, 5, 40, rows * d - 1}) {
    auto xp = x, xm = x;
    xp[i] += h;
    xm[i] -= h;
    double fd = (loss(xp, gamma, beta) - loss(xm, gamma, beta)) / (2 * h);
    CHECK(fd == doctest::Approx(dx[i]).epsilon(1e-2).scale(1));
  }
  for (int j : {0, 17, d - 1}) {
    auto gp = gamma, gm = gamma, bp = beta, bm = beta;
    gp[j] += h, gm[j] -= h, bp[j] += h, bm[j] -= h;
    CHECK((loss(x, gp, beta) - loss(x, gm, beta)) / (2 * h) ==
          doctest::Approx(dgamma[j]).epsilon(1e-2));
    CHECK((loss(x, gamma, bp) - loss(x, gamma, bm)) / (2 * h) ==
          doctest::Approx(dbeta[j]).epsilon(1e-2));
  }
}

TEST_CASE("philox is Philox4x32-10 (Random123's known answers)") {
  // counter (block, stream, step low, step high), key (seed low, seed high)
  CHECK(philox({0, 0, 0}, 0) == std::array<std::uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox({~0ull, ~0ull, ~0u}, ~0u) ==
        std::array<std::uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox({0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3}, 0x243f6a88) ==
        std::array<std::uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("dropout masks are the scalar philox words against the threshold, at any length") {
  const RngKey key{0x1234567890ull, 77, 5};
  for (std::int64_t n : {1, 3, 63, 64, 65, 257, 16385, 100003}) {
    for (float p : {0.1f, 0.5f}) {
      std::vector<std::uint8_t> m1(n), m2(n);
      dropout_mask(key, n, p, m1.data());
      with_threads(2, [&] { dropout_mask(key, n, p, m2.data()); });
      const auto threshold = static_cast<std::uint32_t>(p * 4294967296.0);
      std::int64_t wrong = 0;
      for (std::int64_t e = 0; e < n; ++e) wrong += m1[e] != (random_bits(key, e) >= threshold);
      CHECK(wrong == 0);
      CHECK(m1 == m2);
    }
  }
}

TEST_CASE("dropout masks depend on the key only, not on threads") {
  const std::int64_t n = 100003;
  std::vector<std::uint8_t> m1(n), m2(n), m3(n);
  dropout_mask({7, 3, 11}, n, 0.1f, m1.data());
  with_threads(2, [&] { dropout_mask({7, 3, 11}, n, 0.1f, m2.data()); });
  dropout_mask({7, 4, 11}, n, 0.1f, m3.data());
  CHECK(m1 == m2);
  CHECK(m1 != m3);
  double kept = 0;
  for (auto v : m1) kept += v;
  CHECK(kept / n == doctest::Approx(0.9).epsilon(0.01));
  auto x = random_vector(n, 13), f = random_vector(n, 14);
  std::vector<float> out(n);
  residual_dropout(x.data(), f.data(), m1.data(), 0.1f, out.data(), n);
  for (std::int64_t i : {0L, 77L, n - 1})
    CHECK(out[i] == doctest::Approx(x[i] + (m1[i] ? f[i] / 0.9f : 0.0f)));
  auto y = f;
  dropout_apply(y.data(), m1.data(), n, 0.1f);
  for (std::int64_t i : {1L, 99L, n - 2}) CHECK(y[i] == doctest::Approx(m1[i] ? f[i] / 0.9f : 0));
}

TEST_CASE("sum of squares is exact enough and thread-independent") {
  const std::int64_t n = 200003;
  auto x = random_vector(n, 22);
  std::vector<double> partials(sum_squares_blocks(n));
  double want = 0;
  for (float v : x) want += double(v) * v;
  double s1 = sum_squares(x.data(), n, partials.data()), s2 = 0;
  with_threads(2, [&] { s2 = sum_squares(x.data(), n, partials.data()); });
  CHECK(s1 == doctest::Approx(want).epsilon(1e-12));
  CHECK(s1 == s2);
  scale_values(x.data(), n, 0.5f);
  CHECK(sum_squares(x.data(), n, partials.data()) == doctest::Approx(want / 4).epsilon(1e-12));
}

TEST_CASE("bias, ReLU and their backward passes") {
  const int rows = 9, cols = 131;
  auto y = random_vector(rows * cols, 15), bias = random_vector(cols, 16);
  auto out = y;
  add_bias(out.data(), bias.data(), rows, cols, true);
  std::vector<double> want(rows * cols), dbias_want(cols, 0.0);
  for (int i = 0; i < rows * cols; ++i) want[i] = std::max(0.0f, y[i] + bias[i % cols]);
  CHECK(max_abs_diff(out, want) < 1e-7);
  auto g = random_vector(rows * cols, 17);
  auto g2 = g;
  relu_backward(out.data(), g2.data(), rows * cols);
  for (int i = 0; i < rows * cols; ++i) CHECK(g2[i] == (out[i] > 0 ? g[i] : 0.0f));
  std::vector<float> dbias(cols, 1.0f);
  bias_backward(g.data(), rows, cols, dbias.data());
  for (int i = 0; i < rows * cols; ++i) dbias_want[i % cols] += g[i];
  for (int j = 0; j < cols; ++j) CHECK(dbias[j] == doctest::Approx(1 + dbias_want[j]));
}

TEST_CASE("embedding gather with positions and deterministic scatter-add") {
  const int vocab = 11, d = 70, rows = 15, seq = 5;
  auto table = random_vector(vocab * d, 18), pos = random_vector(seq * d, 19);
  std::vector<std::int32_t> ids = {3, 1, 3, 10, 0, 3, 4, 4, 2, 9, 8, 7, 6, 5, 3};
  std::vector<float> out(rows * d);
  embedding_forward(ids.data(), rows, table.data(), d, 2.0f, pos.data(), seq, out.data());
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < d; ++j)
      CHECK(out[r * d + j] == doctest::Approx(table[ids[r] * d + j] * 2 + pos[(r % seq) * d + j]));
  auto g = random_vector(rows * d, 20);
  std::vector<float> dt1(vocab * d, 0.0f), dt2(vocab * d, 0.0f);
  embedding_backward(ids.data(), rows, g.data(), d, 2.0f, dt1.data());
  with_threads(2, [&] { embedding_backward(ids.data(), rows, g.data(), d, 2.0f, dt2.data()); });
  CHECK(dt1 == dt2);
  std::vector<double> want(vocab * d, 0.0);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < d; ++j) want[ids[r] * d + j] += 2.0 * g[r * d + j];
  CHECK(max_abs_diff(dt1, want) < 1e-5);
}

TEST_CASE("label-smoothed cross entropy matches a double-precision reference") {
  const int rows = 6, vocab = 1037;
  const float eps = 0.1f, scale = 0.25f;
  auto z = random_vector(rows * vocab, 21, -6, 6);
  std::vector<std::int32_t> targets = {5, 0, 1036, 17, 0, 400};
  z[5] = 9;  // row 0's target wins
  std::vector<double> loss(rows), nll(rows);
  std::vector<std::int32_t> correct(rows);
  auto g = z;
  label_smoothed_xent(g.data(), rows, vocab, targets.data(), 0, eps, scale, loss.data(), nll.data(),
                      correct.data());
  CHECK(correct == std::vector<std::int32_t>{1, 0, 0, 0, 0, 0});
  double eps_i = eps / (vocab - 1.0);
  for (int r = 0; r < rows; ++r) {
    if (targets[r] == 0) {
      CHECK(loss[r] == 0);
      CHECK(g[r * vocab + 3] == 0);
      continue;
    }
    double m = -1e30, s = 0, smooth = 0;
    for (int j = 0; j < vocab; ++j) m = std::max(m, double(z[r * vocab + j]));
    for (int j = 0; j < vocab; ++j) s += std::exp(z[r * vocab + j] - m);
    double lse = m + std::log(s);
    for (int j = 0; j < vocab; ++j) smooth += lse - z[r * vocab + j];
    double want_nll = lse - z[r * vocab + targets[r]];
    CHECK(nll[r] == doctest::Approx(want_nll).epsilon(1e-6));
    CHECK(loss[r] == doctest::Approx((1 - eps - eps_i) * want_nll + eps_i * smooth).epsilon(1e-6));
    for (int j : {0, 5, 17, 400, 1036}) {
      double p = std::exp(z[r * vocab + j] - lse);
      double want = scale * ((1 - eps - eps_i) * (p - (j == targets[r])) + eps_i * (vocab * p - 1));
      CHECK(g[r * vocab + j] == doctest::Approx(want).epsilon(1e-4).scale(1e-6));
    }
  }
}
