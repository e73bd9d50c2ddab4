// TER (Snover et al., 2006) exactly as sacrebleu 2.x computes it: tercom
// normalization, then greedy block shifts (at most 10 words, 50 positions,
// 1000 candidates per segment) ranked as Tercom ranks them, and a beam-limited
// (25 around the length-scaled diagonal) Levenshtein distance.
#pragma once

#include <cstdint>

#include "tfm/eval/metric.h"
#include "tfm/eval/sacrebleu_tokenizers.h"

namespace tfm {

using TerConfig = TercomOptions;

// Minimum number of edits (shifts + insertions, deletions, substitutions) that
// turn `hyp` into `ref`, as sacrebleu's translation_edit_rate (words are
// compared as ids). An empty reference costs one edit per hypothesis word.
std::int64_t ter_edits(const std::vector<std::uint32_t>& hyp, const std::vector<std::uint32_t>& ref);

// TER as a Metric. Statistics per segment: the fewest edits over the
// references and the average reference length.
class Ter : public Metric {
 public:
  // Throws Error if the reference sets differ in length or there are none.
  Ter(const TerConfig& config, const RefSets& refs);

  std::string id() const override { return "TER"; }
  std::size_t stats_size() const override { return 2; }
  std::vector<double> segment_stats(const Lines& hyps) const override;
  Score score_from_stats(const double* sums) const override;
  double score_from_float32_sums(const float* sums) const override;
  Signature signature() const override;

 private:
  TerConfig config_;
  RefSets refs_;  // normalized
};

}  // namespace tfm
