// Length-sorted token-budget batching with fairseq's --max-tokens semantics,
// and the deterministic batch-order shuffle used at read time.
//
// A sentence's size is what the model holds for it: its tokens plus the one
// end-of-sentence token the model appends (fairseq counts it the same way); a
// pair's size is the larger of its two sides. Pairs are sorted by size, then
// within one size by source and target size, ascending for even sizes and
// descending for odd ones (a snake: neighbouring sizes meet with similar
// lengths), then input order. They are cut greedily: a batch holds n pairs
// with n × (largest source size) ≤ max_tokens and n × (largest target size) ≤
// max_tokens, and at most max_sentences. With `multiple` m, a full batch is
// cut back to a multiple of m when it has at least m sentences, the rest
// starting the next batch (fairseq's --required-batch-size-multiple).
//
// fairseq sorts by source then target size; on Multi30k at 4096 tokens this
// order pads less (efficiency 0.967 against 0.941) with fewer batches.
//
// Optional groups (one number per pair) come first in the order, and a batch
// never holds two groups. Several segmentations of one corpus (BPE-dropout)
// need that: a sentence's copies mostly have the same sizes, so sorted
// together they would fill one batch with the same sentence.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace tfm {

struct BatchConfig {
  std::size_t max_tokens = 4096;
  std::size_t max_sentences = 0;  // 0 = no limit
  std::size_t multiple = 1;
  // A sentence larger than max_tokens: an error (false), or a batch of its
  // own that exceeds the budget (true; for validation sets, nothing dropped).
  bool allow_oversize = false;
};

// Real and padded token counts; efficiency = real / padded.
struct PaddingStats {
  std::uint64_t source_real = 0, source_padded = 0, target_real = 0, target_padded = 0;
  double efficiency() const;         // both sides together
  double source_efficiency() const;
  double target_efficiency() const;
};

// order: sentence indices in batch order; batch b is
// order[offsets[b], offsets[b + 1]). offsets has n_batches + 1 entries.
struct Batching {
  std::vector<std::uint64_t> order;
  std::vector<std::uint64_t> offsets{0};
  PaddingStats padding;
  std::size_t size() const { return offsets.size() - 1; }
};

// Batches sentences of the given sizes (source_sizes[i], target_sizes[i] of
// sentence i, end-of-sentence token included). Throws UsageError for a
// max_tokens or multiple of 0, Error naming the sentence for one larger than
// max_tokens unless allow_oversize, ShapeError for spans of different sizes.
// `groups` is empty (one group) or has one entry per sentence.
Batching make_batches(std::span<const std::uint32_t> source_sizes, std::span<const std::uint32_t> target_sizes,
                      const BatchConfig& config, std::span<const std::uint32_t> groups = {});

// A permutation of 0..n-1 that depends only on (seed, epoch): the same on every
// platform and run, different across epochs.
std::vector<std::size_t> shuffled_order(std::size_t n, std::uint64_t seed, std::uint64_t epoch);

}  // namespace tfm
