#include "tfm/data/corpus.h"

#include <algorithm>

#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/parallel.h"
#include "tfm/core/utf8.h"

namespace tfm {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// Every line of one side as ids (validated), and how many lines there were.
TokenizedSide read_side(const std::string& path, const Vocabulary& vocabulary, std::uint64_t& lines) {
  LineReader reader(path);
  TokenizedSide side;
  std::vector<std::uint32_t> ids;
  std::string_view line;
  while (reader.next(line)) {
    if (const auto bad = find_invalid_utf8(line); bad != std::string_view::npos)
      throw InputError(path, reader.line_number(), fmt::format("invalid UTF-8 at byte {}", bad + 1));
    line_to_ids(line, vocabulary, ids);
    side.add(ids);
  }
  lines = reader.line_number();
  return side;
}

// Moves sentence `from` to slot `to` (to <= from), compacting in place.
void move_sentence(TokenizedSide& side, std::size_t from, std::size_t to) {
  const auto begin = side.offsets[from], length = side.length(from);
  const auto target = side.offsets[to];
  if (target != begin)
    std::copy(side.tokens.begin() + static_cast<std::ptrdiff_t>(begin),
      side.tokens.begin() + static_cast<std::ptrdiff_t>(begin + length),
      side.tokens.begin() + static_cast<std::ptrdiff_t>(target));
  side.offsets[to + 1] = target + length;
}

void shrink(TokenizedSide& side, std::size_t kept) {
  side.offsets.resize(kept + 1);
  side.tokens.resize(side.offsets.back());
  side.tokens.shrink_to_fit();
}

std::uint64_t count_unknown(const TokenizedSide& side) {
  return static_cast<std::uint64_t>(std::count(side.tokens.begin(), side.tokens.end(), kUnkId));
}

}  // namespace

void TokenizedSide::add(std::span<const std::uint32_t> ids) {
  tokens.insert(tokens.end(), ids.begin(), ids.end());
  offsets.push_back(tokens.size());
}

void filter(ParallelCorpus& corpus, const CleanConfig& config, CorpusStats& stats) {
  const std::size_t n = corpus.source.size();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    switch (drop_reason(corpus.source.length(i), corpus.target.length(i), config)) {
      case Drop::kNone:
        move_sentence(corpus.source, i, kept);
        move_sentence(corpus.target, i, kept);
        corpus.lines.push_back(i);
        ++kept;
        break;
      case Drop::kEmpty: ++stats.empty; break;
      case Drop::kTooShort: ++stats.too_short; break;
      case Drop::kTooLong: ++stats.too_long; break;
      case Drop::kRatio: ++stats.bad_ratio; break;
    }
  }
  shrink(corpus.source, kept);
  shrink(corpus.target, kept);
  stats.pairs = n;
  stats.kept = kept;
  stats.source_tokens = corpus.source.tokens.size();
  stats.target_tokens = corpus.target.tokens.size();
  stats.source_unknown = count_unknown(corpus.source);
  stats.target_unknown = count_unknown(corpus.target);
}

void line_to_ids(std::string_view line, const Vocabulary& vocabulary, std::vector<std::uint32_t>& ids) {
  ids.clear();
  std::size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && is_space(line[pos])) ++pos;
    std::size_t end = pos;
    while (end < line.size() && !is_space(line[end])) ++end;
    if (end == pos) break;
    ids.push_back(vocabulary.id(line.substr(pos, end - pos)));
    pos = end;
  }
}

Drop drop_reason(std::size_t source_length, std::size_t target_length, const CleanConfig& config) {
  if (!config.filter) return Drop::kNone;
  if (source_length == 0 || target_length == 0) return Drop::kEmpty;
  if (source_length < config.min_length || target_length < config.min_length) return Drop::kTooShort;
  if (source_length > config.max_length || target_length > config.max_length) return Drop::kTooLong;
  const double s = static_cast<double>(source_length), t = static_cast<double>(target_length);
  if (s / t > config.max_ratio || t / s > config.max_ratio) return Drop::kRatio;
  return Drop::kNone;
}

ParallelCorpus read_parallel_corpus(const std::string& source_path, const std::string& target_path,
                                    const Vocabulary& source_vocabulary, const Vocabulary& target_vocabulary,
                                    const CleanConfig& config, CorpusStats& stats) {
  // One thread a side: the vocabulary lookups are most of the time. The
  // source's error comes first, always.
  std::uint64_t source_lines = 0, target_lines = 0;
  ParallelCorpus corpus;
  for_each_range(2, 2, [&](std::size_t side, std::size_t) {
    if (side == 0) corpus.source = read_side(source_path, source_vocabulary, source_lines);
    else corpus.target = read_side(target_path, target_vocabulary, target_lines);
  });
  if (source_lines != target_lines)
    throw Error(fmt::format("line counts differ: {} has {} lines, {} has {}", display_name(source_path),
                            source_lines, display_name(target_path), target_lines));
  filter(corpus, config, stats);
  return corpus;
}

std::vector<std::uint32_t> copy_of_pairs(const ParallelCorpus& corpus, const CorpusStats& stats, std::size_t copies,
                                         const std::string& source_path) {
  if (copies == 0) throw UsageError("--copies must be positive");
  if (stats.pairs % copies != 0)
    throw Error(fmt::format("{}: {} lines do not split into {} copies of equal length", source_path, stats.pairs,
                            copies));
  const std::uint64_t lines_per_copy = stats.pairs / copies;
  std::vector<std::uint32_t> copy(corpus.size());
  for (std::size_t i = 0; i < corpus.size(); ++i) copy[i] = static_cast<std::uint32_t>(corpus.lines[i] / lines_per_copy);
  return copy;
}

std::string describe(const CorpusStats& stats, const CleanConfig& config) {
  std::string text = fmt::format("kept {} of {} sentence pairs", stats.kept, stats.pairs);
  if (config.filter)
    text += fmt::format(
        "; dropped {} with an empty side, {} with a side under {} tokens, {} with a side over {} tokens, "
        "{} with a length ratio over {}",
        stats.empty, stats.too_short, config.min_length, stats.too_long, config.max_length, stats.bad_ratio,
        config.max_ratio);
  const auto percent = [](std::uint64_t part, std::uint64_t whole) {
    return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
  };
  text += fmt::format("; {} source and {} target tokens, {:.2f}% and {:.2f}% unknown (<unk>)", stats.source_tokens,
                      stats.target_tokens, percent(stats.source_unknown, stats.source_tokens),
                      percent(stats.target_unknown, stats.target_tokens));
  return text;
}

}  // namespace tfm
