// Beam search and greedy search over one or more IncrementalDecoders (an
// ensemble averages their log-probabilities), batched over sentences.
//
// Beam search follows fairseq's sequence generator: at each step the 2·beam
// best extensions of a sentence's live hypotheses are ranked; an </s> among
// the first `beam` of them finishes a hypothesis, scored by its
// log-probability divided by the GNMT length penalty ((5 + |Y|) / 6)^α, |Y|
// counting </s>; the first `beam` other extensions stay alive. <pad> and <s>
// are never produced, </s> not before min_len tokens, and only </s> after
// max_len tokens. A sentence is done when `beam` hypotheses have finished,
// or earlier when no live hypothesis can beat the nbest-th finished one any
// more (its score can only fall, and with α ≥ 0 the penalty is at most that
// of the longest output): the same n-best as fairseq, with fewer steps. Done
// sentences leave the batch at once.
#pragma once

#include <cstdint>
#include <vector>

#include "tfm/model/incremental_decoder.h"

namespace tfm {

struct SearchConfig {
  std::int64_t beam = 4;
  double alpha = 0.6;      // length penalty exponent (0: plain log-probability)
  double max_len_a = 1.0;  // at most a · source tokens + b output tokens,
  std::int64_t max_len_b = 50;  // capped by the model's max_positions − 1
  std::int64_t min_len = 1;     // output tokens before </s> is allowed
  std::int64_t nbest = 1;       // hypotheses returned per sentence (≤ beam)
};

// Throws UsageError for a beam < 1, nbest outside [1, beam], negative lengths.
void validate(const SearchConfig& config);

struct Hypothesis {
  std::vector<std::int32_t> tokens;     // without </s>
  std::vector<std::int32_t> alignment;  // per token: source position attended most
  float log_prob = 0;  // Σ log p over tokens and </s>
  float score = 0;     // log_prob / length_penalty(tokens + 1)
};

// ((5 + length) / 6)^alpha
double length_penalty(std::int64_t length, double alpha);
// Most output tokens (without </s>) for a source of `source_tokens` tokens.
std::int64_t max_output_length(std::int64_t source_tokens, const SearchConfig& config,
                               const ModelConfig& model);

// For each source (ids without specials), its best hypotheses, best first:
// config.nbest of them (fewer only if fewer exist). All decoders must share
// the vocabulary; their rows are used as scratch.
std::vector<std::vector<Hypothesis>> beam_search(const std::vector<IncrementalDecoder*>& models,
                                                 const std::vector<std::vector<std::int32_t>>& sources,
                                                 const SearchConfig& config);
// The most probable token at each step (beam 1 without ranking), one
// hypothesis per source; same constraints and score as beam_search.
std::vector<Hypothesis> greedy_search(const std::vector<IncrementalDecoder*>& models,
                                      const std::vector<std::vector<std::int32_t>>& sources,
                                      const SearchConfig& config);

}  // namespace tfm
