#include "tfm/eval/bleu.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {
namespace {

// An n-gram of up to 4 token ids (ids start at 1; unused slots are 0).
struct NgramKey {
  std::uint64_t hi = 0, lo = 0;
  auto operator<=>(const NgramKey&) const = default;
};

NgramKey make_key(const std::uint32_t* ids, int n) {
  std::uint32_t slot[4] = {0, 0, 0, 0};
  std::copy(ids, ids + n, slot);
  return {(std::uint64_t(slot[0]) << 32) | slot[1], (std::uint64_t(slot[2]) << 32) | slot[3]};
}

using NgramCounts = std::vector<std::pair<NgramKey, std::uint32_t>>;

// Counts of every n-gram (orders 1..max_order) of `ids` that holds no unknown
// (0) id, sorted by key.
NgramCounts count_ngrams(const std::vector<std::uint32_t>& ids, int max_order) {
  std::vector<NgramKey> keys;
  for (int n = 1; n <= max_order; ++n)
    for (std::size_t i = 0; i + n <= ids.size(); ++i)
      if (std::find(ids.begin() + i, ids.begin() + i + n, 0u) == ids.begin() + i + n)
        keys.push_back(make_key(&ids[i], n));
  std::sort(keys.begin(), keys.end());
  NgramCounts counts;
  for (const auto& key : keys) {
    if (!counts.empty() && counts.back().first == key) ++counts.back().second;
    else counts.emplace_back(key, 1);
  }
  return counts;
}

int key_order(const NgramKey& key) {
  return 1 + ((key.hi & 0xFFFFFFFFu) != 0) + ((key.lo >> 32) != 0) + ((key.lo & 0xFFFFFFFFu) != 0);
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

struct Bleu::SegmentRefs {
  NgramCounts ngrams;  // maximum count over the references
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

Bleu::Bleu(const BleuConfig& config, const RefSets& refs) : config_(config), n_refs_(refs.size()) {
  if (config.max_order < 1 || config.max_order > 4)
    throw UsageError("BLEU's maximum n-gram order must be between 1 and 4");
  check_reference_sets(refs, refs.empty() ? 0 : refs[0].size());
  segments_.resize(refs[0].size());
  for (std::size_t i = 0; i < segments_.size(); ++i) add_segment(i, refs);
}

Bleu::~Bleu() = default;

std::string Bleu::preprocess(std::string_view line) const {
  if (config_.lowercase) {
    const std::string lower = python_lower(line);
    return tokenize_bleu(python_rstrip(lower), config_.tokenizer);
  }
  return tokenize_bleu(python_rstrip(line), config_.tokenizer);
}

void Bleu::add_segment(std::size_t index, const RefSets& refs) {
  std::vector<std::string_view> tokens;
  NgramCounts merged;
  SegmentRefs& segment = segments_[index];
  for (const Lines& set : refs) {
    const std::string text = preprocess(set[index]);
    python_split(text, tokens);
    std::vector<std::uint32_t> ids;
    for (const auto token : tokens) {
      auto found = ids_.find(token);
      if (found == ids_.end()) {
        vocabulary_.emplace_back(token);
        found = ids_.emplace(vocabulary_.back(), std::uint32_t(vocabulary_.size())).first;
      }
      ids.push_back(found->second);
    }
    segment.lens.push_back(std::int64_t(ids.size()));
    const NgramCounts counts = count_ngrams(ids, config_.max_order);
    merged.insert(merged.end(), counts.begin(), counts.end());
  }
  std::sort(merged.begin(), merged.end());
  for (const auto& [key, count] : merged) {  // sorted, so the last of a key is its maximum
    if (!segment.ngrams.empty() && segment.ngrams.back().first == key) segment.ngrams.back().second = count;
    else segment.ngrams.emplace_back(key, count);
  }
}

std::uint32_t Bleu::token_id(std::string_view token) const {
  const auto found = ids_.find(token);
  return found == ids_.end() ? 0 : found->second;
}

std::size_t Bleu::stats_size() const { return 2 + 2 * std::size_t(config_.max_order); }

std::vector<double> Bleu::segment_stats(const Lines& hyps) const {
  if (hyps.size() != segments_.size())
    throw Error(fmt::format("{} hypotheses for {} reference segments", hyps.size(), segments_.size()));
  const int order = config_.max_order;
  std::vector<double> stats(hyps.size() * stats_size(), 0.0);
  std::vector<std::string_view> tokens;
  std::vector<std::uint32_t> ids;
  for (std::size_t i = 0; i < hyps.size(); ++i) {
    double* row = &stats[i * stats_size()];
    const std::string text = preprocess(hyps[i]);
    python_split(text, tokens);
    ids.clear();
    for (const auto token : tokens) ids.push_back(token_id(token));
    const auto len = std::int64_t(ids.size());
    row[0] = double(len);
    row[1] = double(closest_ref_len(len, segments_[i].lens));
    for (int n = 1; n <= order; ++n) row[2 + order + n - 1] = double(std::max<std::int64_t>(0, len - n + 1));
    const NgramCounts& ref = segments_[i].ngrams;
    auto at = ref.begin();
    for (const auto& [key, count] : count_ngrams(ids, order)) {
      at = std::lower_bound(at, ref.end(), key, [](const auto& e, const NgramKey& k) { return e.first < k; });
      if (at == ref.end()) break;
      if (at->first == key) row[2 + key_order(key) - 1] += std::min(count, at->second);
    }
  }
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
  sig.set("nrefs", "#", std::to_string(n_refs_));
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
