// Protected patterns for the tokenizer (tokenizer.perl -protected FILE): Perl
// regular expressions, one a line, whose matches are kept whole as tokens
// (URLs, e-mail addresses, XML tags).
//
// Patterns run on std::regex (ECMAScript grammar) over code points, after a
// light translation of Perl syntax: escaped punctuation such as \_ \@ \= \" \'
// becomes the plain character. This covers Moses' basic-protected-patterns
// and the usual hand-written files: literals, . [...] [^...] \w \W \s \S \d
// \D \b, groups, (?:...), alternation, greedy and lazy quantifiers, {m,n},
// ^ $ and look-ahead. Not supported (rejected with an error naming the file
// and line): look-behind, named groups, \p{...}, \A \z \G \K, inline
// modifiers such as (?i). \w \d \s and [[:alpha:]]-style classes are Perl's
// Unicode ones (tfm/core/unicode.h); \b uses \w. Like tokenizer.perl, which
// does not decode the file, each byte of a pattern is one character: a
// non-ASCII literal matches only its Latin-1 reading ("é" matches "Ã©").
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

class ProtectedPatterns {
 public:
  ProtectedPatterns();
  ~ProtectedPatterns();
  ProtectedPatterns(ProtectedPatterns&&) noexcept;
  ProtectedPatterns& operator=(ProtectedPatterns&&) noexcept;

  // Reads a pattern file (bytes, see above); empty lines are skipped. Throws
  // IoError, and InputError(path, line, ...) for a pattern we cannot compile.
  static ProtectedPatterns load(const std::string& path);

  // Adds one Perl pattern (bytes). Throws Error when it cannot be compiled.
  void add(std::string_view perl_pattern);
  bool empty() const;

  // Appends to `found` every match in `text` (valid UTF-8), pattern after
  // pattern, each scanning left to right from the end of its previous match,
  // as tokenizer.perl collects them. A pattern matching the empty string (on
  // which Perl loops forever) stops at its first empty match.
  void find_all(std::string_view text, std::vector<std::string>& found) const;

 private:
  struct Regexes;  // std::regex stays out of this header
  std::unique_ptr<Regexes> regexes_;
};

// The ECMAScript form of a Perl pattern (exposed for tests).
std::string perl_to_ecmascript(std::string_view perl_pattern);

}  // namespace tfm
