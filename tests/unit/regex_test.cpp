// The regex layer: Perl's and Python's meanings on PCRE2. Class checks run
// over every code point against tfm/core/unicode.h, whose tables come from
// perl 5.36 and Python 3.11 themselves.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"
#include "tfm/text/bpe_glossary.h"
#include "tfm/text/protected_patterns.h"
#include "tfm/text/regex.h"

using namespace tfm;

namespace {

bool whole_match(const Regex& regex, std::string_view text) {
  RegexMatch match(regex);
  return regex.search(text, 0, match) && match.begin(0) == 0 && match.end(0) == text.size();
}

bool matches(std::string_view pattern, RegexDialect dialect, char32_t cp) {
  std::string text;
  append_utf8(text, cp);
  return whole_match(Regex(pattern, dialect), text);
}

// Code points where `pattern` (one character) disagrees with `expected`.
template <typename Expected>
std::vector<char32_t> disagreements(std::string_view pattern, RegexDialect dialect, Expected expected) {
  const Regex regex("\\A(?:" + std::string(pattern) + ")\\z", dialect);
  RegexMatch match(regex);
  std::vector<char32_t> wrong;
  std::string text;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;
    text.clear();
    append_utf8(text, cp);
    if (regex.search(text, 0, match) != expected(cp) && wrong.size() < 5) wrong.push_back(cp);
  }
  return wrong;
}

std::vector<std::string> find_all(const std::vector<std::string>& patterns, std::string_view text) {
  ProtectedPatterns protected_patterns;
  for (const std::string& p : patterns) protected_patterns.add(p);
  std::vector<std::string> found;
  protected_patterns.find_all(text, found);
  return found;
}

}  // namespace

TEST_CASE("Perl's classes are perl 5.36's on every code point") {
  const auto is = [](std::uint32_t bits) { return [bits](char32_t cp) { return unicode_is(cp, bits); }; };
  const auto is_not = [](std::uint32_t bits) { return [bits](char32_t cp) { return !unicode_is(cp, bits); }; };
  const auto perl = RegexDialect::kPerl;
  CHECK(disagreements("\\w", perl, is(kPerlWord)).empty());
  CHECK(disagreements("\\W", perl, is_not(kPerlWord)).empty());
  CHECK(disagreements("\\s", perl, is(kPerlSpace)).empty());
  CHECK(disagreements("\\d", perl, is(kPerlDigit)).empty());
  CHECK(disagreements("[[:alpha:]]", perl, is(kPerlAlpha)).empty());
  CHECK(disagreements("[[:alnum:]]", perl, is(kPerlAlnum)).empty());
  CHECK(disagreements("[[:lower:]]", perl, is(kPerlLower)).empty());
  CHECK(disagreements("[[:upper:]]", perl, is(kPerlUpper)).empty());
  CHECK(disagreements("[[:punct:]]", perl, is(kPerlPunct)).empty());
  // A class holding a complemented set becomes look-aheads or alternatives.
  CHECK(disagreements("[^\\W\\d]", perl, [](char32_t cp) {
          return unicode_is(cp, kPerlWord) && !unicode_is(cp, kPerlDigit);
        }).empty());
  CHECK(disagreements("[\\S\\d-]", perl, [](char32_t cp) {
          return !unicode_is(cp, kPerlSpace) || unicode_is(cp, kPerlDigit) || cp == '-';
        }).empty());
  CHECK(disagreements("\\s", RegexDialect::kPython, is(kPySpace)).empty());
}

