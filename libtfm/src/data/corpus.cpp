#include "tfm/data/corpus.h"

#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/utf8.h"

namespace tfm {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

void check_utf8(std::string_view line, const LineReader& reader) {
  if (const auto bad = find_invalid_utf8(line); bad != std::string_view::npos)
    throw InputError(reader.path(), reader.line_number(), fmt::format("invalid UTF-8 at byte {}", bad + 1));
}

// Counts the lines left in `reader` after the current one.
std::uint64_t count_rest(LineReader& reader) {
  std::string_view line;
  while (reader.next(line)) {
  }
  return reader.line_number();
}

[[noreturn]] void counts_differ(LineReader& source, LineReader& target) {
  const std::uint64_t source_lines = count_rest(source), target_lines = count_rest(target);
  throw Error(fmt::format("line counts differ: {} has {} lines, {} has {}", display_name(source.path()),
                          source_lines, display_name(target.path()), target_lines));
}

}  // namespace

void TokenizedSide::add(std::span<const std::uint32_t> ids) {
  tokens.insert(tokens.end(), ids.begin(), ids.end());
  offsets.push_back(tokens.size());
}

void line_to_ids(std::string_view line, const Vocabulary& vocabulary, std::vector<std::uint32_t>& ids,
                 std::uint64_t& unknown) {
  ids.clear();
  std::size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && is_space(line[pos])) ++pos;
    std::size_t end = pos;
    while (end < line.size() && !is_space(line[end])) ++end;
    if (end == pos) break;
    const std::uint32_t id = vocabulary.id(line.substr(pos, end - pos));
    unknown += id == Vocabulary::kUnk;
    ids.push_back(id);
    pos = end;
  }
}

const char* drop_reason(std::size_t source_length, std::size_t target_length, const CleanConfig& config) {
  if (!config.filter) return nullptr;
  if (source_length == 0 || target_length == 0) return "empty";
  if (source_length < config.min_length || target_length < config.min_length) return "too short";
  if (source_length > config.max_length || target_length > config.max_length) return "too long";
  const double s = static_cast<double>(source_length), t = static_cast<double>(target_length);
  if (s / t > config.max_ratio || t / s > config.max_ratio) return "ratio";
  return nullptr;
}

ParallelCorpus read_parallel_corpus(const std::string& source_path, const std::string& target_path,
                                    const Vocabulary& source_vocabulary, const Vocabulary& target_vocabulary,
                                    const CleanConfig& config, CorpusStats& stats) {
  LineReader source(source_path), target(target_path);
  ParallelCorpus corpus;
  std::vector<std::uint32_t> source_ids, target_ids;
  std::string_view source_line, target_line;
  std::uint64_t source_unknown = 0, target_unknown = 0;
  for (;;) {
    const bool has_source = source.next(source_line), has_target = target.next(target_line);
    if (has_source != has_target) counts_differ(source, target);
    if (!has_source) break;
    check_utf8(source_line, source);
    check_utf8(target_line, target);
    std::uint64_t su = 0, tu = 0;
    line_to_ids(source_line, source_vocabulary, source_ids, su);
    line_to_ids(target_line, target_vocabulary, target_ids, tu);
    const std::string_view reason = [&] {
      const char* r = drop_reason(source_ids.size(), target_ids.size(), config);
      return r ? std::string_view(r) : std::string_view();
    }();
    if (reason == "empty") ++stats.empty;
    else if (reason == "too short") ++stats.too_short;
    else if (reason == "too long") ++stats.too_long;
    else if (reason == "ratio") ++stats.bad_ratio;
    if (reason.empty()) {
      corpus.source.add(source_ids);
      corpus.target.add(target_ids);
      corpus.lines.push_back(stats.pairs);
      source_unknown += su;
      target_unknown += tu;
    }
    ++stats.pairs;
  }
  stats.kept = corpus.size();
  stats.source_tokens = corpus.source.tokens.size();
  stats.target_tokens = corpus.target.tokens.size();
  stats.source_unknown = source_unknown;
  stats.target_unknown = target_unknown;
  return corpus;
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
