// g++ 12 reports a false -Wmaybe-uninitialized inside <regex> at -O1 with
// the sanitizers (make asan); the warning is about library code only.
#if !defined(__clang__)  // clang has no such warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "tfm/text/protected_patterns.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <regex>
#include <utility>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"
#include "regex_size.h"

namespace tfm {

namespace {

std::wstring to_wide(std::string_view utf8) {
  std::wstring wide;
  wide.reserve(utf8.size());
  for (std::size_t pos = 0; pos < utf8.size();) wide.push_back(static_cast<wchar_t>(decode_utf8(utf8, pos)));
  return wide;
}

// tokenizer.perl reads the pattern file without decoding it, so each byte is
// one character (a UTF-8 "é" in a pattern is "Ã©" and matches only that).
std::wstring latin1_to_wide(std::string_view bytes) {
  std::wstring wide;
  for (char c : bytes) wide.push_back(static_cast<wchar_t>(static_cast<unsigned char>(c)));
  return wide;
}

std::string to_utf8(std::wstring_view wide) {
  std::string out;
  for (wchar_t c : wide) append_utf8(out, static_cast<char32_t>(c));
  return out;
}

// Regex traits whose classes are Perl's (\w \d \s and the POSIX classes
// [[:alpha:]] ... on Unicode strings), from the tables in tfm/core/unicode.h;
// everything else is the standard wchar_t behaviour.
class PerlTraits : public std::regex_traits<wchar_t> {
 public:
  PerlTraits() {
    const std::pair<const wchar_t*, std::uint32_t> names[] = {
        {L"w", kPerlWord},    {L"d", kPerlDigit},   {L"s", kPerlSpace},   {L"alpha", kPerlAlpha},
        {L"alnum", kPerlAlnum}, {L"lower", kPerlLower}, {L"upper", kPerlUpper}, {L"punct", kPerlPunct},
        {L"digit", kPerlDigit}, {L"space", kPerlSpace}};
    for (const auto& [name, bits] : names) {
      const std::wstring_view n(name);
      classes_.emplace_back(lookup_classname(n.begin(), n.end()), bits);
    }
  }
  bool isctype(wchar_t c, char_class_type mask) const {
    for (const auto& [known, bits] : classes_)
      if (mask == known) return unicode_is(static_cast<char32_t>(c), bits);
    return std::regex_traits<wchar_t>::isctype(c, mask);
  }

 private:
  std::vector<std::pair<char_class_type, std::uint32_t>> classes_;
};

using PerlRegex = std::basic_regex<wchar_t, PerlTraits>;

// An ASCII character that every match of an ECMAScript pattern contains, or
// "" when we cannot tell: the first literal at the top level that no
// quantifier can skip, in a pattern without top-level alternation. Lines
// without it are not searched (std::regex is slow; most lines hold no URL).
std::string required_literal(std::string_view pattern) {
  std::string first;
  int depth = 0;
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    bool literal = false;
    if (in_class) {  // up to the closing bracket, escapes and [:alpha:] included
      if (c == '\\') {
        ++i;
      } else if (c == '[' && i + 1 < pattern.size() && std::strchr(":.=", pattern[i + 1])) {
        const std::size_t close = pattern.find(std::string{pattern[i + 1], ']'}, i + 2);
        if (close == std::string_view::npos) return "";
        i = close + 1;
      } else {
        in_class = c != ']';
      }
      continue;
    }
    if (c == '\\') {
      const auto next = static_cast<unsigned char>(i + 1 < pattern.size() ? pattern[i + 1] : 'a');
      literal = next < 0x80 && !std::isalnum(next);
      ++i;
    } else if (c == '[') {
      in_class = true;
    } else if (c == '{') {  // a {m,n} quantifier
      const std::size_t close = pattern.find('}', i);
      if (close == std::string_view::npos) return "";
      i = close;
      continue;
    } else if (c == '(' || c == ')') {
      depth += c == '(' ? 1 : -1;
    } else if (c == '|' && depth == 0) {
      return "";
    } else if (!std::strchr(".^$*+?}|", c)) {
      literal = static_cast<unsigned char>(c) < 0x80;  // a byte above is a Latin-1 character
    }
    const bool skippable = i + 1 < pattern.size() && std::strchr("?*{", pattern[i + 1]);
    if (literal && depth == 0 && !skippable && first.empty()) first = std::string(1, pattern[i]);
  }
  return first;
}

}  // namespace

