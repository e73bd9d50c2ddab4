// Protected patterns for the tokenizer (tokenizer.perl -protected FILE): Perl
// regular expressions, one a line, whose matches are kept whole as tokens
// (URLs, e-mail addresses, XML tags).
//
// Each pattern runs as tokenizer.perl runs it: placed in
// (?<PATTERN>...)(?<TAIL>.*)$ and matched by PCRE2 with Perl's meaning of
// \w, \s, \b and the POSIX classes (tfm/text/regex.h). So look-behind, named
// groups, \p{..}, \A, \z, \K and inline modifiers work as in Perl, and a \1
// counts PATTERN as group 1, as it does there. Like tokenizer.perl, which does
// not decode the file, each byte of a pattern is one character: a non-ASCII
// literal matches only its Latin-1 reading ("é" matches "Ã©").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tfm/text/regex.h"

namespace tfm {

class ProtectedPatterns {
 public:
  // Reads a pattern file (bytes, see above); empty lines are skipped. Throws
  // IoError, and InputError(path, line, ...) for a pattern PCRE2 refuses.
  static ProtectedPatterns load(const std::string& path);

  // Adds one Perl pattern (bytes). Throws Error when it cannot be compiled.
  void add(std::string_view perl_pattern);
  bool empty() const { return patterns_.empty(); }

  // Appends to `found` every match in `text` (valid UTF-8), pattern after
  // pattern, as tokenizer.perl collects them: each search runs on the TAIL
  // of the previous one as a new string (so ^, \A and look-behind see the
  // tail's start). Where Perl would loop forever, the pattern stops: at its
  // first empty match, or when a TAIL group of its own does not shrink.
  // Throws Error naming the pattern when PCRE2 gives up (its match limit).
  void find_all(std::string_view text, std::vector<std::string>& found) const;

 private:
  struct Pattern {
    std::string text;  // as written, for messages
    Regex regex;
  };
  std::vector<Pattern> patterns_;
};

}  // namespace tfm
