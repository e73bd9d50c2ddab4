#include "tfm/data/batching.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/core/splitmix64.h"

namespace tfm {

namespace {

double ratio(std::uint64_t real, std::uint64_t padded) {
  return padded ? static_cast<double>(real) / static_cast<double>(padded) : 1.0;
}

// Sentence indices by group (when given), by size (the larger side, what the
// budget counts), then by source and target size, ascending within even sizes
// and descending within odd ones, then index. The snake puts the long sources
// of one size next to the long sources of the next, where a plain sort would
// pad across.
std::vector<std::uint64_t> length_order(std::span<const std::uint32_t> source, std::span<const std::uint32_t> target,
                                        std::span<const std::uint32_t> groups) {
  std::vector<std::uint64_t> order(source.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::uint64_t a, std::uint64_t b) {
    if (!groups.empty() && groups[a] != groups[b]) return groups[a] < groups[b];
    const std::uint32_t size_a = std::max(source[a], target[a]), size_b = std::max(source[b], target[b]);
    if (size_a != size_b) return size_a < size_b;
    const bool ascending = size_a % 2 == 0;
    if (source[a] != source[b]) return (source[a] < source[b]) == ascending;
    if (target[a] != target[b]) return (target[a] < target[b]) == ascending;
    return a < b;
  });
  return order;
}

// Adds the batch order[begin, end) to `batching`, with its padding.
void close_batch(Batching& batching, std::size_t end, std::span<const std::uint32_t> source,
                 std::span<const std::uint32_t> target) {
  const std::size_t begin = batching.offsets.back();
  std::uint32_t source_max = 0, target_max = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const auto s = batching.order[i];
    source_max = std::max(source_max, source[s]);
    target_max = std::max(target_max, target[s]);
    batching.padding.source_real += source[s];
    batching.padding.target_real += target[s];
  }
  batching.padding.source_padded += static_cast<std::uint64_t>(source_max) * (end - begin);
  batching.padding.target_padded += static_cast<std::uint64_t>(target_max) * (end - begin);
  batching.offsets.push_back(end);
}

}  // namespace

double PaddingStats::efficiency() const {
  return ratio(source_real + target_real, source_padded + target_padded);
}
double PaddingStats::source_efficiency() const { return ratio(source_real, source_padded); }
double PaddingStats::target_efficiency() const { return ratio(target_real, target_padded); }

Batching make_batches(std::span<const std::uint32_t> source_sizes, std::span<const std::uint32_t> target_sizes,
                      const BatchConfig& config, std::span<const std::uint32_t> groups) {
  if (config.max_tokens == 0) throw UsageError("--max-tokens must be positive");
  if (config.multiple == 0) throw UsageError("--multiple must be positive");
  if (source_sizes.size() != target_sizes.size())
    throw ShapeError(fmt::format("make_batches: {} source sizes but {} target sizes", source_sizes.size(),
                                 target_sizes.size()));
  if (!groups.empty() && groups.size() != source_sizes.size())
    throw ShapeError(fmt::format("make_batches: {} groups for {} sentences", groups.size(), source_sizes.size()));
  Batching batching;
  batching.order = length_order(source_sizes, target_sizes, groups);
  const std::size_t m = config.multiple;
  std::size_t source_max = 0, target_max = 0;  // over order[offsets.back(), i)
  for (std::size_t i = 0; i < batching.order.size(); ++i) {
    const auto s = batching.order[i];
    const std::size_t size = std::max(source_sizes[s], target_sizes[s]);
    if (size > config.max_tokens && !config.allow_oversize)
      throw Error(fmt::format("sentence pair {} has {} tokens (with </s>), more than --max-tokens {}", s + 1, size,
                              config.max_tokens));
    if (!groups.empty() && i > batching.offsets.back() && groups[s] != groups[batching.order[batching.offsets.back()]]) {
      close_batch(batching, i, source_sizes, target_sizes);
      source_max = target_max = 0;
    }
    const std::size_t begin = batching.offsets.back(), n = i - begin;
    const std::size_t longest = std::max({source_max, target_max, size});
    const bool full = n > 0 && ((config.max_sentences && n == config.max_sentences) ||
                                (n + 1) * longest > config.max_tokens);
    if (full) {
      close_batch(batching, begin + std::max(m * (n / m), n % m), source_sizes, target_sizes);
      source_max = target_max = 0;
      for (std::size_t j = batching.offsets.back(); j < i; ++j) {
        source_max = std::max<std::size_t>(source_max, source_sizes[batching.order[j]]);
        target_max = std::max<std::size_t>(target_max, target_sizes[batching.order[j]]);
      }
      // With --multiple, the sentences carried over may not fit with this
      // larger one: then they make a batch of their own, so that the budget
      // stays a hard limit (fairseq would let that batch overflow).
      const std::size_t carried = i - batching.offsets.back();
      if (carried > 0 && (carried + 1) * std::max({source_max, target_max, size}) > config.max_tokens) {
        close_batch(batching, i, source_sizes, target_sizes);
        source_max = target_max = 0;
      }
    }
    source_max = std::max<std::size_t>(source_max, source_sizes[s]);
    target_max = std::max<std::size_t>(target_max, target_sizes[s]);
  }
  if (batching.offsets.back() < batching.order.size())
    close_batch(batching, batching.order.size(), source_sizes, target_sizes);
  return batching;
}

std::vector<std::size_t> shuffled_order(std::size_t n, std::uint64_t seed, std::uint64_t epoch) {
  SplitMix64 random(SplitMix64(seed).next() ^ epoch);
  random.next();  // discarded: the shuffles of runs made before stay the same
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Fisher–Yates with our own bounded draw (std::shuffle and the standard
  // distributions differ between library versions).
  for (std::size_t i = n; i > 1; --i) {
    const auto j = static_cast<std::size_t>((static_cast<unsigned __int128>(random.next()) * i) >> 64);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

}  // namespace tfm
