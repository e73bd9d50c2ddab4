#include "tfm/text/nonbreaking_prefixes.h"

#include <fstream>
#include <sstream>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"

namespace tfm {

namespace {

constexpr std::string_view kNumericOnly = "#NUMERIC_ONLY#";

bool is_perl_space_at(std::string_view text, std::size_t pos, std::size_t& length) {
  if (!is_valid_utf8(text.substr(pos, utf8_sequence_length(static_cast<unsigned char>(text[pos])))))
    return false;
  std::size_t end = pos;
  const char32_t cp = decode_utf8(text, end);
  length = end - pos;
  return unicode_is(cp, kPerlSpace);
}

// tokenizer.perl matches /(.*)[\s]+(\#NUMERIC_ONLY\#)/: the greedy (.*) ends
// just before the whitespace character that precedes the last marker that
// has one. Returns the key length, or npos when the line is no such entry.
std::size_t numeric_only_key_length(std::string_view line) {
  for (std::size_t at = line.rfind(kNumericOnly); at != std::string_view::npos && at > 0;
       at = line.rfind(kNumericOnly, at - 1)) {
    // The character before the marker starts at the last non-continuation byte.
    std::size_t start = at - 1;
    while (start > 0 && (static_cast<unsigned char>(line[start]) & 0xC0) == 0x80) --start;
    std::size_t length = 0;
    if (is_perl_space_at(line, start, length) && start + length == at) return start;
  }
  return std::string_view::npos;
}

}  // namespace

void NonbreakingPrefixes::add_line(std::string_view line) {
  if (line.empty() || line == "0" || line.front() == '#') return;  // Perl: false or comment
  const std::size_t key_length = numeric_only_key_length(line);
  if (key_length != std::string_view::npos)
    prefixes_[std::string(line.substr(0, key_length))] = kNumericOnly;
  else
    prefixes_[std::string(line)] = kAlways;
}

NonbreakingPrefixes NonbreakingPrefixes::parse(std::string_view text) {
  NonbreakingPrefixes prefixes;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    prefixes.add_line(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return prefixes;
}

NonbreakingPrefixes NonbreakingPrefixes::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open nonbreaking prefix file", errno);
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw IoError(path, "cannot read nonbreaking prefix file", errno);
  return parse(content.str());
}

std::string NonbreakingPrefixes::builtin_path(const std::string& language) {
  if (language.empty() || language.find_first_of("/.") != std::string::npos) return "";
  try {
    return find_data_file("nonbreaking_prefixes/nonbreaking_prefix." + language);
  } catch (const Error&) {
    return "";
  }
}

NonbreakingPrefixes::Kind NonbreakingPrefixes::find(std::string_view word) const {
  const auto it = prefixes_.find(word);
  return it == prefixes_.end() ? kNotPrefix : it->second;
}

}  // namespace tfm
