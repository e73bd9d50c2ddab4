#include "tfm/eval/bleu.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "tfm/core/error.h"
#include "ngram_ids.h"

namespace tfm {
namespace {

// Tokens of a tokenizer's output: every tokenizer but `none` leaves single
// spaces between tokens, which a plain split on ' ' recovers quickly.
void split_tokens(std::string_view text, BleuTokenizer tokenizer, std::vector<std::string_view>& out) {
  if (tokenizer == BleuTokenizer::kNone) return python_split(text, out);
  out.clear();
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != ' ') continue;
    out.push_back(text.substr(start, i - start));
    start = i + 1;
  }
  if (start < text.size()) out.push_back(text.substr(start));
}

// sacrebleu's my_log: log, with log(0) floored to -9999999999.
double floored_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

// The reference length closest to hyp_len; the shorter one on ties.
std::int64_t closest_ref_len(std::int64_t hyp_len, const std::vector<std::int64_t>& ref_lens) {
  std::int64_t best_diff = -1, best_len = -1;
  for (const std::int64_t len : ref_lens) {
    const std::int64_t diff = std::abs(hyp_len - len);
    if (best_diff == -1 || diff < best_diff) {
      best_diff = diff;
      best_len = len;
    } else if (diff == best_diff && len < best_len) {
      best_len = len;
    }
  }
  return best_len;
}

}  // namespace

struct Bleu::Scratch {
  detail::TokenIds tokens;
  detail::NgramIds ngrams;
  std::vector<std::string_view> fields;
  std::vector<std::uint32_t> units, ref_max, ref_count, used, touched;
  std::vector<std::int64_t> lens;
};

BleuSmooth parse_bleu_smooth(std::string_view name) {
  if (name == "exp") return BleuSmooth::kExp;
  if (name == "floor") return BleuSmooth::kFloor;
  if (name == "add-k") return BleuSmooth::kAddK;
  if (name == "none") return BleuSmooth::kNone;
  throw UsageError(fmt::format("unknown smoothing method '{}' (exp, floor, add-k or none)", name));
}

const char* bleu_smooth_name(BleuSmooth smooth) {
  switch (smooth) {
    case BleuSmooth::kExp: return "exp";
    case BleuSmooth::kFloor: return "floor";
    case BleuSmooth::kAddK: return "add-k";
    case BleuSmooth::kNone: return "none";
  }
  return "?";
}

std::string BleuResult::verbose() const {
  std::string text;
  for (const double p : precisions) text += (text.empty() ? "" : "/") + format_fixed(p, 1);
  const double ratio = ref_len ? double(sys_len) / double(ref_len) : 0.0;
  return text + fmt::format(" (BP = {} ratio = {} hyp_len = {} ref_len = {})", format_fixed(bp, 3),
                            format_fixed(ratio, 3), sys_len, ref_len);
}

BleuResult compute_bleu(std::vector<double> correct, std::vector<double> total,
                        std::int64_t sys_len, std::int64_t ref_len, const BleuConfig& config) {
  const int max_order = config.max_order;
  BleuResult result;
  result.sys_len = sys_len;
  result.ref_len = ref_len;
  if (sys_len < ref_len)
    result.bp = sys_len > 0 ? std::exp(1.0 - double(ref_len) / double(sys_len)) : 0.0;
  result.precisions.assign(max_order, 0.0);
  if (std::all_of(correct.begin(), correct.end(), [](double c) { return c == 0.0; })) {
    result.counts = std::move(correct);
    result.totals = std::move(total);
    return result;  // score 0 whatever the smoothing (sacrebleu #141)
  }
  const double value = config.smooth_value.value_or(config.smooth == BleuSmooth::kFloor ? 0.1 : 1.0);
  double smooth_mteval = 1.0;
  int eff_order = max_order;
  for (int n = 1; n <= max_order; ++n) {
    double& c = correct[n - 1];
    double& t = total[n - 1];
    if (config.smooth == BleuSmooth::kAddK && n > 1) {
      c += value;
      t += value;
    }
    if (t == 0.0) break;
    if (config.effective_order) eff_order = n;
    double& p = result.precisions[n - 1];
    if (c != 0.0) p = 100.0 * c / t;
    else if (config.smooth == BleuSmooth::kExp) p = 100.0 / ((smooth_mteval *= 2.0) * t);
    else if (config.smooth == BleuSmooth::kFloor) p = 100.0 * value / t;
  }
  double log_sum = 0.0;  // left to right, as Python's sum()
  for (int n = 0; n < eff_order; ++n) log_sum += floored_log(result.precisions[n]);
  result.score = result.bp * std::exp(log_sum / eff_order);
  result.counts = std::move(correct);
  result.totals = std::move(total);
  return result;
}

std::size_t count_tokenized_periods(const Lines& hyps) {
  return std::count_if(hyps.begin(), hyps.end(), [](const std::string& h) { return h.ends_with(" ."); });
}

Bleu::Bleu(const BleuConfig& config, const RefSets& refs) : config_(config), tokenized_(refs) {
  if (config.max_order < 1 || config.max_order > 4)
    throw UsageError("BLEU's maximum n-gram order must be between 1 and 4");
  check_reference_sets(refs, refs.empty() ? 0 : refs[0].size());
  for (Lines& set : tokenized_)
    for_each_chunk(set.size(), [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) set[i] = preprocess(set[i]);
    });
}

