#include "tfm/decode/search.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/tensor/kernels.h"
#include "tfm/tensor/threads.h"

namespace tfm {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct Candidate {
  float score = kNegInf;  // cumulative log-probability
  std::int32_t row = 0, token = 0;
};

// Higher score first; ties by row then token, so the order is total.
bool better(const Candidate& a, const Candidate& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.row != b.row ? a.row < b.row : a.token < b.token;
}

// A live hypothesis: the row of the decoders holding its state.
struct Live {
  std::int32_t sentence;
  float log_prob = 0;
  std::vector<std::int32_t> tokens, alignment;
};

// Log-probabilities of the next token averaged over the models, with the
// tokens a search may not produce at this step set to −inf. Columns are the
// models' output tokens (a row's shortlist, or the whole vocabulary); the
// special tokens are always the first four.
class StepScores {
 public:
  StepScores(const std::vector<IncrementalDecoder*>& models, const SearchConfig& config)
      : models_(models), config_(config), vocab_(models.front()->output_size()) {
    for (auto* m : models) {
      if (m->config().vocab_size != models.front()->config().vocab_size)
        throw Error("ensemble models have different vocabulary sizes");
      if (m->shared_output_tokens() != models.front()->shared_output_tokens() ||
          m->own_output_tokens() != models.front()->own_output_tokens())
        throw Error("ensemble models have different output shortlists");
    }
  }

  // One step of every model; row r may only end when `must_end(r)`.
  template <class MustEnd>
  const float* run(const std::vector<std::int32_t>& tokens, std::int64_t position, MustEnd must_end) {
    const std::int64_t rows = static_cast<std::int64_t>(tokens.size());
    // An ensemble sums into the first model's scores, which step() lets the
    // caller change, in model order.
    float* sum = models_.front()->step(tokens);
    for (std::size_t m = 1; m < models_.size(); ++m) {
      const float* lp = models_[m]->step(tokens);
      for (std::int64_t i = 0; i < rows * vocab_; ++i) sum[i] += lp[i];
    }
    const float inv = 1.0f / static_cast<float>(models_.size());
    for (std::int64_t r = 0; r < rows; ++r) {
      float* row = sum + r * vocab_;
      if (models_.size() > 1) for (std::int64_t j = 0; j < vocab_; ++j) row[j] *= inv;
      row[kPadId] = row[kBosId] = kNegInf;
      if (position < config_.min_len) row[kEosId] = kNegInf;
      if (must_end(r)) {
        float eos = row[kEosId];
        std::fill(row, row + vocab_, kNegInf);
        row[kEosId] = eos;
      }
    }
    return sum;
  }

  std::int64_t vocab() const { return vocab_; }
  // The token of column j of row r.
  std::int32_t token(std::int64_t r, std::int64_t j) const { return models_.front()->output_token(r, j); }
  // The column of row r's best token, ties to the lower token (a
  // shortlist's columns are not in token order).
  std::int64_t best_column(const float* row, std::int64_t r) const {
    std::int64_t best = argmax(row, vocab_);
    if (models_.front()->restricted())
      for (std::int64_t j = 0; j < vocab_; ++j)
        if (row[j] == row[best] && token(r, j) < token(r, best)) best = j;
    return best;
  }

