// What BLEU, chrF and TER share (sacrebleu 2.x's Metric/Score/Signature): a
// metric caches its references once, turns each hypothesis segment into a
// fixed-size vector of sufficient statistics, and computes a score from the
// element-wise sum of such vectors, so corpus scores, bootstrap resamples and
// randomization trials all come from the same per-segment statistics.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tfm {

// One segment per element; every element is valid UTF-8 with no newline.
using Lines = std::vector<std::string>;
// ref_sets[r][i]: reference r of segment i (every set as long as the hypotheses).
using RefSets = std::vector<Lines>;

// The `version` field of our signatures. sacrebleu writes its own version
// there; we write tfm's, so a signature never claims a program that did not run.
extern const char* const kSignatureVersion;

// A score as sacrebleu reports it.
struct Score {
  std::string name;     // "BLEU", "chrF2", "chrF2++", "TER"
  double score = 0.0;   // full precision
  std::string verbose;  // BLEU's "p1/p2/p3/p4 (BP = ...)"; empty for others
  double mean = -1.0;   // bootstrap mean and half-width of the 95% interval,
  double ci = -1.0;     // or -1 when no confidence estimate was made
};

// A reproducibility signature: ordered key:value fields, e.g.
// nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:0.1.0.
class Signature {
 public:
  // Adds (or replaces, keeping its place) a field; `abbreviation` is its --short
  // name. nrefs, bs, ar and seed go first in that order, as in sacrebleu.
  void set(const std::string& key, const std::string& abbreviation, const std::string& value);
  // "key:value|..." with `version` last, as sacrebleu orders it.
  std::string format(bool short_names = false) const;
  // The fields in output order (version last), for JSON.
  std::vector<std::pair<std::string, std::string>> fields() const;

 private:
  struct Field {
    std::string key, abbreviation, value;
  };
  std::vector<Field> fields_;
};

// The common interface; see bleu.h, chrf.h, ter.h.
class Metric {
 public:
  virtual ~Metric() = default;
  // Upper-case name used to order metrics in output, as sacrebleu sorts them.
  virtual std::string id() const = 0;
  // Number of statistics per segment.
  virtual std::size_t stats_size() const = 0;
  // Row-major [hyps.size(), stats_size()] statistics of each hypothesis against
  // the cached references. Throws Error if hyps.size() differs from them.
  virtual std::vector<double> segment_stats(const Lines& hyps) const = 0;
  // The score of summed statistics (`sums` has stats_size() elements).
  virtual Score score_from_stats(const double* sums) const = 0;
  virtual Signature signature() const = 0;
  // The score of sums held as float32, computed with the types NumPy gives
  // sacrebleu's arithmetic on such sums (bootstrap resamples). By default the
  // same as score_from_stats; metrics that divide two sums override it.
  virtual double score_from_float32_sums(const float* sums) const;

  // Column sums of row-major statistics, added row by row in order (the
  // order matters for TER's fractional reference lengths).
  std::vector<double> sum_stats(const std::vector<double>& stats) const;
  // Corpus score of `hyps`.
  Score corpus_score(const Lines& hyps) const;
  // One score per segment (sentence-level mode).
  std::vector<Score> sentence_scores(const Lines& hyps) const;
};

// Runs body(begin, end) over disjoint ranges covering [0, n), on up to 8 of
// the machine's hardware threads, one per 1,000 items at least (one thread
// for small n). Bodies write only their own
// range, so results do not depend on the number of threads. Rethrows the
// first exception a body threw.
void for_each_chunk(std::size_t n, const std::function<void(std::size_t, std::size_t)>& body);

// Python's f"{value:.{digits}f}" (correctly rounded, half to even on the
// exact binary value, as printf does).
std::string format_fixed(double value, int digits);

// Throws Error unless every reference set has `n` segments.
void check_reference_sets(const RefSets& refs, std::size_t n);

}  // namespace tfm