struct ProtectedPatterns::Regexes {
  struct Entry {
    PerlRegex regex;
    std::string required;  // see required_literal
  };
  std::vector<Entry> list;
};

ProtectedPatterns::ProtectedPatterns() : regexes_(std::make_unique<Regexes>()) {}
ProtectedPatterns::~ProtectedPatterns() = default;
ProtectedPatterns::ProtectedPatterns(ProtectedPatterns&&) noexcept = default;
ProtectedPatterns& ProtectedPatterns::operator=(ProtectedPatterns&&) noexcept = default;

bool ProtectedPatterns::empty() const { return !regexes_ || regexes_->list.empty(); }

std::string perl_to_ecmascript(std::string_view perl) {
  // Characters that keep their backslash in ECMAScript; other escaped
  // punctuation (\_ \@ \= \" \' ...) is a plain character in both grammars.
  static constexpr const char* kSyntax = "^$\\.*+?()[]{}|/-";
  std::string out;
  for (std::size_t i = 0; i < perl.size(); ++i) {
    const char c = perl[i];
    if (c == '\\' && i + 1 < perl.size()) {
      const char next = perl[++i];
      const bool punct = !std::isalnum(static_cast<unsigned char>(next)) && next != ' ' &&
                         static_cast<unsigned char>(next) < 0x80;
      if (punct && !std::strchr(kSyntax, next)) {
        out.push_back(next);
        continue;
      }
      if (std::strchr("pPAzZGKhHRXN", next))
        throw Error("unsupported Perl escape \\" + std::string(1, next) + " in pattern '" + std::string(perl) + "'");
      out.push_back('\\');
      out.push_back(next);
      continue;
    }
    if (c == '(' && perl.substr(i, 3) == "(?<") throw Error("look-behind and named groups are not supported: '" + std::string(perl) + "'");
    out.push_back(c);
  }
  return out;
}

void ProtectedPatterns::add(std::string_view perl_pattern) {
  PerlRegex regex;
  const std::string pattern = perl_to_ecmascript(perl_pattern);
  const std::wstring wide = latin1_to_wide(pattern);
  // Perl's possessive a++ never backtracks; std::regex would backtrack without end.
  if (has_repeated_quantifier(wide))
    throw Error("possessive quantifiers (a++, a*+) are not supported: '" + std::string(perl_pattern) + "'");
  if (has_long_backreference(wide))
    throw Error("back-references of more than 5 digits are not supported: '" + std::string(perl_pattern) + "'");
  if (expanded_regex_size(wide) > kMaxExpandedRegexSize)
    throw Error("pattern '" + std::string(perl_pattern) +
                "' has repetition counts too large to compile (over 20000 atoms once expanded)");
  try {
    regex.assign(wide, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw Error("cannot compile pattern '" + std::string(perl_pattern) + "': " + e.what());
  }
  if (!regexes_) regexes_ = std::make_unique<Regexes>();
  regexes_->list.push_back({std::move(regex), required_literal(pattern)});
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
  if (empty()) return;
  std::wstring wide;
  for (const auto& [regex, required] : regexes_->list) {
    if (!required.empty() && text.find(required) == std::string_view::npos) continue;
    if (wide.empty()) wide = to_wide(text);
    auto begin = wide.cbegin();
    std::wsmatch match;
    while (std::regex_search(begin, wide.cend(), match, regex)) {
      if (match.length(0) == 0) break;
      found.push_back(to_utf8(std::wstring_view(&*match[0].first, match.length(0))));
      begin = match[0].second;
    }
  }
}

}  // namespace tfm
