// libstdc++ 12's <regex> trips -Wmaybe-uninitialized under -O1 with the
// sanitizers (make asan): a false positive inside the library's own code.
#if !defined(__clang__)  // clang has no such warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "tfm/text/bpe_glossary.h"

#include "tfm/core/error.h"
#include "tfm/core/utf8.h"
#include "regex_size.h"

#include <locale>
#include <stdexcept>

namespace tfm {

namespace {

std::wstring widen(std::string_view text) {
  std::wstring out;
  for (std::size_t pos = 0; pos < text.size();) out.push_back(static_cast<wchar_t>(decode_utf8(text, pos)));
  return out;
}

std::string narrow(std::wstring_view text) {
  std::string out;
  for (const wchar_t c : text) append_utf8(out, static_cast<char32_t>(c));
  return out;
}

// Character classes (\\w, \\d, [[:alpha:]]) follow Unicode, as Python's do,
// when the C.UTF-8 locale exists (glibc has it built in); else ASCII.
std::locale unicode_locale() {
  try {
    return std::locale("C.UTF-8");
  } catch (const std::runtime_error&) {
    return std::locale::classic();
  }
}

std::wregex compile(const std::wstring& pattern, const std::string& shown) {
  static const std::locale locale = unicode_locale();
  if (has_repeated_quantifier(pattern))
    throw UsageError("glossary regex '" + shown + "' repeats a repetition (a++, a*+: 'multiple repeat' in Python)");
  if (has_long_backreference(pattern))
    throw UsageError("glossary regex '" + shown + "' has a back-reference of more than 5 digits");
  if (expanded_regex_size(pattern) > kMaxExpandedRegexSize)
    throw UsageError("glossary regex '" + shown +
                     "' has repetition counts too large to compile (over 20000 atoms once expanded)");
  try {
    std::wregex regex;
    regex.imbue(locale);
    regex.assign(pattern, std::regex::ECMAScript);
    return regex;
  } catch (const std::regex_error& e) {
    throw UsageError("invalid glossary regex '" + shown + "': " + e.what());
  }
}

}  // namespace

BpeGlossaries::BpeGlossaries(const std::vector<std::string>& patterns) {
  std::wstring all;
  for (const std::string& text : patterns) {
    if (!is_valid_utf8(text)) throw UsageError("glossary '" + text + "' is not valid UTF-8");
    const std::wstring p = widen(text);
    // The same pattern strings subword-nmt builds: '^'+g+'$', g and '('+g+')'.
    patterns_.push_back(Pattern{compile(L"^" + p + L"$", text), compile(p, text), compile(L"(" + p + L")", text)});
    all += (all.empty() ? L"" : L"|") + p;
  }
  if (!patterns.empty()) any_whole_ = compile(L"^(" + all + L")$", "^(" + narrow(all) + ")$");
}

bool BpeGlossaries::matches(std::string_view word) const {
  return !patterns_.empty() && std::regex_search(widen(word), any_whole_, std::regex_constants::match_continuous);
}

std::vector<std::string> BpeGlossaries::isolate(const std::string& word) const {
  std::vector<std::string> segments{word};
  for (const Pattern& pattern : patterns_) {
    std::vector<std::string> next;
    for (const std::string& segment : segments)
      for (std::string& piece : isolate_one(segment, pattern)) next.push_back(std::move(piece));
    segments = std::move(next);
  }
  return segments;
}

// re.split with the glossary as a capturing group; empty pieces dropped.
std::vector<std::string> BpeGlossaries::isolate_one(const std::string& word, const Pattern& pattern) const {
  const std::wstring wide = widen(word);
  // re.match: only at the start, so '^a|b$' means "starts with a, or is b".
  if (std::regex_search(wide, pattern.whole, std::regex_constants::match_continuous) ||
      !std::regex_search(wide, pattern.anywhere))
    return {word};
  std::vector<std::string> pieces;
  std::size_t done = 0;
  for (std::wsregex_iterator it(wide.begin(), wide.end(), pattern.split), end; it != end; ++it) {
    const auto& match = *it;
    const auto start = static_cast<std::size_t>(match.position(0));
    if (start > done) pieces.push_back(narrow(std::wstring_view(wide).substr(done, start - done)));
    for (std::size_t g = 1; g < match.size(); ++g)
      if (match[g].matched && match[g].length() > 0) pieces.push_back(narrow(match[g].str()));
    done = start + static_cast<std::size_t>(match.length(0));
  }
  if (done < wide.size()) pieces.push_back(narrow(std::wstring_view(wide).substr(done)));
  return pieces;
}

}  // namespace tfm
