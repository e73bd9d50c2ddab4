#include "tfm/eval/significance.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {
namespace {

using u128 = unsigned __int128;

constexpr u128 kPcgMultiplier = (u128(0x2360ED051FC65DA4ULL) << 64) | 0x4385DF649FCCF645ULL;

// numpy.random.SeedSequence(seed).generate_state(4, uint64).
std::vector<std::uint64_t> seed_sequence_state(std::uint64_t seed) {
  constexpr std::uint32_t kInitA = 0x43b0d7e5, kMultA = 0x931e8875, kInitB = 0x8b51f9dd,
                          kMultB = 0x58f38ded, kMixL = 0xca01f9dd, kMixR = 0x4973f715;
  std::vector<std::uint32_t> entropy = {std::uint32_t(seed)};
  if (seed >> 32) entropy.push_back(std::uint32_t(seed >> 32));
  std::uint32_t hash_a = kInitA;
  const auto hashmix = [&](std::uint32_t value) {
    value ^= hash_a;
    hash_a *= kMultA;
    value *= hash_a;
    return value ^ (value >> 16);
  };
  const auto mix = [](std::uint32_t x, std::uint32_t y) {
    std::uint32_t r = kMixL * x - kMixR * y;
    return r ^ (r >> 16);
  };
  std::uint32_t pool[4];
  for (std::size_t i = 0; i < 4; ++i) pool[i] = hashmix(i < entropy.size() ? entropy[i] : 0);
  for (std::size_t src = 0; src < 4; ++src)
    for (std::size_t dst = 0; dst < 4; ++dst)
      if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
  for (std::size_t src = 4; src < entropy.size(); ++src)
    for (std::size_t dst = 0; dst < 4; ++dst) pool[dst] = mix(pool[dst], hashmix(entropy[src]));
  std::uint32_t hash_b = kInitB;
  std::vector<std::uint64_t> words(4);
  for (std::size_t i = 0; i < 8; ++i) {
    std::uint32_t value = pool[i % 4] ^ hash_b;
    hash_b *= kMultB;
    value *= hash_b;
    value ^= value >> 16;
    words[i / 2] |= std::uint64_t(value) << (32 * (i % 2));
  }
  return words;
}

}  // namespace

NumpyRandom::NumpyRandom(std::uint64_t seed) {
  const auto words = seed_sequence_state(seed);
  const u128 initstate = (u128(words[0]) << 64) | words[1];
  const u128 initseq = (u128(words[2]) << 64) | words[3];
  inc_ = (initseq << 1) | 1;
  state_ = 0;
  next64();
  state_ += initstate;
  next64();
}

std::uint64_t NumpyRandom::next64() {
  state_ = state_ * kPcgMultiplier + inc_;
  const auto hi = std::uint64_t(state_ >> 64), lo = std::uint64_t(state_);
  const std::uint64_t x = hi ^ lo;
  const unsigned rot = unsigned(hi >> 58);
  return (x >> rot) | (x << ((64 - rot) & 63));
}

std::uint32_t NumpyRandom::next32() {
  if (has_half_) {
    has_half_ = false;
    return half_;
  }
  const std::uint64_t next = next64();
  has_half_ = true;
  half_ = std::uint32_t(next >> 32);
  return std::uint32_t(next);
}

std::uint32_t NumpyRandom::below(std::uint64_t n) {
  if (n <= 1) return 0;
  if (n == (std::uint64_t(1) << 32)) return next32();
  const auto range = std::uint32_t(n);  // rng_excl in NumPy
  std::uint64_t m = std::uint64_t(next32()) * range;
  auto leftover = std::uint32_t(m);
  if (leftover < range) {
    const std::uint32_t threshold = std::uint32_t(-range) % range;
    while (leftover < threshold) {
      m = std::uint64_t(next32()) * range;
      leftover = std::uint32_t(m);
    }
  }
  return std::uint32_t(m >> 32);
}

std::vector<bool> NumpyRandom::fill_bools(std::size_t count) {
  std::vector<bool> out(count);
  std::uint32_t buffer = 0;
  int left = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (left == 0) {
      buffer = next32();
      left = 31;
    } else {
      buffer >>= 1;
      --left;
    }
    out[i] = buffer & 1;
  }
  return out;
}

std::vector<std::uint32_t> NumpyRandom::choice(std::uint32_t n, std::size_t count) {
  std::vector<std::uint32_t> out(count);
  for (auto& x : out) x = below(n);
  return out;
}

