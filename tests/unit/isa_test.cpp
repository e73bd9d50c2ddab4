// The kernels built per instruction-set level: choosing the level, and every
// level this CPU has against the baseline level (bit for bit) and against
// plain loops (the rest of the unit tests check the level in effect, which
// `make test` runs at the CPU's level and at the baseline).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <tuple>
#include <vector>

#include "test_util.h"
#include "tfm/tensor/isa.h"
#include "tfm/tensor/kernels.h"
#include "tfm/tensor/random.h"

using namespace tfm;

namespace {

std::vector<float> random_floats(std::int64_t n, std::uint32_t stream, float lo = -3, float hi = 3) {
  std::vector<float> v(static_cast<std::size_t>(n));
  fill_uniform({77, 0, stream}, n, lo, hi, v.data());
  return v;
}

// The bytes that compute(out) writes at each level this CPU has, which must
// equal the baseline level's; the level in effect is restored afterwards.
void check_same_bytes_at_every_level(const std::function<std::vector<unsigned char>()>& compute) {
  const IsaLevel saved = isa_level();
  set_isa_level(IsaLevel::kBaseline);
  const std::vector<unsigned char> want = compute();
  for (IsaLevel level : cpu_isa_levels()) {
    CAPTURE(std::string(isa_name(level)));
    set_isa_level(level);
    CHECK(compute() == want);
  }
  set_isa_level(saved);
}

template <class T>
std::vector<unsigned char> bytes_of(const std::vector<T>& v) {
  std::vector<unsigned char> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

template <class T, class... More>
std::vector<unsigned char> bytes_of(const std::vector<T>& v, const More&... more) {
  auto b = bytes_of(v);
  (
      [&] {
        auto m = bytes_of(more);
        b.insert(b.end(), m.begin(), m.end());
      }(),
      ...);
  return b;
}

// Awkward lengths: below one vector, one and a tail, several and a tail.
constexpr std::int64_t kSizes[] = {1, 7, 16, 33, 100, 1037};

}  // namespace

TEST_CASE("instruction-set levels: names, the CPU's levels, TFM_ISA limits") {
  CHECK(parse_isa_level("avx2") == IsaLevel::kAvx2);
  CHECK(std::string(isa_name(IsaLevel::kAvx512Bf16)) == "avx512bf16");
  CHECK_THROWS_AS(parse_isa_level("sse2"), UsageError);
  CHECK(cpu_isa_levels().front() == IsaLevel::kBaseline);
  CHECK(cpu_isa_levels().back() == cpu_isa_level());
  CHECK(isa_level() <= cpu_isa_level());
  const IsaLevel saved = isa_level();
  if (cpu_isa_level() != IsaLevel::kAvx512Bf16)
    CHECK(test::error_of([] { set_isa_level(IsaLevel::kAvx512Bf16); }).find("this CPU runs") == 0);
  set_isa_level(IsaLevel::kBaseline);
  CHECK(isa_level() == IsaLevel::kBaseline);
  CHECK(compute_description().starts_with("kernels baseline"));
  set_isa_level(saved);
}

TEST_CASE("element-wise kernels give the baseline's bits at every level") {
  for (std::int64_t d : kSizes) {
    CAPTURE(d);
    const std::int64_t rows = 5;
    auto x = random_floats(rows * d, 1), gamma = random_floats(d, 2), beta = random_floats(d, 3);
    auto dy = random_floats(rows * d, 4);
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(rows * d));
    dropout_mask({5, 1, 2}, rows * d, 0.3f, mask.data());
    std::vector<std::int32_t> ids = {3, 0, 3, 1, 2}, key_len = {static_cast<std::int32_t>(d)};
    check_same_bytes_at_every_level([&] {
      std::vector<float> y(x.size()), stats(2 * rows), dx(x.size()), dg(gamma.size()), db(gamma.size());
      layer_norm_forward(x.data(), gamma.data(), beta.data(), y.data(), stats.data(), stats.data() + rows, rows, d,
                         1e-5f);
      layer_norm_backward(x.data(), gamma.data(), stats.data(), stats.data() + rows, dy.data(), dx.data(), dg.data(),
                          db.data(), rows, d);
      auto s = x;
      attention_softmax(s.data(), 1, 1, rows, d, key_len.data(), true);
      auto g = dy;
      softmax_backward(s.data(), g.data(), rows, d);
      auto r = x;
      residual_dropout(x.data(), dy.data(), mask.data(), 0.3f, r.data(), rows * d);
      dropout_apply(r.data(), mask.data(), rows * d, 0.3f);
      add_bias(r.data(), gamma.data(), rows, d, true);
      relu_backward(r.data(), g.data(), rows * d);
      bias_backward(g.data(), rows, d, db.data());
      add_into(r.data(), x.data(), rows * d);
      scale_values(r.data(), rows * d, 0.5f);
      std::vector<float> e(static_cast<std::size_t>(rows * d)), table(static_cast<std::size_t>(4 * d));
      std::vector<float> row_scales(static_cast<std::size_t>(rows));
      for (std::int64_t r = 0; r < rows; ++r) row_scales[static_cast<std::size_t>(r)] = r % 3 ? 1.25f : 0.0f;
      embedding_forward(ids.data(), rows, x.data(), d, 1.5f, row_scales.data(), dy.data(), 2, e.data());
      embedding_backward(ids.data(), rows, dy.data(), d, 0.5f, row_scales.data(), table.data());
      std::vector<double> ssq(1, sum_squares(x.data(), rows * d, std::vector<double>(8).data()));
      std::vector<double> loss(rows), nll(rows);
      std::vector<std::int32_t> correct(rows), targets = {0, 1, static_cast<std::int32_t>(d - 1), 0, 2};
      auto z = x;
      std::vector<double> pair_loss(2 * rows), pair_nll(2 * rows);
      std::vector<std::int32_t> pair_correct(2 * rows);
      auto p = x, q = dy;
      if (d > 2) {
        label_smoothed_xent(z.data(), rows, d, targets.data(), 0, 0.1f, 0.25f, loss.data(), nll.data(),
                            correct.data());
        rdrop_xent(p.data(), q.data(), rows, d, targets.data(), 0, 0.1f, 5.0f, 0.25f,
                   {pair_loss.data(), pair_nll.data(), pair_correct.data()},
                   {pair_loss.data() + rows, pair_nll.data() + rows, pair_correct.data() + rows});
      }
      return bytes_of(y, stats, dx, dg, db, s, g, r, e, table, ssq, loss, nll, correct, z, pair_loss, pair_nll,
                      pair_correct, p, q);
    });
  }
}