 private:
  const std::vector<IncrementalDecoder*>& models_;
  const SearchConfig& config_;
  std::int64_t vocab_;
};

void start_all(const std::vector<IncrementalDecoder*>& models,
               const std::vector<std::vector<std::int32_t>>& sources,
               const std::vector<std::int64_t>& max_len) {
  std::int64_t steps = 1;
  for (auto m : max_len) steps = std::max(steps, m + 1);
  for (auto* m : models) m->start(sources, steps);
}

void select_all(const std::vector<IncrementalDecoder*>& models, const std::vector<std::int32_t>& parents) {
  for (auto* m : models) m->select(parents);
}

Hypothesis finish(const Live& live, float log_prob, double alpha) {
  Hypothesis h{live.tokens, live.alignment, log_prob, 0};
  h.score = static_cast<float>(log_prob / length_penalty(static_cast<std::int64_t>(h.tokens.size()) + 1, alpha));
  return h;
}

// The 2·beam best entries of each row (cumulative scores), best first, as
// tokens; ties fall to the lower token, as over the whole vocabulary (but
// for the one case below).
void top_candidates(const float* lp, const std::vector<Live>& live, const StepScores& scores,
                    std::int64_t width, std::vector<Candidate>& out) {
  const auto rows = static_cast<std::int64_t>(live.size());
  const std::int64_t vocab = scores.vocab();
  out.assign(static_cast<std::size_t>(rows * width), Candidate{});
  parallel_range(rows, 1, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      Candidate* best = out.data() + r * width;
      const float* row = lp + r * vocab;
      const float base = live[static_cast<std::size_t>(r)].log_prob;
      auto consider = [&](std::int64_t j) {
        if (row[j] == kNegInf || base + row[j] < best[width - 1].score) return;
        Candidate c{base + row[j], static_cast<std::int32_t>(r), scores.token(r, j)};
        if (!better(c, best[width - 1])) return;
        std::int64_t k = width - 1;
        for (; k > 0 && better(c, best[k - 1]); --k) best[k] = best[k - 1];
        best[k] = c;
      };
      // Most entries lose to the current last: a vector of them is rejected
      // at once when none of its sums exceeds it (a sum equal to it loses
      // the tie on the token, all entries being of this row, where columns
      // ascend by token; after a shortlist's shared columns, its own may
      // not, and such a tie at exactly the last place keeps the earlier).
      std::int64_t j = 0;
      while ((j = next_block_above(row, j, vocab, base, best[width - 1].score)) + kScanBlock <= vocab)
        for (const std::int64_t end = j + kScanBlock; j < end; ++j) consider(j);
      for (; j < vocab; ++j) consider(j);
    }
  });
}

// top_candidates() from a step_best() of a single model: the same
// candidates, scored as the step's whole rows of log-probabilities would
// score them (logit − log-sum-exp), <pad> and <s> never, </s> only from
// position min_len on and alone where a row must end.
template <class MustEnd>
void best_candidates(const IncrementalDecoder::BestTokens& b, const std::vector<Live>& live, bool eos_allowed,
                     MustEnd must_end, std::int64_t width, std::vector<Candidate>& out) {
  const auto rows = static_cast<std::int64_t>(live.size());
  constexpr auto specials = static_cast<std::int64_t>(kSpecialTokens.size());
  out.assign(static_cast<std::size_t>(rows * width), Candidate{});
  for (std::int64_t r = 0; r < rows; ++r) {
    Candidate* best = out.data() + r * width;
    const float base = live[static_cast<std::size_t>(r)].log_prob, lse = b.log_sum_exp[static_cast<std::size_t>(r)];
    auto consider = [&](std::int32_t token, float logit) {
      const Candidate c{base + (logit - lse), static_cast<std::int32_t>(r), token};
      if (c.score == kNegInf || !better(c, best[width - 1])) return;
      std::int64_t k = width - 1;
      for (; k > 0 && better(c, best[k - 1]); --k) best[k] = best[k - 1];
      best[k] = c;
    };
    const float* special = b.special_logits.data() + r * specials;
    if (eos_allowed) consider(kEosId, special[kEosId]);
    if (must_end(r)) continue;
    consider(kUnkId, special[kUnkId]);
    for (std::int64_t k = 0; k < b.width; ++k)
      if (const std::int32_t token = b.tokens[static_cast<std::size_t>(r * b.width + k)]; token >= 0)
        consider(token, b.logits[static_cast<std::size_t>(r * b.width + k)]);
  }
}

}  // namespace

void validate(const SearchConfig& c) {
  if (c.beam < 1) throw UsageError(fmt::format("--beam must be at least 1, not {}", c.beam));
  if (c.nbest < 1 || c.nbest > c.beam)
    throw UsageError(fmt::format("--nbest must be in [1, --beam = {}], not {}", c.beam, c.nbest));
  if (c.min_len < 0 || c.max_len_b < 0 || c.max_len_a < 0)
    throw UsageError("--min-len, --max-len-a and --max-len-b must not be negative");
  if (!std::isfinite(c.alpha)) throw UsageError("--alpha must be a number");
}

double length_penalty(std::int64_t length, double alpha) {
  return std::pow((5.0 + static_cast<double>(length)) / 6.0, alpha);
}

std::int64_t max_output_length(std::int64_t source_tokens, const SearchConfig& config,
                               const ModelConfig& model) {
  auto n = static_cast<std::int64_t>(config.max_len_a * static_cast<double>(source_tokens)) + config.max_len_b;
  return std::min(n, model.max_positions - 1);
}

