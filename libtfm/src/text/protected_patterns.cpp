// g++ 12 reports a false -Wmaybe-uninitialized inside <regex> at -O1 with
// the sanitizers (make asan); the warning is about library code only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "tfm/text/protected_patterns.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <regex>

#include "tfm/core/error.h"
#include "tfm/core/utf8.h"

namespace tfm {

namespace {

std::wstring to_wide(std::string_view utf8) {
  std::wstring wide;
  wide.reserve(utf8.size());
  for (std::size_t pos = 0; pos < utf8.size();) wide.push_back(static_cast<wchar_t>(decode_utf8(utf8, pos)));
  return wide;
}

std::string to_utf8(std::wstring_view wide) {
  std::string out;
  for (wchar_t c : wide) append_utf8(out, static_cast<char32_t>(c));
  return out;
}

std::locale unicode_locale() {
  try {
    return std::locale("C.UTF-8");
  } catch (const std::runtime_error&) {
    return std::locale::classic();
  }
}

}  // namespace

struct ProtectedPatterns::Regexes {
  std::vector<std::wregex> list;
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
  static const std::locale locale = unicode_locale();
  std::wregex regex;
  regex.imbue(locale);
  try {
    regex.assign(to_wide(perl_to_ecmascript(perl_pattern)), std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw Error("cannot compile pattern '" + std::string(perl_pattern) + "': " + e.what());
  }
  if (!regexes_) regexes_ = std::make_unique<Regexes>();
  regexes_->list.push_back(std::move(regex));
}

ProtectedPatterns ProtectedPatterns::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open protected patterns file", errno);
  ProtectedPatterns patterns;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    if (!is_valid_utf8(line)) throw InputError(path, number, "invalid UTF-8");
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
  const std::wstring wide = to_wide(text);
  if (empty()) return;
  for (const auto& regex : regexes_->list) {
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