TEST_CASE("bf16, int8, dropout and Adam kernels: plain loops' results at every level") {
  const IsaLevel saved = isa_level();
  for (std::int64_t n : kSizes) {
    CAPTURE(n);
    auto x = random_floats(n, 7);
    x[0] = 1.00390625f;  // exactly between two bf16 values: rounds to even
    std::vector<std::uint16_t> want16(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      std::uint32_t u;
      std::memcpy(&u, &x[static_cast<std::size_t>(i)], 4);
      want16[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>((u + 0x7fff + (u >> 16 & 1)) >> 16);
    }
    std::vector<std::uint8_t> want_mask(static_cast<std::size_t>(n));
    for (std::int64_t e = 0; e < n; ++e) want_mask[static_cast<std::size_t>(e)] = random_bits({9, 3, 4}, static_cast<std::uint64_t>(e)) >= 0x66666666u;
    auto sums = std::vector<std::int32_t>(static_cast<std::size_t>(n));
    for (std::int64_t j = 0; j < n; ++j) sums[static_cast<std::size_t>(j)] = static_cast<std::int32_t>(j * 37 % 201) - 100;
    auto col = random_floats(n, 8, 0, 1), bias = random_floats(n, 9);
    std::vector<float> want_deq(static_cast<std::size_t>(n));
    for (std::size_t j = 0; j < want_deq.size(); ++j)
      want_deq[j] = std::max(static_cast<float>(sums[j]) * (0.5f * col[j]) + bias[j], 0.0f);
    auto grads = random_floats(n, 10);
    const AdamStep step{0.9f, 0.98f, 1e-9f, 0.01f, 1.2f};
    auto want_p = x, want_m = random_floats(n, 11), want_v = random_floats(n, 12, 0, 1);
    const auto m0 = want_m, v0 = want_v;
    for (std::size_t i = 0; i < x.size(); ++i) {
      want_m[i] = 0.9f * want_m[i] + (1 - 0.9f) * grads[i];
      want_v[i] = 0.98f * want_v[i] + (1 - 0.98f) * grads[i] * grads[i];
      want_p[i] -= 0.01f * want_m[i] / (std::sqrt(want_v[i]) * 1.2f + 1e-9f);
    }
    for (IsaLevel level : cpu_isa_levels()) {
      CAPTURE(std::string(isa_name(level)));
      set_isa_level(level);
      std::vector<std::uint16_t> h(static_cast<std::size_t>(n));
      round_to_bf16(x.data(), n, h.data());
      CHECK(h == want16);
      std::vector<std::uint8_t> mask(static_cast<std::size_t>(n));
      dropout_mask({9, 3, 4}, n, 0.4f, mask.data());
      CHECK(mask == want_mask);
      std::vector<float> deq(static_cast<std::size_t>(n));
      dequantize_row(sums.data(), 0.5f, col.data(), bias.data(), true, n, deq.data());
      CHECK(deq == want_deq);
      std::vector<std::int8_t> q(static_cast<std::size_t>(n));
      const float scale = quantize_int8(x.data(), n, q.data(), 127);
      for (std::size_t i = 0; i < q.size(); ++i) CHECK(std::abs(q[i] * scale - x[i]) <= scale / 2 * 1.0001f);
      auto p = x, m = m0, v = v0;
      adam_update(p.data(), grads.data(), m.data(), v.data(), n, step);
      CHECK(p == want_p);
      CHECK(m == want_m);
      CHECK(v == want_v);
    }
    set_isa_level(saved);
  }
}

TEST_CASE("decoding kernels: attention over cache rows, log-softmax, argmax, the top-k scan at every level") {
  const IsaLevel saved = isa_level();
  for (auto [n, d, heads] : {std::tuple{1, 16, 1}, std::tuple{7, 40, 2}, std::tuple{13, 192, 3}}) {
    CAPTURE(n);
    CAPTURE(d);
    auto q = random_floats(d, 20), rows = random_floats(n * 2 * d, 21);
    std::vector<std::uint16_t> rows16(rows.size());
    round_to_bf16(rows.data(), static_cast<std::int64_t>(rows.size()), rows16.data());
    std::vector<const float*> kv;
    std::vector<const std::uint16_t*> kv16;
    for (int j = n - 1; j >= 0; --j) kv.push_back(rows.data() + j * 2 * d), kv16.push_back(rows16.data() + j * 2 * d);
    const std::int64_t dh = d / heads;
    std::vector<double> want(static_cast<std::size_t>(d), 0.0);
    for (std::int64_t h = 0; h < heads; ++h) {
      std::vector<double> w(static_cast<std::size_t>(n));
      double top = -1e30, z = 0;
      for (int j = 0; j < n; ++j) {
        double s = 0;
        for (std::int64_t i = 0; i < dh; ++i) s += double(q[h * dh + i]) * kv[j][h * dh + i];
        w[j] = s / std::sqrt(double(dh));
        top = std::max(top, w[j]);
      }
      for (double& s : w) z += s = std::exp(s - top);
      for (int j = 0; j < n; ++j)
        for (std::int64_t i = 0; i < dh; ++i) want[h * dh + i] += w[j] / z * kv[j][d + h * dh + i];
    }
    auto logits = random_floats(3 * 1037, 22, -8, 8);
    check_same_bytes_at_every_level([&] {
      std::vector<float> scores(static_cast<std::size_t>(heads * n)), context(static_cast<std::size_t>(d));
      std::vector<float> scores16 = scores, context16 = context;
      attend_cached(q.data(), n, kv.data(), d, heads, scores.data(), context.data());
      attend_cached(q.data(), n, kv16.data(), d, heads, scores16.data(), context16.data());
      for (std::size_t i = 0; i < want.size(); ++i) {
        CHECK(std::abs(context[i] - want[i]) < 2e-5);
        CHECK(std::abs(context16[i] - want[i]) < 3e-2);
      }
      auto lp = logits;
      log_softmax_rows(lp.data(), 3, 1037);
      double z = 0;
      for (int j = 0; j < 1037; ++j) z += std::exp(double(lp[j]));
      CHECK(z == doctest::Approx(1).epsilon(1e-5));
      return bytes_of(scores, context, scores16, context16, lp);
    });
  }
  for (IsaLevel level : cpu_isa_levels()) {
    CAPTURE(std::string(isa_name(level)));
    set_isa_level(level);
    for (std::int64_t n : kSizes) {
      auto x = random_floats(n, 23);
      x[static_cast<std::size_t>(n / 2)] = x[static_cast<std::size_t>(n - 1)] = 5;  // the first of two wins
      CHECK(argmax(x.data(), n) == n / 2);
      x[static_cast<std::size_t>(n - 1)] = 9;
      std::int64_t want = 0;
      while (want + kScanBlock <= n && *std::max_element(x.begin() + want, x.begin() + want + kScanBlock) + 1 <= 4)
        want += kScanBlock;
      CHECK(next_block_above(x.data(), 0, n, 1, 4) == want);
    }
  }
  set_isa_level(saved);
}

TEST_CASE("fold_log_sum_exp: a row folded piece by piece is its log-sum-exp, the same bits at every level") {
  // Rows of awkward lengths cut into pieces of awkward widths, in order; a
  // row whose largest value comes late makes the running maximum move.
  for (std::int64_t n : kSizes)
    for (std::int64_t piece : {std::int64_t{1}, std::int64_t{7}, std::int64_t{64}, std::int64_t{1037}}) {
      CAPTURE(n);
      CAPTURE(piece);
      auto x = random_floats(n, 30, -20, 20);
      x[static_cast<std::size_t>(n - 1)] = 25;
      double top = *std::max_element(x.begin(), x.end()), z = 0;
      for (float v : x) z += std::exp(double(v) - top);
      const double want = top + std::log(z);
      check_same_bytes_at_every_level([&] {
        float maximum = -std::numeric_limits<float>::infinity(), sum = 0;
        std::vector<float> piece_max;
        for (std::int64_t at = 0; at < n; at += piece) {
          const std::int64_t len = std::min(piece, n - at);
          piece_max.push_back(fold_log_sum_exp(x.data() + at, len, maximum, sum));
          CHECK(piece_max.back() == *std::max_element(x.begin() + at, x.begin() + at + len));
        }
        CHECK(maximum == 25);
        CHECK(maximum + std::log(sum) == doctest::Approx(want).epsilon(1e-6));
        std::vector<float> out{maximum, sum};
        return bytes_of(out, piece_max);
      });
    }
  // A piece of −inf only (a masked part) leaves the running values alone.
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> masked(20, -inf);
  float maximum = 2, sum = 1.5f;
  CHECK(fold_log_sum_exp(masked.data(), 20, maximum, sum) == -inf);
  CHECK(maximum == 2);
  CHECK(sum == 1.5f);
}
