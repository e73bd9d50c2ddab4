// Glossaries for BPE application: words or regular expressions that BPE never
// splits, as subword-nmt's --glossaries. A token equal to a glossary (whole
// match) is kept as one unit; elsewhere each glossary match is cut out of the
// token as its own unit ("1934USABUSA" with "USA" gives 1934 USA B USA).
// Patterns are Python 3 re patterns, run by PCRE2 with Python's meaning
// (tfm/text/regex.h): look-behind, (?P<name>...), \A, \Z and scoped flags
// such as (?i:...) work as in subword-nmt. Some patterns that Python refuses
// are accepted with PCRE2's meaning: \p{..} (Unicode properties), \z, \K,
// and inline flags after the start ("(?i)usa": subword-nmt puts '^' before
// each glossary, so Python 3.11 refuses every global flag there).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tfm/text/regex.h"

namespace tfm {

class BpeGlossaries {
 public:
  // Throws UsageError for a pattern that is not a valid regular expression.
  explicit BpeGlossaries(const std::vector<std::string>& patterns);
  bool empty() const { return patterns_.empty(); }
  // Whether `word` as a whole matches one of the glossaries. This and
  // isolate throw Error naming the glossary when PCRE2 gives up on `word`.
  bool matches(std::string_view word) const;
  // The pieces of `word` with every glossary isolated, in subword-nmt's
  // order (glossaries applied one after another); `word` itself if none occurs.
  std::vector<std::string> isolate(const std::string& word) const;

 private:
  // The regexes subword-nmt builds from a glossary g: re.match('^'+g+'$'),
  // re.search(g) and re.split('('+g+')').
  struct Pattern {
    std::string text;  // as given, for messages
    Regex whole, anywhere, split;
  };
  std::vector<std::string> isolate_one(const std::string& word, const Pattern& pattern) const;
  std::vector<Pattern> patterns_;
  std::string any_whole_text_;
  std::optional<Regex> any_whole_;  // '^(g1|g2|...)$' with re.match
};

}  // namespace tfm
