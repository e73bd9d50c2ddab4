#include "tfm/text/protected_patterns.h"

#include <cerrno>
#include <fstream>

#include "tfm/core/error.h"
#include "tfm/core/utf8.h"

namespace tfm {

namespace {

// tokenizer.perl reads the pattern file without decoding it, so each byte is
// one character (a UTF-8 "é" in a pattern is "Ã©" and matches only that).
std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  for (char c : bytes) append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

// tokenizer.perl's loop for one pattern:
//   while ($t =~ /(?<PATTERN>$p)(?<TAIL>.*)$/) { push @protected, $+{PATTERN}; $t = $+{TAIL}; }
void find_one(const Regex& regex, std::string_view text, std::vector<std::string>& found) {
  RegexMatch match(regex);
  std::string_view tail = text;
  while (regex.search(tail, 0, match)) {
    if (match.end(1) == match.begin(1)) break;
    found.emplace_back(tail.substr(match.begin(1), match.end(1) - match.begin(1)));
    // $t = $+{TAIL}: the first group of that name that took part; none
    // (a pattern such as "a)|(b") leaves Perl an empty string.
    const std::size_t group = match.named_group("TAIL");
    if (group == 0) break;
    const std::size_t length = match.end(group) - match.begin(group);
    if (length >= tail.size()) break;  // a TAIL of the pattern's own that does not shrink: Perl loops
    tail = tail.substr(match.begin(group), length);
  }
}

}  // namespace

void ProtectedPatterns::add(std::string_view perl_pattern) {
  // tokenizer.perl's own match, the pattern spliced in as text.
  const std::string wrapped = "(?<PATTERN>" + latin1_to_utf8(perl_pattern) + ")(?<TAIL>.*)$";
  try {
    patterns_.push_back(Pattern{std::string(perl_pattern), Regex(wrapped, RegexDialect::kPerl)});
  } catch (const Error& e) {
    throw Error("cannot compile pattern '" + std::string(perl_pattern) + "': " + e.what());
  }
}

ProtectedPatterns ProtectedPatterns::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open protected patterns file", errno);
  ProtectedPatterns patterns;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    try {
      patterns.add(line);
    } catch (const Error& e) {
      throw InputError(path, number, e.what());
    }
  }
  if (in.bad()) throw IoError(path, "cannot read protected patterns file", errno);
  return patterns;
}

void ProtectedPatterns::find_all(std::string_view text, std::vector<std::string>& found) const {
  for (const auto& [pattern, regex] : patterns_) {
    try {
      find_one(regex, text, found);
    } catch (const Error& e) {
      throw Error("protected pattern '" + pattern + "': " + e.what());
    }
  }
}

}  // namespace tfm
