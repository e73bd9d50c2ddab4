// The tensor module's element-wise kernels (kernels.h, simd.h) and its
// counter-based random numbers (random.h), each against a plain reference on
// random inputs of awkward sizes, and thread-independent.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <limits>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <vector>

#include "tfm/tensor/kernels.h"
#include "tfm/tensor/random.h"
#include "tfm/tensor/simd.h"
#include "tensor_test_util.h"

using namespace tfm;
using tfm::test::max_abs_diff;
using tfm::test::random_vector;
using tfm::test::with_threads;

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

TEST_CASE("vexp of sixteen floats gives each lane the scalar vexp's bits") {
  std::vector<float> x = {-1000.0f, -87.5f, -87.0f, -86.99f, 0.0f, -0.0f, 88.0f, 88.5f, 1000.0f, 1e-30f};
  x.push_back(std::numeric_limits<float>::infinity());
  x.push_back(-std::numeric_limits<float>::infinity());
  std::vector<float> uniform(16 * 40);
  fill_uniform(RngKey{41, 0, 0}, static_cast<std::int64_t>(uniform.size()), -90.0f, 90.0f, uniform.data());
  x.insert(x.end(), uniform.begin(), uniform.end());
  x.resize(x.size() / simd::kWidth * simd::kWidth);
  for (std::size_t i = 0; i < x.size(); i += simd::kWidth) {
    float got[simd::kWidth];
    simd::store(got, simd::vexp(simd::load(x.data() + i)));
    for (int k = 0; k < simd::kWidth; ++k)
      CHECK(std::bit_cast<std::uint32_t>(got[k]) == std::bit_cast<std::uint32_t>(simd::vexp(x[i + k])));
  }
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
  // Word dropout's row scales: rows 1, 5, 9, 13 dropped (0), the others kept and scaled.
  std::vector<float> row_scales(rows);
  for (int r = 0; r < rows; ++r) row_scales[r] = r % 4 == 1 ? 0.0f : 1.25f;
  auto g = random_vector(rows * d, 20);
  for (bool word_dropout : {false, true}) {
    CAPTURE(word_dropout);
    const float* scales = word_dropout ? row_scales.data() : nullptr;
    auto row_scale = [&](int r) { return word_dropout ? row_scales[r] : 1.0f; };
    std::vector<float> out(rows * d);
    embedding_forward(ids.data(), rows, table.data(), d, 2.0f, scales, pos.data(), seq, out.data());
    for (int r = 0; r < rows; ++r)
      for (int j = 0; j < d; ++j)
        CHECK(out[r * d + j] ==
              doctest::Approx(table[ids[r] * d + j] * 2 * row_scale(r) + pos[(r % seq) * d + j]));
    std::vector<float> dt1(vocab * d, 0.0f), dt2(vocab * d, 0.0f);
    embedding_backward(ids.data(), rows, g.data(), d, 2.0f, scales, dt1.data());
    with_threads(2, [&] { embedding_backward(ids.data(), rows, g.data(), d, 2.0f, scales, dt2.data()); });
    CHECK(dt1 == dt2);
    std::vector<double> want(vocab * d, 0.0);
    for (int r = 0; r < rows; ++r)
      for (int j = 0; j < d; ++j) want[ids[r] * d + j] += 2.0 * row_scale(r) * g[r * d + j];
    CHECK(max_abs_diff(dt1, want) < 1e-5);
  }
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

namespace {

// R-Drop's loss of one row pair in double precision: both copies'
// label-smoothed cross entropy plus alpha · ½(KL(p‖q) + KL(q‖p)).
double rdrop_pair_reference(const float* z1, const float* z2, int vocab, int target, double eps, double alpha) {
  auto log_softmax = [&](const float* z) {
    double m = *std::max_element(z, z + vocab), s = 0;
    for (int j = 0; j < vocab; ++j) s += std::exp(z[j] - m);
    std::vector<double> lp(static_cast<std::size_t>(vocab));
    for (int j = 0; j < vocab; ++j) lp[static_cast<std::size_t>(j)] = z[j] - m - std::log(s);
    return lp;
  };
  auto lp = log_softmax(z1), lq = log_softmax(z2);
  double eps_i = eps / (vocab - 1.0), total = 0, kl = 0;
  for (const auto* l : {&lp, &lq})
    for (int j = 0; j < vocab; ++j)
      total -= (j == target ? 1 - eps : eps_i) * (*l)[static_cast<std::size_t>(j)];
  for (std::size_t j = 0; j < lp.size(); ++j) kl += (std::exp(lp[j]) - std::exp(lq[j])) * (lp[j] - lq[j]);
  return total + alpha * 0.5 * kl;
}

}  // namespace

TEST_CASE("R-Drop's loss: a double-precision reference, finite differences, and alpha 0 = two cross entropies") {
  const int rows = 5, vocab = 1037;
  const float eps = 0.1f, alpha = 5.0f, scale = 0.5f;
  auto z1 = random_vector(rows * vocab, 31, -4, 4), z2 = z1;
  auto noise = random_vector(rows * vocab, 32, -1, 1);
  for (std::size_t i = 0; i < z2.size(); ++i) z2[i] += noise[i];  // two dropout masks: near, not equal
  std::vector<std::int32_t> targets = {5, 0, 1036, 17, 400};
  auto run = [&](std::vector<float>& g1, std::vector<float>& g2, float a, float s, std::vector<double>& loss1,
                 std::vector<double>& loss2) {
    std::vector<double> nll1(rows), nll2(rows);
    std::vector<std::int32_t> c1(rows), c2(rows);
    loss1.assign(rows, -1), loss2.assign(rows, -1);
    g1 = z1, g2 = z2;
    rdrop_xent(g1.data(), g2.data(), rows, vocab, targets.data(), 0, eps, a, s, {loss1.data(), nll1.data(), c1.data()},
               {loss2.data(), nll2.data(), c2.data()});
  };
  std::vector<float> g1, g2;
  std::vector<double> loss1, loss2;
  run(g1, g2, alpha, scale, loss1, loss2);
  for (int r = 0; r < rows; ++r) {
    CAPTURE(r);
    if (targets[r] == 0) {
      CHECK(loss1[r] == 0);
      CHECK(loss2[r] == 0);
      CHECK(g1[r * vocab + 7] == 0);
      CHECK(g2[r * vocab + 7] == 0);
      continue;
    }
    const float *a = z1.data() + r * vocab, *b = z2.data() + r * vocab;
    CHECK(loss1[r] + loss2[r] ==
          doctest::Approx(rdrop_pair_reference(a, b, vocab, targets[r], eps, alpha)).epsilon(1e-5));
    // Finite differences of the reference against the kernel's gradient.
    for (int j : {0, 5, 17, 400, 1036}) {
      for (int side : {0, 1}) {
        std::vector<float> p(a, a + vocab), q(b, b + vocab);
        float& x = (side ? q : p)[static_cast<std::size_t>(j)];
        const float keep = x, h = 1e-2f;
        x = keep + h;
        double up = rdrop_pair_reference(p.data(), q.data(), vocab, targets[r], eps, alpha), step = x;
        x = keep - h;
        double down = rdrop_pair_reference(p.data(), q.data(), vocab, targets[r], eps, alpha);
        double want = scale * (up - down) / (step - x);
        CAPTURE(j);
        CAPTURE(side);
        CHECK((side ? g2 : g1)[static_cast<std::size_t>(r * vocab + j)] ==
              doctest::Approx(want).epsilon(1e-3).scale(1e-6));
      }
    }
  }
  // alpha 0: each copy is label_smoothed_xent's, bit for bit.
  run(g1, g2, 0.0f, scale, loss1, loss2);
  for (auto [z, g, loss] : {std::tuple{&z1, &g1, &loss1}, std::tuple{&z2, &g2, &loss2}}) {
    std::vector<double> want_loss(rows), nll(rows);
    std::vector<std::int32_t> correct(rows);
    auto want = *z;
    label_smoothed_xent(want.data(), rows, vocab, targets.data(), 0, eps, scale, want_loss.data(), nll.data(),
                        correct.data());
    CHECK(*g == want);
    CHECK(*loss == want_loss);
  }
  // Identical copies: the KL term and its gradient vanish.
  z2 = z1;
  std::vector<float> h1, h2;
  std::vector<double> l1, l2;
  run(h1, h2, alpha, scale, l1, l2);
  run(g1, g2, 0.0f, scale, loss1, loss2);
  for (int r = 0; r < rows; ++r) CHECK(l1[r] == doctest::Approx(loss1[r]).epsilon(1e-6));
  CHECK(max_abs_diff(h1, std::vector<double>(g1.begin(), g1.end())) < 1e-7);
}
