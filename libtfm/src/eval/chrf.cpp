#include "tfm/eval/chrf.h"

#include <algorithm>
#include <deque>
#include <string_view>

#include "tfm/core/utf8.h"
#include "tfm/eval/tokenize.h"

namespace tfm {
namespace {

// Sorted n-grams with their counts; keys point into a segment's text or words.
using Counts = std::vector<std::pair<std::string_view, int>>;

Counts count_sorted(std::vector<std::string_view>& keys) {
  std::sort(keys.begin(), keys.end());
  Counts counts;
  for (const auto key : keys) {
    if (!counts.empty() && counts.back().first == key) ++counts.back().second;
    else counts.emplace_back(key, 1);
  }
  return counts;
}

// Character n-grams of `text` (whitespace already handled) for orders 1..max.
std::vector<Counts> char_ngrams(std::string_view text, int max_order) {
  std::vector<std::size_t> starts;
  for (std::size_t pos = 0; pos < text.size(); pos += utf8_sequence_length(static_cast<unsigned char>(text[pos])))
    starts.push_back(pos);
  starts.push_back(text.size());
  const std::size_t length = starts.size() - 1;
  std::vector<Counts> all;
  std::vector<std::string_view> keys;
  for (int n = 1; n <= max_order; ++n) {
    keys.clear();
    for (std::size_t i = 0; i + n <= length; ++i) keys.push_back(text.substr(starts[i], starts[i + n] - starts[i]));
    all.push_back(count_sorted(keys));
  }
  return all;
}

bool is_ascii_punct(char c) {
  return std::string_view("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").find(c) != std::string_view::npos;
}

// sacrebleu's _remove_punctuation: one punctuation mark split off the end of
// a word, or else off its start.
std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> fields, words;
  python_split(text, fields);
  for (const auto w : fields) {
    if (utf8_length(w) == 1) words.push_back(w);
    else if (is_ascii_punct(w.back())) words.insert(words.end(), {w.substr(0, w.size() - 1), w.substr(w.size() - 1)});
    else if (is_ascii_punct(w.front())) words.insert(words.end(), {w.substr(0, 1), w.substr(1)});
    else words.push_back(w);
  }
  return words;
}

// Word n-grams joined by single spaces; `storage` owns the joined keys (a
// deque, so the views stay valid as it grows).
std::vector<Counts> word_ngrams(const std::vector<std::string_view>& words, int max_order,
                                std::deque<std::string>& storage) {
  std::vector<Counts> all;
  std::vector<std::string_view> keys;
  for (int n = 1; n <= max_order; ++n) {
    keys.clear();
    for (std::size_t i = 0; i + n <= words.size(); ++i) {
      std::string& key = storage.emplace_back(words[i]);
      for (int k = 1; k < n; ++k) key.append(" ").append(words[i + k]);
      keys.push_back(key);
    }
    all.push_back(count_sorted(keys));
  }
  return all;
}

// All n-gram counts of one segment: character orders, then word orders.
struct SegmentNgrams {
  std::string text;  // character n-grams point here
  std::deque<std::string> joined;
  std::vector<Counts> orders;
};

// [hyp count, ref count, matches] of one order, as _get_match_statistics.
void match_statistics(const Counts& hyp, const Counts& ref, double* out) {
  double hyp_count = 0, ref_count = 0, matches = 0;
  for (const auto& [key, count] : ref) ref_count += count;
  auto at = ref.begin();
  for (const auto& [key, count] : hyp) {
    hyp_count += count;
    while (at != ref.end() && at->first < key) ++at;
    if (at != ref.end() && at->first == key) matches += std::min(count, at->second);
  }
  out[0] = ref.empty() ? 0.0 : hyp_count;
  out[1] = ref_count;
  out[2] = matches;
}

void extract(const ChrfConfig& config, std::string_view line, SegmentNgrams& seg) {
  seg.text = config.whitespace ? std::string(line) : [&] {
    std::vector<std::string_view> fields;
    python_split(line, fields);
    std::string joined;
    for (const auto f : fields) joined.append(f);
    return joined;
  }();
  seg.joined.clear();
  seg.orders = char_ngrams(seg.text, config.char_order);
  if (config.word_order > 0) {
    auto words = word_ngrams(split_words(line), config.word_order, seg.joined);
    seg.orders.insert(seg.orders.end(), words.begin(), words.end());
  }
}

}  // namespace

