#include "tfm/data/vocabulary.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/core/flat_map.h"
#include "tfm/core/line_io.h"
#include "tfm/core/utf8.h"

namespace tfm {

Vocabulary::Vocabulary() {
  for (const auto& token : kSpecialTokens) add(std::string(token), "", 0);
}

Vocabulary::Vocabulary(std::vector<std::string> tokens, const std::string& source) {
  if (tokens.size() < kSpecialTokens.size() || !std::equal(kSpecialTokens.begin(), kSpecialTokens.end(), tokens.begin()))
    throw Error(fmt::format("{}: vocabulary does not start with <pad> <unk> <s> </s>", source));
  for (auto& token : tokens) add(std::move(token), source, 0);
}

const std::uint32_t* Vocabulary::find(std::string_view token) const {
  return ids_.find_if(string_key<std::uint32_t>(token), [&](std::uint32_t id) { return tokens_[id] == token; });
}

void Vocabulary::add(std::string token, const std::string& source, std::size_t line) {
  if (find(token)) {
    const std::string message = fmt::format("token '{}' is listed twice", token);
    if (line > 0) throw InputError(source, line, message);
    throw Error(fmt::format("{}: vocabulary {}", source, message));
  }
  ids_.insert(string_key<std::uint32_t>(token), static_cast<std::uint32_t>(tokens_.size()));
  tokens_.push_back(std::move(token));
}

bool Vocabulary::contains(std::string_view token) const { return find(token) != nullptr; }

Vocabulary Vocabulary::from_counts(const std::string& path, std::uint64_t min_count) {
  Vocabulary vocabulary;
  LineReader reader(path);
  std::string_view line;
  while (reader.next(line)) {
    const std::size_t n = reader.line_number();
    if (const auto bad = find_invalid_utf8(line); bad != std::string_view::npos)
      throw InputError(path, n, fmt::format("invalid UTF-8 at byte {}", bad + 1));
    const std::size_t space = line.rfind(' ');
    if (space == std::string_view::npos || space == 0)
      throw InputError(path, n, "expected 'token count', found no count");
    const std::string_view count_text = line.substr(space + 1);
    std::uint64_t count = 0;
    const auto [end, error] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
    if (error != std::errc() || end != count_text.data() + count_text.size() || count_text.empty())
      throw InputError(path, n, fmt::format("expected 'token count', found count '{}'", count_text));
    const std::string_view token = line.substr(0, space);
    if (count < min_count || std::find(kSpecialTokens.begin(), kSpecialTokens.end(), token) != kSpecialTokens.end())
      continue;
    vocabulary.add(std::string(token), path, n);
  }
  return vocabulary;
}

void Vocabulary::save(hdf5::Group& group, const std::string& name) const {
  group.write_strings(name, tokens_, hdf5::compressed(1 << 14, 4));
}

Vocabulary Vocabulary::load(const hdf5::Group& group, const std::string& name) {
  return Vocabulary(group.read_strings(name), fmt::format("{}: '{}'", group.file(), name));
}

std::uint32_t Vocabulary::id(std::string_view token) const {
  const std::uint32_t* id = find(token);
  return id ? *id : kUnkId;
}

}  // namespace tfm
