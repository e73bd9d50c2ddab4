// Paired significance tests between systems, and bootstrap confidence
// intervals, reproducing sacrebleu 2.x (significance.py) number for number:
// paired bootstrap resampling (Koehn, 2004; 1000 resamples) and approximate
// randomization (Riezler & Maxwell, 2005; 10000 trials), with NumPy's
// default_rng(seed) drawing the same resamples and coin flips, statistics
// resampled in float32 as NumPy does, and NumPy's pairwise-summed means.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tfm/eval/metric.h"

namespace tfm {

// numpy.random.default_rng(seed): PCG64 seeded through SeedSequence. Only the
// draws sacrebleu makes are provided.
class NumpyRandom {
 public:
  explicit NumpyRandom(std::uint64_t seed);
  std::uint64_t next64();
  std::uint32_t next32();  // low half of a 64-bit draw, then its high half
  // Generator.integers(0, n) for 1 <= n <= 2^32 (Lemire's method on 32 bits).
  std::uint32_t below(std::uint64_t n);
  // One element of Generator.integers(2, size=..., dtype=bool), whose bits
  // come from a 32-bit buffer that lives through one call (`fill_bools`).
  std::vector<bool> fill_bools(std::size_t count);
  // Generator.choice(n, size=count) with replacement.
  std::vector<std::uint32_t> choice(std::uint32_t n, std::size_t count);

 private:
  unsigned __int128 state_ = 0, inc_ = 0;
  bool has_half_ = false;
  std::uint32_t half_ = 0;
};

// NumPy's pairwise summation of a contiguous float64 array (np.sum/np.mean).
double numpy_pairwise_sum(const double* values, std::size_t n);

// Python's statistics.mean: the exact mean of the values, rounded once.
double python_mean(const std::vector<double>& values);

// Bootstrap confidence interval of one system's score, as sacrebleu's
// --confidence: resamples drawn by default_rng(seed), the mean of their
// scores (statistics.mean) and half the width of the 95% interval.
std::pair<double, double> bootstrap_confidence(const Metric& metric, const std::vector<double>& stats,
                                               std::size_t samples, std::optional<std::uint64_t> seed);

// sacrebleu's estimate_ci: mean of the sorted scores (NumPy) and half the
// width of the 95% interval (2.5% cut on each side).
std::pair<double, double> estimate_ci(std::vector<double> scores);

// Scores of `samples` bootstrap resamples of per-segment statistics (float32
// sums, as sacrebleu's NumPy arrays). `indices` is samples * n_segments.
std::vector<double> bootstrap_scores(const Metric& metric, const std::vector<double>& stats,
                                     const std::vector<std::uint32_t>& indices, std::size_t samples);

enum class PairedTestKind { kBootstrap, kRandomization };

struct PairedTestConfig {
  PairedTestKind kind = PairedTestKind::kBootstrap;
  std::size_t samples = 1000;  // resamples (bootstrap) or trials (randomization)
  std::optional<std::uint64_t> seed = 12345;  // unset: from the OS
};

// One system's result for one metric; p_value, mean and ci are unset where
// sacrebleu prints null (the baseline has no p-value; randomization no CI).
struct PairedResult {
  double score = 0.0;
  std::optional<double> p_value, mean, ci;
};

// Compares systems[1..] with the baseline systems[0] on every metric:
// result[system][metric]. Throws Error on segment-count mismatches.
std::vector<std::vector<PairedResult>> paired_test(const std::vector<Lines>& systems,
                                                   const std::vector<const Metric*>& metrics,
                                                   const PairedTestConfig& config);

}  // namespace tfm