double numpy_pairwise_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double res = 0.0;  // NumPy starts from -0.0 and adds in order; same value
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int k = 0; k < 8; ++k) r[k] = a[k];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int k = 0; k < 8; ++k) r[k] += a[i + k];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  return numpy_pairwise_sum(a, half) + numpy_pairwise_sum(a + half, n - half);
}

std::pair<double, double> estimate_ci(std::vector<double> scores) {
  std::sort(scores.begin(), scores.end());
  const std::size_t n = scores.size(), lower = n / 40, upper = n - lower - 1;
  return {numpy_pairwise_sum(scores.data(), n) / double(n), 0.5 * (scores[upper] - scores[lower])};
}

namespace {

std::uint64_t seed_of(const PairedTestConfig& config) {
  if (config.seed) return *config.seed;
  std::random_device device;
  return (std::uint64_t(device()) << 32) | device();
}

int bit_length(u128 x) {
  int bits = 0;
  while (x) ++bits, x >>= 1;
  return bits;
}

}  // namespace

double python_mean(const std::vector<double>& values) {
  if (values.empty()) throw Error("mean of no values");
  // Every value is M * 2^E with an integer M of 53 bits; the sum is exact on
  // 128 bits when the exponents are close (always, for scores of a corpus).
  int min_exp = 0, max_exp = 0;
  bool any = false;
  for (const double v : values) {
    if (v == 0.0) continue;
    int e;
    std::frexp(v, &e);
    min_exp = any ? std::min(min_exp, e) : e;
    max_exp = any ? std::max(max_exp, e) : e;
    any = true;
  }
  if (!any) return 0.0;
  if (max_exp - min_exp > 50 || values.size() > (1u << 20) || std::any_of(values.begin(), values.end(), [](double v) { return v < 0; })) {
    long double sum = 0;  // far-apart magnitudes: not met by scores; close enough
    for (const double v : values) sum += v;
    return double(sum / values.size());
  }
  const int scale = min_exp - 53;
  u128 sum = 0;
  for (const double v : values) sum += u128(std::ldexp(v, -scale));  // exact: an integer below 2^104
  const int shift = 126 - bit_length(sum);
  const u128 shifted = sum << shift, n = values.size();
  const u128 q = shifted / n;
  const bool sticky = shifted % n != 0;
  const int drop = bit_length(q) - 53;
  std::uint64_t top = std::uint64_t(q >> drop);
  const u128 rest = q & ((u128(1) << drop) - 1), half = u128(1) << (drop - 1);
  if (rest > half || (rest == half && (sticky || (top & 1)))) ++top;
  return std::ldexp(double(top), scale - shift + drop);
}

std::pair<double, double> bootstrap_confidence(const Metric& metric, const std::vector<double>& stats,
                                               std::size_t samples, std::optional<std::uint64_t> seed) {
  const std::size_t n = stats.size() / metric.stats_size();
  PairedTestConfig config;
  config.seed = seed;
  const auto indices = NumpyRandom(seed_of(config)).choice(std::uint32_t(n), samples * n);
  std::vector<double> scores = bootstrap_scores(metric, stats, indices, samples);
  std::sort(scores.begin(), scores.end());
  const std::size_t lower = samples / 40, upper = samples - lower - 1;
  return {python_mean(scores), 0.5 * (scores[upper] - scores[lower])};
}

std::vector<double> bootstrap_scores(const Metric& metric, const std::vector<double>& stats,
                                     const std::vector<std::uint32_t>& indices, std::size_t samples) {
  const std::size_t width = metric.stats_size(), n = stats.size() / width;
  const std::vector<float> narrow(stats.begin(), stats.end());
  std::vector<double> scores(samples);
  for_each_chunk(samples, [&](std::size_t begin, std::size_t end) {
    std::vector<float> sums(width);
    for (std::size_t s = begin; s < end; ++s) {
      std::fill(sums.begin(), sums.end(), 0.0f);
      for (std::size_t i = 0; i < n; ++i) {
        const float* row = &narrow[indices[s * n + i] * width];
        for (std::size_t k = 0; k < width; ++k) sums[k] += row[k];
      }
      scores[s] = metric.score_from_float32_sums(sums.data());
    }
  });
  return scores;
}

