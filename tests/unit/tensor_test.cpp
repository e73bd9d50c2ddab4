// The tensor module's storage and matrix products: tensors and arenas
// (tensor.h), and gemm in fp32, bf16 and int8 (gemm.h) against a naive
// product, for every transpose, layout and thread count.
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
#include "tensor_test_util.h"
#include "test_util.h"

using namespace tfm;
using tfm::test::max_abs_diff;
using tfm::test::random_vector;
using tfm::test::skip_test_case;
using tfm::test::with_threads;

namespace {

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

TEST_CASE("grow-only buffers keep what is asked to be kept, at least double, never shrink") {
  GrowOnlyBuffer<std::int32_t> buffer;
  CHECK(buffer.capacity() == 0);
  std::int32_t* p = buffer.reserve(5);
  CHECK(reinterpret_cast<std::uintptr_t>(p) % kTensorAlign == 0);
  CHECK(buffer.capacity() == 5);
  for (int i = 0; i < 5; ++i) p[i] = i + 1;
  CHECK(buffer.reserve(3) == p);  // smaller: the same memory, the same values
  CHECK(buffer.capacity() == 5);
  p = buffer.reserve(6, 4);
  CHECK(buffer.capacity() == 10);
  CHECK(std::vector<std::int32_t>(p, p + 4) == std::vector<std::int32_t>{1, 2, 3, 4});
  buffer.reserve(37);
  CHECK(buffer.capacity() == 37);
  CHECK(buffer.reserve(0) == buffer.data());
  CHECK(buffer.capacity() == 37);
}

TEST_CASE("an arena with spare room does not reallocate while its high water creeps up") {
  Arena arena(1.0);
  std::size_t n = std::size_t{5} << 20;  // 20 MiB: more than the first block
  arena.floats(n);
  arena.reset();
  const std::size_t after_first = arena.allocations();
  for (int pass = 0; pass < 10; ++pass) {
    n += n / 16;  // batches sorted by length, each a little longer
    arena.floats(n);
    arena.reset();
  }
  CHECK(arena.allocations() <= after_first + 2);
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

// Aᵀ·B products read column blocks of wide activations (weight gradients);
// leading dimensions that are multiples of 512 floats make gemm() read the
// operands from dense copies.
TEST_CASE("gemm of transposed A with leading dimensions of 512 floats and more matches a naive product") {
  struct Shape {
    int m, n, k, lda, ldb;
  };
  for (Shape s : {Shape{37, 203, 301, 512, 203}, Shape{203, 37, 300, 203, 1024}, Shape{130, 77, 517, 1024, 2048},
                  Shape{512, 9, 256, 512, 512}, Shape{3, 5, 255, 512, 512}}) {
    CAPTURE(s.m);
    CAPTURE(s.n);
    CAPTURE(s.k);
    CAPTURE(s.lda);
    CAPTURE(s.ldb);
    const int ldc = s.n + 2;
    auto a = random_vector(s.k * s.lda, 4);
    auto b = random_vector(s.k * s.ldb, 5);
    auto c0 = random_vector(s.m * ldc, 6);
    auto want = naive_gemm(Op::kT, Op::kN, s.m, s.n, s.k, a, s.lda, b, s.ldb, c0, ldc, 0.5f, 1.0f);
    std::vector<float> c1 = c0, c2 = c0;
    gemm(Op::kT, Op::kN, s.m, s.n, s.k, 0.5f, a.data(), s.lda, b.data(), s.ldb, 1.0f, c1.data(), ldc);
    with_threads(2, [&] {
      gemm(Op::kT, Op::kN, s.m, s.n, s.k, 0.5f, a.data(), s.lda, b.data(), s.ldb, 1.0f, c2.data(), ldc);
    });
    CHECK(max_abs_diff(c1, want) < 1e-4);
    CHECK(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)) == 0);
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
  float scale = quantize_int8(x.data(), static_cast<std::int64_t>(x.size()), q.data(), 127);
  CHECK(scale == doctest::Approx(2.0f / 127));
  CHECK(q == std::vector<std::int8_t>{32, -127, 64, 0, 64});
  scale = quantize_int8(x.data(), static_cast<std::int64_t>(x.size()), q.data(), 63);  // 7 bits: 1.0 is 31.5 steps
  CHECK(scale == doctest::Approx(2.0f / 63));
  CHECK(q == std::vector<std::int8_t>{16, -63, 32, 0, 32});
  std::vector<float> zeros(20, 0.0f);
  std::vector<std::int8_t> qz(20, 5);
  CHECK(quantize_int8(zeros.data(), 20, qz.data(), 127) == 0.0f);
  CHECK(qz == std::vector<std::int8_t>(20, 0));
  for (std::int64_t n : {1, 15, 16, 17, 100}) {  // vector lanes and tails agree
    auto v = random_vector(static_cast<std::size_t>(n), 40, -3, 3);
    std::vector<std::int8_t> qv(v.size());
    for (int limit : {127, 63}) {
      float s = quantize_int8(v.data(), n, qv.data(), limit);
      for (std::size_t i = 0; i < v.size(); ++i) CHECK(std::abs(v[i] - qv[i] * s) <= 0.5f * s * 1.0001f);
      int largest = 0;
      for (std::int8_t value : qv) largest = std::max(largest, std::abs(int{value}));
      CHECK(largest == limit);
    }
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

TEST_CASE("int8 gemm: sums of extreme values are exact on any CPU (no 16-bit saturation without VNNI)") {
  // Every value ±1: A's rows quantize to ±127 and W's to the largest value
  // it may take, so the int32 sums are exact integers and the product is
  // exact to the scales' rounding. Without VNNI, a full-range W would
  // saturate oneDNN's 16-bit pair sums (DNNL_MAX_CPU_ISA=AVX2 shows it on
  // any CPU; tests/run-tests.sh runs this case so).
  const int m = 37, n = 300, k = 70;
  auto signs = [](std::size_t size, std::uint32_t seed) {
    auto v = random_vector(size, seed);
    for (float& x : v) x = x < 0 ? -1.0f : 1.0f;
    return v;
  };
  auto a = signs(m * k, 61), w = signs(n * k, 62);
  std::vector<float> c0(m * n, 0.0f), int8(c0);
  auto want = naive_gemm(Op::kN, Op::kT, m, n, k, a, k, w, k, c0, n, 1.0f, 0.0f);
  set_gemm_precision(Precision::kInt8);
  add_int8_weight(w.data(), n, k);
  gemm(Op::kN, Op::kT, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f, int8.data(), n);
  clear_int8_weights();
  set_gemm_precision(Precision::kFp32);
  CHECK(max_abs_diff(int8, want) <= 1e-4);
}

TEST_CASE("packed fp32 weights: products and linear layers read the packed copy, any thread count") {
  // Unsplit, cut along A's rows (W taller or shorter than A), and cut into
  // column blocks (8 and 2).
  for (auto [m, n, k] : {std::tuple{7, 13, 33}, std::tuple{300, 257, 65}, std::tuple{260, 1000, 40},
                         std::tuple{37, 2001, 70}, std::tuple{1, 300, 4000}}) {
    CAPTURE(m);
    CAPTURE(n);
    auto a = random_vector(static_cast<std::size_t>(m * k), 61), w = random_vector(static_cast<std::size_t>(n * k), 62);
    auto bias = random_vector(static_cast<std::size_t>(n), 63);
    const auto w_saved = w;
    std::vector<float> c0(static_cast<std::size_t>(m * n), 0.0f), plain(c0), other(c0), packed(c0), two(c0);
    auto want = naive_gemm(Op::kN, Op::kT, m, n, k, a, k, w, k, c0, n, 1.0f, 0.0f);
    gemm(Op::kN, Op::kT, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f, plain.data(), n);
    const bool kept = add_packed_weight(w.data(), n, k);
    if (__builtin_cpu_supports("avx512f")) CHECK(kept);  // oneDNN's brgemm kernels start at AVX-512
    std::fill(w.begin(), w.end(), 0.0f);  // products that read the copy do not see this
    gemm(Op::kN, Op::kT, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f, packed.data(), n);
    with_threads(2, [&] { gemm(Op::kN, Op::kT, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f, two.data(), n); });
    gemm(Op::kN, Op::kT, m, n, k, 0.5f, a.data(), k, w.data(), k, 0.0f, other.data(), n);  // alpha ≠ 1: W itself
    if (kept) {
      CHECK(max_abs_diff(packed, want) <= 1e-5 * k);
      CHECK(std::memcmp(packed.data(), two.data(), packed.size() * sizeof(float)) == 0);
      // Strided A and C (through dense copies): the same sums.
      const int lda = k + 3, ldc = n + 5;
      std::vector<float> a_strided(static_cast<std::size_t>(m * lda), 7.0f), c_strided(static_cast<std::size_t>(m * ldc), 7.0f);
      for (int r = 0; r < m; ++r) std::copy_n(&a[static_cast<std::size_t>(r * k)], k, &a_strided[static_cast<std::size_t>(r * lda)]);
      gemm(Op::kN, Op::kT, m, n, k, 1.0f, a_strided.data(), lda, w.data(), k, 0.0f, c_strided.data(), ldc);
      for (int r = 0; r < m; ++r) {
        CHECK(std::memcmp(&c_strided[static_cast<std::size_t>(r * ldc)], &packed[static_cast<std::size_t>(r * n)], n * sizeof(float)) == 0);
        CHECK(c_strided[static_cast<std::size_t>(r * ldc + n)] == 7.0f);  // nothing written past the row
      }
      CHECK(*std::max_element(other.begin(), other.end()) == 0.0f);
      for (bool relu : {false, true}) {
        CAPTURE(relu);
        std::vector<double> layer(want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
          const double sum = want[i] + bias[i % static_cast<std::size_t>(n)];
          layer[i] = relu ? std::max(sum, 0.0) : sum;
        }
        std::vector<float> y(want.size()), y2(want.size());
        linear_forward(a.data(), m, k, n, w.data(), bias.data(), relu, y.data());
        with_threads(2, [&] { linear_forward(a.data(), m, k, n, w.data(), bias.data(), relu, y2.data()); });
        CHECK(max_abs_diff(y, layer) <= 1e-5 * k);
        CHECK(std::memcmp(y.data(), y2.data(), y.size() * sizeof(float)) == 0);
      }
    }
    clear_packed_weights();
    gemm(Op::kN, Op::kT, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f, packed.data(), n);
    CHECK(*std::max_element(packed.begin(), packed.end()) == 0.0f);  // forgotten: W itself again
    w = w_saved;
    if (add_packed_weight(w.data(), n, k)) {  // read in fp32 with oneDNN only
      std::fill(w.begin(), w.end(), 0.0f);
      set_gemm_precision(Precision::kInt8);
      gemm(Op::kN, Op::kT, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f, packed.data(), n);
      CHECK(*std::max_element(packed.begin(), packed.end()) == 0.0f);
      set_gemm_precision(Precision::kFp32);
      set_gemm_backend(GemmBackend::kOpenBlas);
      gemm(Op::kN, Op::kT, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f, packed.data(), n);
      CHECK(*std::max_element(packed.begin(), packed.end()) == 0.0f);
      set_gemm_backend(GemmBackend::kOneDnn);
      clear_packed_weights();
    }
  }
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
