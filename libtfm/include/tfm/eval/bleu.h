// BLEU (Papineni et al., 2002) exactly as sacrebleu 2.x computes it: sacrebleu's
// tokenizers, n-gram counts clipped by the maximum count over references, the
// closest reference length (shorter wins ties), the brevity penalty and the
// smoothing methods of Chen & Cherry (2014): exp (NIST), floor, add-k, none.
//
//   BleuConfig config;                       // 13a, exp smoothing, order 4
//   Score s = corpus_bleu(hyps, {refs}, config);
//   // s.score == 27.3..., s.verbose == "60.0/33.1/... (BP = 1.000 ...)"
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "tfm/eval/metric.h"
#include "tfm/eval/sacrebleu_tokenizers.h"

namespace tfm {

enum class BleuSmooth { kExp, kFloor, kAddK, kNone };

// "exp", "floor", "add-k", "none"; throws UsageError otherwise.
BleuSmooth parse_bleu_smooth(std::string_view name);
const char* bleu_smooth_name(BleuSmooth smooth);

struct BleuConfig {
  BleuTokenizer tokenizer = BleuTokenizer::k13a;
  bool lowercase = false;
  BleuSmooth smooth = BleuSmooth::kExp;
  // floor's and add-k's value; unset = sacrebleu's defaults 0.1 and 1.
  std::optional<double> smooth_value;
  // Leave out orders that have no n-gram (sentence-level BLEU turns it on).
  bool effective_order = false;
  int max_order = 4;  // 1..4
};

// BLEU with all its parts, as sacrebleu's BLEUScore.
struct BleuResult {
  double score = 0.0;
  std::vector<double> counts, totals;  // matched and total n-grams per order
  std::vector<double> precisions;      // percent
  double bp = 1.0;
  std::int64_t sys_len = 0, ref_len = 0;
  // "p1/p2/p3/p4 (BP = 0.950 ratio = 0.951 hyp_len = 9 ref_len = 10)"
  std::string verbose() const;
};

// Computes BLEU from sufficient statistics (sacrebleu's compute_bleu): no match
// at all gives 0 whatever the smoothing; add-k adds k to the counts and totals
// of orders 2 and up (and reports them so).
BleuResult compute_bleu(std::vector<double> correct, std::vector<double> total,
                        std::int64_t sys_len, std::int64_t ref_len, const BleuConfig& config);

// Number of lines that end in " ." (sacrebleu warns from 100 on that the
// input looks tokenized).
std::size_t count_tokenized_periods(const Lines& hyps);

// BLEU as a Metric. Statistics per segment: hyp_len, ref_len, correct[order],
// total[order].
class Bleu : public Metric {
 public:
  // Tokenizes the references once (throws Error if the sets differ in length
  // or there are none).
  Bleu(const BleuConfig& config, const RefSets& refs);

  std::string id() const override { return "BLEU"; }
  std::size_t stats_size() const override;
  std::vector<double> segment_stats(const Lines& hyps) const override;
  Score score_from_stats(const double* sums) const override;
  Signature signature() const override;
  // All parts of the score of summed statistics.
  BleuResult result_from_stats(const double* sums) const;

 private:
  struct Scratch;
  std::string preprocess(std::string_view line) const;
  void count_segment(std::size_t index, std::string_view hyp, Scratch& scratch, double* row) const;

  BleuConfig config_;
  RefSets tokenized_;  // preprocessed references
};

// The library entry point for validation BLEU: corpus BLEU of `hyps` against
// `refs` (refs[r][i] = reference r of line i). Throws Error on length mismatch.
BleuResult corpus_bleu(const Lines& hyps, const RefSets& refs, const BleuConfig& config = {});

}  // namespace tfm
