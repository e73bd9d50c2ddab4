#include "tfm/eval/metric.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/core/parallel.h"

namespace tfm {

const char* const kSignatureVersion = TFM_VERSION;

void Signature::set(const std::string& key, const std::string& abbreviation,
                    const std::string& value) {
  for (auto& field : fields_) {
    if (field.key == key) {
      field.value = value;
      return;
    }
  }
  const auto rank = [](const std::string& name) {
    static const char* const kFirst[] = {"nrefs", "bs", "ar", "seed"};
    for (int i = 0; i < 4; ++i)
      if (name == kFirst[i]) return i;
    return 4;
  };
  auto at = fields_.begin();
  while (at != fields_.end() && rank(at->key) <= rank(key)) ++at;
  fields_.insert(at, {key, abbreviation, value});
}

std::vector<std::pair<std::string, std::string>> Signature::fields() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& field : fields_)
    if (field.key != "version") out.emplace_back(field.key, field.value);
  out.emplace_back("version", kSignatureVersion);
  return out;
}

std::string Signature::format(bool short_names) const {
  std::string out;
  for (const auto& field : fields_) {
    if (field.key == "version") continue;
    if (!out.empty()) out += '|';
    out += (short_names ? field.abbreviation : field.key) + ":" + field.value;
  }
  return out + (short_names ? "|v:" : "|version:") + kSignatureVersion;
}

std::vector<double> Metric::sum_stats(const std::vector<double>& stats) const {
  const std::size_t width = stats_size();
  std::vector<double> sums(width, 0.0);
  for (std::size_t row = 0; row + width <= stats.size(); row += width)
    for (std::size_t k = 0; k < width; ++k) sums[k] += stats[row + k];
  return sums;
}

double Metric::score_from_float32_sums(const float* sums) const {
  const std::vector<double> wide(sums, sums + stats_size());
  return score_from_stats(wide.data()).score;
}

Score Metric::corpus_score(const Lines& hyps) const {
  return score_from_stats(sum_stats(segment_stats(hyps)).data());
}

std::vector<Score> Metric::sentence_scores(const Lines& hyps) const {
  const std::vector<double> stats = segment_stats(hyps);
  std::vector<Score> scores;
  for (std::size_t row = 0; row < hyps.size(); ++row)
    scores.push_back(score_from_stats(stats.data() + row * stats_size()));
  return scores;
}

void for_each_chunk(std::size_t n, const std::function<void(std::size_t, std::size_t)>& body) {
  constexpr std::size_t kMinChunk = 1000;  // below this, threads cost more than they save
  const std::size_t threads =
      std::max<std::size_t>(1, std::min<std::size_t>({std::thread::hardware_concurrency(), 8, n / kMinChunk}));
  for_each_range(n, threads, body);
}

std::string format_fixed(double value, int digits) {
  char buffer[512];
  const int n = std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  if (n >= 0 && std::size_t(n) < sizeof buffer) return std::string(buffer, n);
  std::string big(std::size_t(n) + 1, '\0');
  std::snprintf(big.data(), big.size(), "%.*f", digits, value);
  big.pop_back();
  return big;
}

void check_reference_sets(const RefSets& refs, std::size_t n) {
  if (refs.empty()) throw Error("no reference set given");
  for (std::size_t r = 0; r < refs.size(); ++r)
    if (refs[r].size() != n)
      throw Error(fmt::format("reference set {} has {} segments but there are {} hypotheses",
                              r + 1, refs[r].size(), n));
}

}  // namespace tfm