std::string Bleu::preprocess(std::string_view line) const {
  if (config_.lowercase) {
    const std::string lower = python_lower(line);
    return tokenize_bleu(python_rstrip(lower), config_.tokenizer);
  }
  return tokenize_bleu(python_rstrip(line), config_.tokenizer);
}

std::size_t Bleu::stats_size() const { return 2 + 2 * std::size_t(config_.max_order); }

// One row of statistics: the references' n-grams are interned with their
// maximum count; each hypothesis n-gram occurrence matches while that count
// lasts, which sums min(hypothesis count, reference count) over n-grams.
void Bleu::count_segment(std::size_t index, std::string_view hyp, Scratch& s, double* row) const {
  const int order = config_.max_order;
  s.tokens.clear();
  s.ngrams.clear();
  s.lens.clear();
  for (const Lines& set : tokenized_) {
    split_tokens(set[index], config_.tokenizer, s.fields);
    s.lens.push_back(std::int64_t(s.fields.size()));
    s.units.clear();
    for (const auto field : s.fields) s.units.push_back(s.tokens.intern(field));
    s.touched.clear();
    for (std::size_t i = 0; i < s.units.size(); ++i) {
      std::uint32_t id = 0;
      for (int n = 1; n <= order && i + n <= s.units.size(); ++n) {
        id = s.ngrams.intern(id, s.units[i + n - 1]);
        if (s.ref_count.size() <= id) s.ref_count.resize(2 * id + 2), s.ref_max.resize(2 * id + 2), s.used.resize(2 * id + 2);
        if (s.ref_count[id]++ == 0) s.touched.push_back(id);
      }
    }
    for (const std::uint32_t id : s.touched) {
      s.ref_max[id] = std::max(s.ref_max[id], s.ref_count[id]);
      s.ref_count[id] = 0;
    }
  }
  split_tokens(hyp, config_.tokenizer, s.fields);
  const auto len = std::int64_t(s.fields.size());
  row[0] = double(len);
  row[1] = double(closest_ref_len(len, s.lens));
  for (int n = 1; n <= order; ++n) row[2 + order + n - 1] = double(std::max<std::int64_t>(0, len - n + 1));
  s.units.clear();
  for (const auto field : s.fields) s.units.push_back(s.tokens.find(field));
  for (std::size_t i = 0; i < s.units.size(); ++i) {
    std::uint32_t id = 0;
    for (int n = 1; n <= order && i + n <= s.units.size(); ++n) {
      if (s.units[i + n - 1] == 0 || (id = s.ngrams.find(id, s.units[i + n - 1])) == 0) break;
      if (s.used[id] < s.ref_max[id]) ++s.used[id], ++row[2 + n - 1];
    }
  }
  const std::size_t live = std::min<std::size_t>(s.ngrams.size() + 1, s.used.size());
  std::fill(s.used.begin(), s.used.begin() + live, 0);
  std::fill(s.ref_max.begin(), s.ref_max.begin() + live, 0);
}

std::vector<double> Bleu::segment_stats(const Lines& hyps) const {
  check_reference_sets(tokenized_, hyps.size());
  std::vector<double> stats(hyps.size() * stats_size(), 0.0);
  for_each_chunk(hyps.size(), [&](std::size_t begin, std::size_t end) {
    Scratch scratch;
    for (std::size_t i = begin; i < end; ++i)
      count_segment(i, preprocess(hyps[i]), scratch, &stats[i * stats_size()]);
  });
  return stats;
}

BleuResult Bleu::result_from_stats(const double* sums) const {
  const int order = config_.max_order;
  return compute_bleu(std::vector<double>(sums + 2, sums + 2 + order),
                      std::vector<double>(sums + 2 + order, sums + 2 + 2 * order),
                      std::int64_t(sums[0]), std::int64_t(sums[1]), config_);
}

Score Bleu::score_from_stats(const double* sums) const {
  const BleuResult result = result_from_stats(sums);
  return Score{"BLEU", result.score, result.verbose()};
}

Signature Bleu::signature() const {
  Signature sig;
  sig.set("nrefs", "#", std::to_string(tokenized_.size()));
  sig.set("case", "c", config_.lowercase ? "lc" : "mixed");
  sig.set("eff", "e", config_.effective_order ? "yes" : "no");
  sig.set("tok", "tok", bleu_tokenizer_name(config_.tokenizer));
  std::string smooth = bleu_smooth_name(config_.smooth);
  if (config_.smooth == BleuSmooth::kFloor || config_.smooth == BleuSmooth::kAddK)
    smooth += "[" + format_fixed(config_.smooth_value.value_or(
                                     config_.smooth == BleuSmooth::kFloor ? 0.1 : 1.0), 2) + "]";
  sig.set("smooth", "s", smooth);
  return sig;
}

BleuResult corpus_bleu(const Lines& hyps, const RefSets& refs, const BleuConfig& config) {
  check_reference_sets(refs, hyps.size());
  const Bleu bleu(config, refs);
  return bleu.result_from_stats(bleu.sum_stats(bleu.segment_stats(hyps)).data());
}

}  // namespace tfm
