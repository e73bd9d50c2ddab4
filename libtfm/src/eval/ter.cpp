#include "tfm/eval/ter.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>

#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {
namespace {

constexpr int kMaxShiftSize = 10;
constexpr int kMaxShiftDist = 50;
constexpr int kBeamWidth = 25;
constexpr int kMaxShiftCandidates = 1000;
constexpr std::int64_t kInfinity = 10'000'000'000'000'000;

enum Op : char { kNop = ' ', kSub = 's', kIns = 'i', kDel = 'd', kUndef = 'x' };

struct Cell {
  std::int64_t cost;
  char op;
};

using Words = std::vector<std::uint32_t>;

// Beam edit distance between hypotheses and one reference. Rows of the last
// hypothesis are kept so that a hypothesis sharing a prefix with it (shifts
// keep the words before the shifted block) restarts after that prefix.
class BeamEditDistance {
 public:
  explicit BeamEditDistance(const Words& ref) : ref_(ref) {}

  // Distance and trace (ops turning hyp into ref, ' ' 's' 'i' 'd').
  std::int64_t operator()(const Words& hyp, std::string* trace) {
    const std::size_t n = hyp.size(), m = ref_.size();
    std::size_t keep = 0;
    while (keep < n && keep < last_.size() && last_[keep] == hyp[keep]) ++keep;
    if (last_.size() != n) keep = 0;  // rows depend on the length through the beam
    check_table_fits(n, m);
    rows_.resize((n + 1) * (m + 1));
    if (keep == 0)
      for (std::size_t j = 0; j <= m; ++j) rows_[j] = {std::int64_t(j), kIns};
    fill_rows(hyp, keep + 1);
    last_ = hyp;
    if (trace) *trace = backtrace(n);
    return rows_[n * (m + 1) + m].cost;
  }

 private:
  void fill_rows(const Words& hyp, std::size_t first) {
    const std::size_t n = hyp.size(), m = ref_.size(), w = m + 1;
    const double ratio = n ? double(m) / double(n) : 1.0;
    const int beam = kBeamWidth < ratio / 2 ? int(std::ceil(ratio / 2 + kBeamWidth)) : kBeamWidth;
    for (std::size_t i = first; i <= n; ++i) {
      std::fill(rows_.begin() + i * w, rows_.begin() + (i + 1) * w, Cell{kInfinity, kUndef});
      const auto diag = std::int64_t(std::floor(double(i) * ratio));
      const std::size_t lo = std::size_t(std::max<std::int64_t>(0, diag - beam));
      std::size_t hi = std::size_t(std::min<std::int64_t>(std::int64_t(w), diag + beam));
      if (i == n) hi = w;
      for (std::size_t j = lo; j < hi; ++j) {
        Cell& cell = rows_[i * w + j];
        if (j == 0) {
          cell = {rows_[(i - 1) * w].cost + 1, kDel};
          continue;
        }
        const bool same = hyp[i - 1] == ref_[j - 1];
        const Cell options[3] = {{rows_[(i - 1) * w + j - 1].cost + (same ? 0 : 1), same ? kNop : kSub},
                                 {rows_[(i - 1) * w + j].cost + 1, kDel},
                                 {rows_[i * w + j - 1].cost + 1, kIns}};
        for (const Cell& option : options)
          if (cell.cost > option.cost) cell = option;
      }
    }
  }

  // sacrebleu keeps the whole table, beam or not, and so do we; a pair of
  // lines too long for it is an error rather than the end of the memory.
  static void check_table_fits(std::size_t n, std::size_t m) {
    const double bytes = double(n + 1) * double(m + 1) * double(sizeof(Cell));
    // Asked once: the shift search calls the distance hundreds of times a line.
    static const double memory = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGESIZE));
    if (memory > 0 && bytes > memory)
      throw Error(fmt::format("TER: {} hypothesis words against {} reference words need a {:.0f} GB edit-distance "
                              "table, more than this machine's {:.0f} GB",
                              n, m, bytes / 1e9, memory / 1e9));
  }

  std::string backtrace(std::size_t n) const {
    const std::size_t w = ref_.size() + 1;
    std::string trace;
    std::size_t i = n, j = ref_.size();
    while (i > 0 || j > 0) {
      const char op = rows_[i * w + j].op;
      trace.push_back(op);
      if (op == kSub || op == kNop) --i, --j;
      else if (op == kIns) --j;
      else if (op == kDel) --i;
      else break;  // outside the beam: cannot happen on a filled last row
    }
    std::reverse(trace.begin(), trace.end());
    return trace;
  }

  const Words& ref_;
  Words last_;
  std::vector<Cell> rows_;
};