namespace {

struct SentenceResult {
  std::vector<Hypothesis> finished;
  bool done = false;
};

// Ranks the candidates of one sentence (rows [begin, end) of `live`):
// finishes hypotheses, appends survivors to `next` / `parents`, decides done.
void advance_sentence(const std::vector<Candidate>& cand, std::int64_t begin, std::int64_t end,
                      std::int64_t width, const std::vector<Live>& live,
                      const std::vector<std::int32_t>& align, std::int64_t max_len,
                      const SearchConfig& config, SentenceResult& result, std::vector<Live>& next,
                      std::vector<std::int32_t>& parents) {
  std::vector<Candidate> merged(cand.begin() + begin * width, cand.begin() + end * width);
  std::sort(merged.begin(), merged.end(), better);
  const auto beam = static_cast<std::size_t>(config.beam);
  std::size_t alive = 0;
  float best_alive = kNegInf;
  for (std::size_t rank = 0; rank < merged.size() && rank < 2 * beam; ++rank) {
    const Candidate& c = merged[rank];
    if (c.score == kNegInf) break;
    const Live& from = live[static_cast<std::size_t>(c.row)];
    if (c.token == kEosId) {
      if (rank < beam && result.finished.size() < beam) {  // kept best first, ties in finishing order
        Hypothesis h = finish(from, c.score, config.alpha);
        auto& f = result.finished;
        f.insert(std::upper_bound(f.begin(), f.end(), h, [](const Hypothesis& a, const Hypothesis& b) {
                   return a.score > b.score;
                 }), std::move(h));
      }
      continue;
    }
    if (alive == beam) continue;
    Live l{from.sentence, c.score, from.tokens, from.alignment};
    l.tokens.push_back(c.token);
    l.alignment.push_back(align[static_cast<std::size_t>(c.row)]);
    best_alive = std::max(best_alive, c.score);
    next.push_back(std::move(l));
    parents.push_back(c.row);
    ++alive;
  }
  // The bound needs a penalty that grows with length (alpha ≥ 0).
  const auto nbest = static_cast<std::size_t>(config.nbest);
  bool cannot_improve =
      config.alpha >= 0 && result.finished.size() >= nbest &&
      best_alive / length_penalty(max_len + 1, config.alpha) < result.finished[nbest - 1].score;
  result.done = alive == 0 || result.finished.size() >= beam || cannot_improve;
  if (result.done) {
    next.resize(next.size() - alive);
    parents.resize(parents.size() - alive);
  }
}

// Each sentence's longest output.
std::vector<std::int64_t> max_output_lengths(const std::vector<IncrementalDecoder*>& models,
                                             const std::vector<std::vector<std::int32_t>>& sources,
                                             const SearchConfig& config) {
  std::vector<std::int64_t> max_len(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i)
    max_len[i] = max_output_length(static_cast<std::int64_t>(sources[i].size()), config,
                                   models.front()->config());
  return max_len;
}

}  // namespace

std::vector<std::vector<Hypothesis>> beam_search(const std::vector<IncrementalDecoder*>& models,
                                                 const std::vector<std::vector<std::int32_t>>& sources,
                                                 const SearchConfig& config) {
  validate(config);
  const std::vector<std::int64_t> max_len = max_output_lengths(models, sources, config);
  std::vector<SentenceResult> results(sources.size());
  if (sources.empty()) return {};
  start_all(models, sources, max_len);
  StepScores scores(models, config);
  std::vector<Live> live;
  for (std::size_t i = 0; i < sources.size(); ++i) live.push_back({static_cast<std::int32_t>(i), 0, {}, {}});
  std::vector<std::int32_t> tokens(live.size(), kBosId);
  std::vector<Candidate> cand;
  const std::int64_t width = 2 * config.beam;
  // One model needs only each row's best tokens (an ensemble, whole rows to average).
  const bool best_only = models.size() == 1;
  for (std::int64_t t = 0; !live.empty(); ++t) {
    auto must_end = [&](std::int64_t r) {
      return t >= max_len[static_cast<std::size_t>(live[static_cast<std::size_t>(r)].sentence)];
    };
    if (best_only) {
      best_candidates(models.front()->step_best(tokens, width), live, t >= config.min_len, must_end, width, cand);
    } else {
      const float* lp = scores.run(tokens, t, must_end);
      top_candidates(lp, live, scores, width, cand);
    }
    const std::vector<std::int32_t>& align = models.front()->attention_argmax();
    std::vector<Live> next;
    std::vector<std::int32_t> parents;
    for (std::size_t begin = 0; begin < live.size();) {
      std::size_t end = begin;
      while (end < live.size() && live[end].sentence == live[begin].sentence) ++end;
      auto s = static_cast<std::size_t>(live[begin].sentence);
      advance_sentence(cand, static_cast<std::int64_t>(begin), static_cast<std::int64_t>(end), width,
                       live, align, max_len[s], config, results[s], next, parents);
      begin = end;
    }
    live = std::move(next);
    if (live.empty()) break;
    select_all(models, parents);
    tokens.resize(live.size());
    for (std::size_t r = 0; r < live.size(); ++r) tokens[r] = live[r].tokens.back();
  }
  std::vector<std::vector<Hypothesis>> out(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    auto& f = results[i].finished;
    f.resize(std::min(f.size(), static_cast<std::size_t>(config.nbest)));
    out[i] = std::move(f);
  }
  return out;
}

