// chrF (Popović, 2015) and chrF++ (Popović, 2017) exactly as sacrebleu 2.x
// computes them: character n-grams of 1..char_order (whitespace removed unless
// asked), word n-grams of 1..word_order (punctuation split off word edges), the
// best-F reference per segment, and an F-beta of precision and recall averaged
// over the orders that occur ("effective order"), or epsilon smoothing.
#pragma once

#include <string_view>

#include "tfm/eval/metric.h"

namespace tfm {

struct ChrfConfig {
  int char_order = 6;
  int word_order = 0;  // 2 = chrF++
  int beta = 2;
  bool lowercase = false;
  bool whitespace = false;     // keep whitespace inside character n-grams
  bool eps_smoothing = false;  // chrF++.py/NLTK/Moses smoothing instead of effective order
};

// chrF as a Metric. Statistics per segment: [hyp, ref, match] counts for each
// character order, then each word order.
class Chrf : public Metric {
 public:
  // Throws Error if the reference sets differ in length or there are none.
  Chrf(const ChrfConfig& config, const RefSets& refs);

  std::string id() const override { return "CHRF"; }
  std::size_t stats_size() const override;
  std::vector<double> segment_stats(const Lines& hyps) const override;
  Score score_from_stats(const double* sums) const override;
  Signature signature() const override;
  double score_from_float32_sums(const float* sums) const override;
  // The F score of one statistics vector (sacrebleu's _compute_f_score).
  double f_score(const double* stats) const;

 private:
  struct Scratch;
  struct Units;
  void units_of(std::string_view line, bool intern, Scratch& s, Units& units) const;
  void count_hypothesis(Scratch& s) const;
  void match_reference(Scratch& s, double* out) const;
  template <typename Count>
  double f_score_of(const Count* stats) const;

  ChrfConfig config_;
  RefSets refs_;  // lowercased when config_.lowercase
};

}  // namespace tfm