TEST_CASE("where PCRE2's Unicode classes differ, each dialect keeps its own") {
  const auto perl = RegexDialect::kPerl, python = RegexDialect::kPython;
  struct Case {
    const char* pattern;
    RegexDialect dialect;
    char32_t cp;
    bool expected;
  };
  const Case cases[] = {
      // Combining acute: a word character in Perl, not in Python (nor PCRE2).
      {"\\w", perl, 0x301, true}, {"[[:word:]]", perl, 0x301, true}, {"\\w", python, 0x301, false},
      // Superscript two: a number, so \w in Python and PCRE2, but not Alphabetic.
      {"\\w", perl, 0xB2, false}, {"\\w", python, 0xB2, true},
      // Circled A: Alphabetic (a symbol), so Perl's \w only.
      {"\\w", perl, 0x24B6, true}, {"\\w", python, 0x24B6, false},
      // Mongolian vowel separator: PCRE2's \s and \h, neither Perl's nor Python's.
      {"\\s", perl, 0x180E, false}, {"\\h", perl, 0x180E, false}, {"\\s", python, 0x180E, false},
      // Unit separator: str.isspace(), so Python's \s only.
      {"\\s", python, 0x1F, true}, {"\\s", perl, 0x1F, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.pattern);
    CAPTURE(static_cast<std::uint32_t>(c.cp));
    CHECK(matches(c.pattern, c.dialect, c.cp) == c.expected);
  }
  // \b follows each dialect's \w: "é" decomposed is one word in Perl.
  const Regex perl_word("\\bcafe\\w\\b", perl), python_word("\\bcafe\\b", python);
  RegexMatch match(perl_word), python_match(python_word);
  CHECK(perl_word.search("a cafe\u0301 b", 0, match));
  CHECK_FALSE(perl_word.search("a cafe\u0301x b", 0, match));
  CHECK(python_word.search("a cafe\u0301 b", 0, python_match));
}

TEST_CASE("to_pcre2 rewrites only what the dialects mean differently") {
  const auto perl = RegexDialect::kPerl, python = RegexDialect::kPython;
  CHECK(to_pcre2("a{,2}b{1,}c{,}\\{,3}", perl) == "a{0,2}b{1,}c{,}\\{,3}");
  CHECK(to_pcre2("x{,12}", python) == "x{0,12}");
  CHECK(to_pcre2("\\Qa.b\\E\\d\\z\\K", perl) == "Qa.bE\\d\\z\\K");  // \Q is not processed inside a variable
  CHECK(to_pcre2("end\\Z\\A", python) == "end\\z\\A");
  CHECK(to_pcre2("\\u00e9\\U0001F600\\u12", python) == "\\x{00e9}\\x{0001F600}\\u12");
  CHECK(to_pcre2("[[:digit:]]", python) == "[\\[:digit:]]");
  CHECK(to_pcre2("[]a][^]b]", perl) == "[\\]a][^\\]b]");
  CHECK(to_pcre2("(?#[\\w)\\x{5b}\\p{Lu}\\c[", perl) == "(?#[\\w)\\x{5b}\\p{Lu}\\c[");
  CHECK(to_pcre2("[\\W^]", perl) == "(?:[^\\p{Alphabetic}\\p{Nd}\\p{M}\\p{Pc}\\p{Join_Control}]|[\\^])");
  CHECK(to_pcre2("[a\\s-z]", perl) == "[a\\p{White_Space}\\-z]");
  CHECK(to_pcre2("[\\w]", python) == "[\\w]");
  // A hyphen next to a set is literal in Perl; PCRE2 would refuse it bare.
  const Regex hyphen("[\\w-.]+", perl);
  CHECK(whole_match(hyphen, "a-b.c"));
  // Python's \Z is the very end; Perl's allows a final newline.
  CHECK_FALSE(whole_match(Regex("a\\Z\n", RegexDialect::kPython), "a\n"));
  CHECK(whole_match(Regex("a\\Z\n", perl), "a\n"));
}