// Alignment of reference positions to hypothesis positions and the error
// flags of both (sacrebleu's trace_to_alignment of the flipped trace).
struct Alignment {
  std::vector<int> ref_to_hyp;  // one entry per reference position
  std::vector<int> ref_err, hyp_err;
};

Alignment align_trace(const std::string& trace) {
  Alignment a;
  int pos_hyp = -1;
  for (const char op : trace) {
    // Flipped: the trace's deletions (hypothesis words) become insertions.
    if (op == kNop || op == kSub) {
      ++pos_hyp;
      a.ref_to_hyp.push_back(pos_hyp);
      a.hyp_err.push_back(op == kSub);
      a.ref_err.push_back(op == kSub);
    } else if (op == kDel) {
      ++pos_hyp;
      a.hyp_err.push_back(1);
    } else if (op == kIns) {
      a.ref_to_hyp.push_back(pos_hyp);
      a.ref_err.push_back(1);
    }
  }
  return a;
}

int sum_range(const std::vector<int>& v, int start, int length) {
  int sum = 0;
  for (int k = start; k < start + length && k < int(v.size()); ++k) sum += v[k];
  return sum;
}

// Python's list slicing and concatenation in sacrebleu's _perform_shift.
Words perform_shift(const Words& words, int start, int length, int target) {
  const int n = int(words.size());
  const auto slice = [&](Words& out, int from, int to) {
    from = std::clamp(from, 0, n);
    to = std::clamp(to, 0, n);
    if (from < to) out.insert(out.end(), words.begin() + from, words.begin() + to);
  };
  Words out;
  out.reserve(words.size());
  if (target < start) {
    slice(out, 0, target), slice(out, start, start + length), slice(out, target, start),
        slice(out, start + length, n);
  } else if (target > start + length) {
    slice(out, 0, start), slice(out, start + length, target), slice(out, start, start + length),
        slice(out, target, n);
  } else {
    slice(out, 0, start), slice(out, start + length, length + target),
        slice(out, start, start + length), slice(out, length + target, n);
  }
  return out;
}

struct Candidate {
  std::int64_t gain;
  int length, neg_start, neg_target;
  auto operator<=>(const Candidate&) const = default;
};

// The best shift of `hyp` (sacrebleu's _shift); `checked` counts candidates.
std::int64_t best_shift(const Words& hyp, const Words& ref, BeamEditDistance& distance,
                        int& checked, Words& shifted) {
  std::string trace;
  const std::int64_t before = distance(hyp, &trace);
  const Alignment a = align_trace(trace);
  const int nh = int(hyp.size()), nr = int(ref.size());
  bool found = false;
  Candidate best{};
  for (int sh = 0; sh < nh && checked < kMaxShiftCandidates; ++sh) {
    for (int sr = 0; sr < nr && checked < kMaxShiftCandidates; ++sr) {
      if (std::abs(sr - sh) > kMaxShiftDist) continue;
      // Like sacrebleu, stop only after a block whose targets were all tried.
      for (int len = 1; len <= kMaxShiftSize && sh + len <= nh && sr + len <= nr &&
                        hyp[sh + len - 1] == ref[sr + len - 1] && checked < kMaxShiftCandidates;
           ++len) {
        if (sum_range(a.hyp_err, sh, len) == 0 || sum_range(a.ref_err, sr, len) == 0) continue;
        if (sh <= a.ref_to_hyp[sr] && a.ref_to_hyp[sr] < sh + len) continue;
        int previous = -1;
        for (int offset = -1; offset < len; ++offset) {
          int target;
          if (sr + offset == -1) target = 0;
          else if (sr + offset < nr) target = a.ref_to_hyp[sr + offset] + 1;
          else break;
          if (target == previous) continue;
          previous = target;
          Words candidate_words = perform_shift(hyp, sh, len, target);
          const Candidate candidate{before - distance(candidate_words, nullptr), len, -sh, -target};
          ++checked;
          if (!found || candidate > best) {
            found = true;
            best = candidate;
            shifted = std::move(candidate_words);
          }
        }
      }
    }
  }
  if (!found) shifted = hyp;
  return found ? best.gain : 0;
}

}  // namespace

