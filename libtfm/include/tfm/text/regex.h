// Perl and Python regular expressions, run by PCRE2 (8-bit, UTF-8 with
// Unicode properties, JIT-compiled when the platform allows it). The text
// module owns this: protected patterns (Perl, tokenizer.perl -protected) and
// BPE glossaries (Python's re, subword-nmt --glossaries) compile through it.
//
// PCRE2's syntax is Perl's, so most of a pattern reaches PCRE2 unchanged;
// to_pcre2 rewrites only what the dialects mean differently on Unicode text:
//   both     {,n} means {0,n} (Perl 5.34+, Python), not a literal.
//   Perl     \w \W \s \S \h \H \b \B and the POSIX classes [[:alpha:]] ...
//            are Perl's Unicode ones (\w includes combining marks, \s is
//            White_Space without U+180E...), spelled as PCRE2 properties;
//            escaped letters Perl passes through (\Q \E \U \L \u \l \i ...,
//            which reach its regex compiler from an interpolated string
//            unprocessed) are the plain letters.
//   Python   \s \S are str.isspace() (with U+001C..U+001F); \Z is the very
//            end (PCRE2's \z); \uXXXX and \UXXXXXXXX are code points; '['
//            inside a class is a plain character (no POSIX classes). \w \d
//            \b are PCRE2's Unicode ones already, which are Python's.
// Known differences that remain: case-insensitive matching folds one code
// point to one (Perl's (?i) also matches "ß" to "ss"); under (?i) Perl's
// \p{Lu} matches any cased letter, PCRE2's only upper case letters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tfm {

enum class RegexDialect { kPerl, kPython };

// The PCRE2 pattern with the meaning `pattern` has in `dialect` (see above).
// `pattern` is UTF-8.
std::string to_pcre2(std::string_view pattern, RegexDialect dialect);

class RegexMatch;

// A compiled pattern. Safe to share between threads: each thread searches
// with its own RegexMatch.
class Regex {
 public:
  enum class Anchor { kAnywhere, kAtStart };
  // Compiles `pattern` (UTF-8) of `dialect`; kAtStart matches only at the
  // search's start, as Python's re.match. Throws Error with PCRE2's message
  // for a bad pattern.
  Regex(std::string_view pattern, RegexDialect dialect, Anchor anchor = Anchor::kAnywhere);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  enum SearchFlags : std::uint32_t {
    kNotEmptyAtStart = 1u << 0,  // no empty match at `start` (Python's finditer after an empty match)
  };
  // Searches `subject` (valid UTF-8; look-behind and ^ see it from its first
  // byte) from byte `start`; the groups of a match go to `match`. Throws
  // Error when PCRE2 gives up (its match limit).
  bool search(std::string_view subject, std::size_t start, RegexMatch& match, std::uint32_t flags = 0) const;
  // Number of capturing groups in the pattern.
  std::size_t group_count() const;

 private:
  friend class RegexMatch;
  struct Code;  // pcre2.h stays out of this header
  Code* code_ = nullptr;
};

// The groups of a Regex's last match, as byte offsets into its subject.
class RegexMatch {
 public:
  static constexpr std::size_t kUnset = static_cast<std::size_t>(-1);
  explicit RegexMatch(const Regex& regex);
  ~RegexMatch();
  RegexMatch(const RegexMatch&) = delete;
  RegexMatch& operator=(const RegexMatch&) = delete;

  // kUnset for a group that did not take part in the match.
  std::size_t begin(std::size_t group) const;
  std::size_t end(std::size_t group) const;
  // The first group named `name` that took part in the match; 0 if none.
  std::size_t named_group(std::string_view name) const;

 private:
  friend class Regex;
  const Regex& regex_;
  void* data_;  // pcre2_match_data
};

}  // namespace tfm