Chrf::Chrf(const ChrfConfig& config, const RefSets& refs) : config_(config), refs_(refs) {
  check_reference_sets(refs, refs.empty() ? 0 : refs[0].size());
  if (config_.lowercase)
    for (Lines& set : refs_)
      for (std::string& line : set) line = python_lower(line);
}

std::size_t Chrf::stats_size() const { return 3 * std::size_t(config_.char_order + config_.word_order); }

double Chrf::f_score(const double* stats) const {
  const double eps = 1e-16;
  const double factor = double(config_.beta) * double(config_.beta);
  const int order = config_.char_order + config_.word_order;
  double score = 0.0, avg_prec = 0.0, avg_rec = 0.0;
  int effective_order = 0;
  for (int i = 0; i < order; ++i) {
    const double n_hyp = stats[3 * i], n_ref = stats[3 * i + 1], n_match = stats[3 * i + 2];
    const double prec = n_hyp > 0 ? n_match / n_hyp : eps;
    const double rec = n_ref > 0 ? n_match / n_ref : eps;
    const double denom = factor * prec + rec;
    score += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
    if (n_hyp > 0 && n_ref > 0) {
      avg_prec += prec;
      avg_rec += rec;
      ++effective_order;
    }
  }
  if (config_.eps_smoothing) return 100 * score / order;
  if (effective_order == 0) {
    avg_prec = avg_rec = 0.0;
  } else {
    avg_prec /= effective_order;
    avg_rec /= effective_order;
  }
  if (avg_prec + avg_rec == 0.0) return 0.0;
  score = (1 + factor) * avg_prec * avg_rec;
  score /= (factor * avg_prec) + avg_rec;
  return 100 * score;
}

std::vector<double> Chrf::segment_stats(const Lines& hyps) const {
  check_reference_sets(refs_, hyps.size());
  const std::size_t width = stats_size();
  std::vector<double> stats(hyps.size() * width, 0.0);
  for_each_chunk(hyps.size(), [&](std::size_t begin, std::size_t end) {
    std::vector<double> candidate(width);
    SegmentNgrams hyp, ref;
    for (std::size_t i = begin; i < end; ++i) {
      extract(config_, config_.lowercase ? python_lower(hyps[i]) : hyps[i], hyp);
      double best = -1.0;
      for (const Lines& set : refs_) {
        extract(config_, set[i], ref);
        for (std::size_t k = 0; k < hyp.orders.size(); ++k)
          match_statistics(hyp.orders[k], ref.orders[k], &candidate[3 * k]);
        const double f = f_score(candidate.data());
        if (f > best) {
          best = f;
          std::copy(candidate.begin(), candidate.end(), stats.begin() + i * width);
        }
      }
    }
  });
  return stats;
}

Score Chrf::score_from_stats(const double* sums) const {
  return Score{"chrF" + std::to_string(config_.beta) + std::string(std::size_t(config_.word_order), '+'),
               f_score(sums), ""};
}

Signature Chrf::signature() const {
  Signature sig;
  sig.set("nrefs", "#", std::to_string(refs_.size()));
  sig.set("case", "c", config_.lowercase ? "lc" : "mixed");
  sig.set("eff", "e", config_.eps_smoothing ? "no" : "yes");
  sig.set("nc", "nc", std::to_string(config_.char_order));
  sig.set("nw", "nw", std::to_string(config_.word_order));
  sig.set("space", "s", config_.whitespace ? "yes" : "no");
  return sig;
}

}  // namespace tfm