std::vector<Hypothesis> greedy_search(const std::vector<IncrementalDecoder*>& models,
                                      const std::vector<std::vector<std::int32_t>>& sources,
                                      const SearchConfig& config) {
  validate(config);
  const std::vector<std::int64_t> max_len = max_output_lengths(models, sources, config);
  std::vector<Hypothesis> out(sources.size());
  if (sources.empty()) return out;
  start_all(models, sources, max_len);
  StepScores scores(models, config);
  std::vector<Live> live;
  for (std::size_t i = 0; i < sources.size(); ++i) live.push_back({static_cast<std::int32_t>(i), 0, {}, {}});
  std::vector<std::int32_t> tokens(live.size(), kBosId);
  const bool best_only = models.size() == 1;
  std::vector<std::pair<std::int32_t, float>> choice;  // [row] → token, its log-probability
  for (std::int64_t t = 0; !live.empty(); ++t) {
    auto must_end = [&](std::int64_t r) {
      return t >= max_len[static_cast<std::size_t>(live[static_cast<std::size_t>(r)].sentence)];
    };
    choice.resize(live.size());
    if (best_only) {
      const IncrementalDecoder::BestTokens& b = models.front()->step_best(tokens, 1);
      for (std::size_t r = 0; r < live.size(); ++r) {
        // The first highest allowed logit, as best_column() finds it in a
        // whole row (<pad> when none is allowed, as there).
        std::int32_t token = kPadId;
        float logit = kNegInf;
        auto consider = [&](std::int32_t id, float x) {
          if (x > logit) token = id, logit = x;
        };
        const float* special = b.special_logits.data() + r * kSpecialTokens.size();
        const bool end = must_end(static_cast<std::int64_t>(r));
        if (!end) consider(kUnkId, special[kUnkId]);
        if (t >= config.min_len) consider(kEosId, special[kEosId]);
        if (!end && b.tokens[r] >= 0) consider(b.tokens[r], b.logits[r]);
        choice[r] = {token, logit - b.log_sum_exp[r]};
      }
    } else {
      const float* lp = scores.run(tokens, t, must_end);
      for (std::size_t r = 0; r < live.size(); ++r) {
        const float* row = lp + static_cast<std::int64_t>(r) * scores.vocab();
        const std::int64_t column = scores.best_column(row, static_cast<std::int64_t>(r));
        choice[r] = {scores.token(static_cast<std::int64_t>(r), column), row[column]};
      }
    }
    const std::vector<std::int32_t>& align = models.front()->attention_argmax();
    std::vector<Live> next;
    std::vector<std::int32_t> parents;
    for (std::size_t r = 0; r < live.size(); ++r) {
      const std::int32_t best = choice[r].first;
      float log_prob = live[r].log_prob + choice[r].second;
      if (best == kEosId) {
        out[static_cast<std::size_t>(live[r].sentence)] = finish(live[r], log_prob, config.alpha);
        continue;
      }
      live[r].log_prob = log_prob;
      live[r].tokens.push_back(best);
      live[r].alignment.push_back(align[r]);
      next.push_back(std::move(live[r]));
      parents.push_back(static_cast<std::int32_t>(r));
    }
    live = std::move(next);
    if (live.empty()) break;
    select_all(models, parents);
    tokens.resize(live.size());
    for (std::size_t r = 0; r < live.size(); ++r) tokens[r] = live[r].tokens.back();
  }
  return out;
}

}  // namespace tfm