TEST_CASE("Regex: groups, duplicate names, anchoring and empty matches") {
  const Regex dup("(?<x>a)|(?<x>b)", RegexDialect::kPerl);
  RegexMatch match(dup);
  REQUIRE(dup.search("zb", 0, match));
  CHECK(match.named_group("x") == 2);
  CHECK(match.begin(1) == RegexMatch::kUnset);
  CHECK(match.begin(2) == 1);
  CHECK(match.named_group("y") == 0);
  CHECK_THROWS_AS(Regex("(?<x>a)|(?<x>b)", RegexDialect::kPython), Error);
  const Regex anchored("b", RegexDialect::kPython, Regex::Anchor::kAtStart);
  RegexMatch at_start(anchored);
  CHECK_FALSE(anchored.search("ab", 0, at_start));
  CHECK(anchored.search("ab", 1, at_start));
  const Regex star("x*", RegexDialect::kPython);
  RegexMatch empty(star);
  REQUIRE(star.search("ax", 0, empty, Regex::kNotEmptyAtStart));
  CHECK(empty.begin(0) == 1);
  CHECK(empty.end(0) == 2);
  CHECK(star.group_count() == 0);
  CHECK_THROWS_AS(Regex("(", RegexDialect::kPerl), Error);
  CHECK_THROWS_AS(Regex("\\p{InBasicLatin}", RegexDialect::kPerl), Error);
  // Fuzzing: \C matched half a character, and the match then failed on invalid UTF-8.
  CHECK_THROWS_AS(Regex("\\/?\\C", RegexDialect::kPerl), Error);
  CHECK_THROWS_AS(Regex("a\\C", RegexDialect::kPython), Error);
}

TEST_CASE("protected patterns search each TAIL as a new string, as tokenizer.perl") {
  // \A and look-behind see the start of the tail, not of the line.
  CHECK(find_all({"\\A \\w"}, " a b c ") == std::vector<std::string>{" a", " b", " c"});
  CHECK(find_all({"(?<!x)y"}, " xyy ") == std::vector<std::string>{"y"});
  CHECK(find_all({"(?<=x)y"}, " xyxy ") == std::vector<std::string>{"y", "y"});
  // The pattern is group 1 (PATTERN): \1 refers to it, \2 to its own first group.
  CHECK(find_all({"(a)\\1"}, " aa ").empty());
  CHECK(find_all({"(a)\\2"}, " aa ") == std::vector<std::string>{"aa"});
  // $+{TAIL} is the first TAIL group that took part, the pattern's own one.
  CHECK(find_all({"a(?<TAIL>b)"}, " abab ab ") == std::vector<std::string>{"ab"});
  // \K moves the match start, not the PATTERN group.
  CHECK(find_all({"v\\K\\d"}, " v1 ") == std::vector<std::string>{"v1"});
  // Inline flags, \p{..} and \z.
  CHECK(find_all({"(?i)abc", "\\p{Lu}\\p{Ll}+", "\\w+ \\z"}, " ABC Abc xyz ") ==
        std::vector<std::string>{"ABC", "Abc", "Abc", "xyz "});
  // An empty match stops the pattern (Perl would loop forever), and so does
  // a TAIL that does not shrink; an unset TAIL ends the search, as in Perl.
  CHECK(find_all({"x*"}, " xx ").empty());
  CHECK(find_all({"(?<TAIL>a)"}, " aa ") == std::vector<std::string>{"a", "a"});
  CHECK(find_all({"a)|(b"}, " aa ") == std::vector<std::string>{"a"});
  // Backtracking past PCRE2's match limit (Perl would run for hours) is an
  // error naming the pattern.
  CHECK_THROWS_WITH_AS(find_all({"(\\w|\\w\\w)+[-!]"}, " " + std::string(40, 'a') + " "),
                       "protected pattern '(\\w|\\w\\w)+[-!]': PCRE2 gave up: match limit exceeded", Error);
}

TEST_CASE("glossaries accept \\p{..} and scoped flags; bad ones are usage errors") {
  const BpeGlossaries glossaries({"\\p{Lu}{2,}", "(?i:usa)"});
  CHECK(glossaries.matches("ÉTÉ"));
  CHECK(glossaries.isolate("xÉTÉyUsa") == std::vector<std::string>{"x", "ÉTÉ", "y", "Usa"});
  CHECK_THROWS_AS(BpeGlossaries({"\\p{Nope}"}), UsageError);
  CHECK_THROWS_AS(BpeGlossaries({"(?<=a+)b"}), UsageError);
}
