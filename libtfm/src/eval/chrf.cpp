#include "tfm/eval/chrf.h"

#include <algorithm>
#include <string_view>

#include "tfm/core/utf8.h"
#include "tfm/eval/sacrebleu_tokenizers.h"
#include "ngram_ids.h"

namespace tfm {
namespace {

constexpr std::uint32_t kWordRoot = 0xFFFFFFFF;  // prefix of word unigrams (characters use 0)

bool is_ascii_punct(char c) {
  return std::string_view("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").find(c) != std::string_view::npos;
}

// sacrebleu's _remove_punctuation: one punctuation mark split off the end of
// a word, or else off its start.
void split_words(std::string_view text, std::vector<std::string_view>& fields, std::vector<std::string_view>& words) {
  python_split(text, fields);
  words.clear();
  for (const auto w : fields) {
    if (utf8_length(w) == 1) words.push_back(w);
    else if (is_ascii_punct(w.back())) words.insert(words.end(), {w.substr(0, w.size() - 1), w.substr(w.size() - 1)});
    else if (is_ascii_punct(w.front())) words.insert(words.end(), {w.substr(0, 1), w.substr(1)});
    else words.push_back(w);
  }
}

}  // namespace

// The units (code points, and word ids) of one side of a segment.
struct Chrf::Units {
  std::vector<std::uint32_t> chars, words;
};

// Per-thread tables. Hypothesis n-grams get ids and counts; reference n-grams
// are looked up, and each occurrence matches while the hypothesis count
// lasts, which sums min(hypothesis count, reference count) per n-gram.
struct Chrf::Scratch {
  detail::TokenIds words;
  detail::NgramIds ngrams;
  std::string hyp_text;
  std::vector<std::string_view> fields, split;
  std::vector<std::uint32_t> hyp_count, used, touched;
  std::vector<double> hyp_total;
  Units hyp, ref;
};

void Chrf::units_of(std::string_view line, bool intern, Scratch& s, Units& units) const {
  units.chars.clear();
  if (config_.whitespace) {
    for (std::size_t pos = 0; pos < line.size();) units.chars.push_back(decode_utf8(line, pos));
  } else {
    python_split(line, s.fields);
    for (const auto field : s.fields)
      for (std::size_t pos = 0; pos < field.size();) units.chars.push_back(decode_utf8(field, pos));
  }
  units.words.clear();
  if (config_.word_order == 0) return;
  split_words(line, s.fields, s.split);
  for (const auto word : s.split) units.words.push_back(intern ? s.words.intern(word) : s.words.find(word));
}

void Chrf::count_hypothesis(Scratch& s) const {
  s.ngrams.clear();
  s.hyp_total.assign(std::size_t(config_.char_order + config_.word_order), 0.0);
  const auto walk = [&](const std::vector<std::uint32_t>& units, std::uint32_t root, int max_order, int first_slot) {
    for (std::size_t i = 0; i < units.size(); ++i) {
      std::uint32_t id = root;
      for (int n = 1; n <= max_order && i + n <= units.size(); ++n) {
        id = s.ngrams.intern(id, units[i + n - 1]);
        if (s.hyp_count.size() <= id) s.hyp_count.resize(2 * id + 2), s.used.resize(2 * id + 2);
        ++s.hyp_count[id];
        ++s.hyp_total[std::size_t(first_slot + n - 1)];
      }
    }
  };
  walk(s.hyp.chars, 0, config_.char_order, 0);
  walk(s.hyp.words, kWordRoot, config_.word_order, config_.char_order);
}

void Chrf::match_reference(Scratch& s, double* out) const {
  const int orders = config_.char_order + config_.word_order;
  for (int k = 0; k < orders; ++k) out[3 * k + 1] = out[3 * k + 2] = 0.0;
  const auto walk = [&](const std::vector<std::uint32_t>& units, std::uint32_t root, int max_order, int first_slot) {
    for (std::size_t i = 0; i < units.size(); ++i) {
      std::uint32_t id = root;
      bool present = true;
      for (int n = 1; n <= max_order && i + n <= units.size(); ++n) {
        double* slot = out + 3 * (first_slot + n - 1);
        slot[1] += 1;  // every reference n-gram counts, matched or not
        // Absent from the hypothesis (a word id 0 is never interned): so are
        // the longer n-grams from here.
        if (present) present = (id = s.ngrams.find(id, units[i + n - 1])) != 0;
        if (!present) continue;
        if (s.used[id]++ == 0) s.touched.push_back(id);
        if (s.used[id] <= s.hyp_count[id]) slot[2] += 1;
      }
    }
  };
  s.touched.clear();
  walk(s.ref.chars, 0, config_.char_order, 0);
  walk(s.ref.words, kWordRoot, config_.word_order, config_.char_order);
  for (const std::uint32_t id : s.touched) s.used[id] = 0;
  for (int k = 0; k < orders; ++k) out[3 * k] = out[3 * k + 1] > 0 ? s.hyp_total[std::size_t(k)] : 0.0;
}

Chrf::Chrf(const ChrfConfig& config, const RefSets& refs) : config_(config), refs_(refs) {
  check_reference_sets(refs, refs.empty() ? 0 : refs[0].size());
  if (config_.lowercase)
    for (Lines& set : refs_)
      for (std::string& line : set) line = python_lower(line);
}

std::size_t Chrf::stats_size() const { return 3 * std::size_t(config_.char_order + config_.word_order); }

double Chrf::f_score(const double* stats) const { return f_score_of(stats); }

// With float32 sums (bootstrap resamples) NumPy divides in float32 and does
// the rest in float64; Count = float reproduces that.
double Chrf::score_from_float32_sums(const float* sums) const { return f_score_of(sums); }

template <typename Count>
double Chrf::f_score_of(const Count* stats) const {
  const double eps = 1e-16;
  const double factor = double(config_.beta) * double(config_.beta);
  const int order = config_.char_order + config_.word_order;
  double score = 0.0, avg_prec = 0.0, avg_rec = 0.0;
  int effective_order = 0;
  for (int i = 0; i < order; ++i) {
    const Count n_hyp = stats[3 * i], n_ref = stats[3 * i + 1], n_match = stats[3 * i + 2];
    const double prec = n_hyp > 0 ? double(n_match / n_hyp) : eps;
    const double rec = n_ref > 0 ? double(n_match / n_ref) : eps;
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
    Scratch s;
    for (std::size_t i = begin; i < end; ++i) {
      s.words.clear();
      s.hyp_text = config_.lowercase ? python_lower(hyps[i]) : hyps[i];  // word ids point into it
      units_of(s.hyp_text, true, s, s.hyp);
      count_hypothesis(s);
      double best = -1.0;
      for (const Lines& set : refs_) {
        units_of(set[i], false, s, s.ref);
        match_reference(s, candidate.data());
        const double f = f_score(candidate.data());
        if (f > best) {
          best = f;
          std::copy(candidate.begin(), candidate.end(), stats.begin() + i * width);
        }
      }
      const std::size_t live = std::min<std::size_t>(s.ngrams.size() + 1, s.hyp_count.size());
      std::fill(s.hyp_count.begin(), s.hyp_count.begin() + live, 0);
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