namespace {

// (c + 1) / (n + 1) with c the samples above the real difference (multeval).
double p_value(const std::vector<double>& samples, double real_difference) {
  const auto above = std::count_if(samples.begin(), samples.end(), [&](double x) { return x > real_difference; });
  return double(above + 1) / double(samples.size() + 1);
}


PairedResult bootstrap_system(const Metric& metric, const std::vector<double>& base_stats, double base_score,
                              const std::vector<double>& stats, const std::vector<std::uint32_t>& indices,
                              std::size_t samples) {
  const double score = metric.score_from_stats(metric.sum_stats(stats).data()).score;
  const std::vector<double> base = bootstrap_scores(metric, base_stats, indices, samples);
  const std::vector<double> system = bootstrap_scores(metric, stats, indices, samples);
  const auto [mean, ci] = estimate_ci(system);
  std::vector<double> diffs(samples);
  for (std::size_t s = 0; s < samples; ++s) diffs[s] = std::abs(system[s] - base[s]);
  const double diff_mean = numpy_pairwise_sum(diffs.data(), samples) / double(samples);
  for (double& d : diffs) d -= diff_mean;
  return {score, p_value(diffs, std::abs(base_score - score)), mean, ci};
}

PairedResult randomization_system(const Metric& metric, const std::vector<double>& base_stats, double base_score,
                                  const std::vector<double>& stats, const std::vector<bool>& flips,
                                  std::size_t samples) {
  const double score = metric.score_from_stats(metric.sum_stats(stats).data()).score;
  const std::size_t width = metric.stats_size(), n = stats.size() / width;
  std::vector<double> deltas(samples);
  for_each_chunk(samples, [&](std::size_t begin, std::size_t end) {
    std::vector<double> a(width), b(width);
    for (std::size_t s = begin; s < end; ++s) {
      std::fill(a.begin(), a.end(), 0.0);
      std::fill(b.begin(), b.end(), 0.0);
      for (std::size_t i = 0; i < n; ++i) {
        const bool keep = flips[s * n + i];
        const double* from_base = &base_stats[i * width];
        const double* from_system = &stats[i * width];
        for (std::size_t k = 0; k < width; ++k) {
          a[k] += keep ? from_base[k] : from_system[k];
          b[k] += keep ? from_system[k] : from_base[k];
        }
      }
      deltas[s] = std::abs(metric.score_from_stats(a.data()).score - metric.score_from_stats(b.data()).score);
    }
  });
  return {score, p_value(deltas, std::abs(base_score - score)), std::nullopt, std::nullopt};
}

}  // namespace

std::vector<std::vector<PairedResult>> paired_test(const std::vector<Lines>& systems,
                                                   const std::vector<const Metric*>& metrics,
                                                   const PairedTestConfig& config) {
  if (systems.size() < 2) throw Error("a paired test needs a baseline and at least one system");
  const std::size_t n = systems[0].size(), samples = config.samples;
  const std::uint64_t seed = seed_of(config);
  const bool bootstrap = config.kind == PairedTestKind::kBootstrap;
  std::vector<std::vector<double>> base_stats;
  std::vector<std::vector<PairedResult>> results(systems.size());
  std::vector<std::uint32_t> indices;
  if (bootstrap) indices = NumpyRandom(seed).choice(std::uint32_t(n), samples * n);
  for (const Metric* metric : metrics) {
    base_stats.push_back(metric->segment_stats(systems[0]));
    PairedResult base{metric->score_from_stats(metric->sum_stats(base_stats.back()).data()).score, {}, {}, {}};
    if (bootstrap) std::tie(base.mean, base.ci) = estimate_ci(bootstrap_scores(*metric, base_stats.back(), indices, samples));
    results[0].push_back(base);
  }
  for (std::size_t sys = 1; sys < systems.size(); ++sys) {
    if (systems[sys].size() != n)
      throw Error(fmt::format("system {} has {} segments, the baseline {}", sys + 1, systems[sys].size(), n));
    const std::vector<bool> flips = bootstrap ? std::vector<bool>() : NumpyRandom(seed).fill_bools(samples * n);
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      const std::vector<double> stats = metrics[m]->segment_stats(systems[sys]);
      const double base_score = results[0][m].score;
      results[sys].push_back(bootstrap ? bootstrap_system(*metrics[m], base_stats[m], base_score, stats, indices, samples)
                                       : randomization_system(*metrics[m], base_stats[m], base_score, stats, flips, samples));
    }
  }
  return results;
}

}  // namespace tfm