std::int64_t ter_edits(const Words& hyp, const Words& ref) {
  if (ref.empty()) return std::int64_t(hyp.size());
  BeamEditDistance distance(ref);
  Words input = hyp, shifted;
  int checked = 0;
  std::int64_t shifts = 0;
  while (true) {
    const std::int64_t delta = best_shift(input, ref, distance, checked, shifted);
    if (checked >= kMaxShiftCandidates || delta <= 0) break;
    ++shifts;
    input = shifted;
  }
  return shifts + distance(input, nullptr);
}

Ter::Ter(const TerConfig& config, const RefSets& refs) : config_(config), refs_(refs) {
  check_reference_sets(refs, refs.empty() ? 0 : refs[0].size());
  // sacrebleu normalizes references twice (once when caching them, once when
  // extracting their words); with --ter-normalized that is not a no-op
  // (",,0" → ", ,0" → ", , 0"), so we do the same.
  for (Lines& set : refs_)
    for (std::string& line : set) {
      line = tokenize_tercom(python_rstrip(line), config_);
      line = tokenize_tercom(line, config_);
    }
}

std::vector<double> Ter::segment_stats(const Lines& hyps) const {
  check_reference_sets(refs_, hyps.size());
  std::vector<double> stats(2 * hyps.size());
  for_each_chunk(hyps.size(), [&](std::size_t begin, std::size_t end) {
    std::vector<std::string_view> tokens;
    for (std::size_t i = begin; i < end; ++i) {
      std::map<std::string_view, std::uint32_t> ids;
      const auto to_ids = [&](std::string_view text) {
        python_split(text, tokens);
        Words words;
        for (const auto token : tokens) words.push_back(ids.emplace(token, std::uint32_t(ids.size())).first->second);
        return words;
      };
      const std::string hyp_text = tokenize_tercom(python_rstrip(hyps[i]), config_);
      const Words hyp = to_ids(hyp_text);
      std::int64_t best = kInfinity, ref_lengths = 0;
      for (const Lines& set : refs_) {
        const Words ref = to_ids(set[i]);
        ref_lengths += std::int64_t(ref.size());
        try {
          best = std::min(best, ter_edits(hyp, ref));
        } catch (const Error& e) {
          throw Error(fmt::format("hypothesis line {}: {}", i + 1, e.what()));
        }
      }
      stats[2 * i] = double(best);
      stats[2 * i + 1] = double(ref_lengths) / double(refs_.size());
    }
  });
  return stats;
}

Score Ter::score_from_stats(const double* sums) const {
  const double edits = sums[0], ref_length = sums[1];
  double score = 0.0;
  if (ref_length > 0) score = edits / ref_length;
  else if (edits > 0) score = 1.0;  // empty references, non-empty hypothesis
  return Score{"TER", 100 * score, ""};
}

// NumPy divides float32 sums in float32, then multiplies by 100 in float64.
double Ter::score_from_float32_sums(const float* sums) const {
  const float edits = sums[0], ref_length = sums[1];
  double score = 0.0;
  if (ref_length > 0) score = double(edits / ref_length);
  else if (edits > 0) score = 1.0;
  return 100 * score;
}

Signature Ter::signature() const {
  Signature sig;
  sig.set("nrefs", "#", std::to_string(refs_.size()));
  sig.set("case", "c", config_.case_sensitive ? "mixed" : "lc");
  sig.set("tok", "t", "tercom");
  sig.set("norm", "nr", config_.normalized ? "yes" : "no");
  sig.set("punct", "pn", config_.no_punct ? "no" : "yes");
  sig.set("asian", "as", config_.asian_support ? "yes" : "no");
  return sig;
}

}  // namespace tfm
