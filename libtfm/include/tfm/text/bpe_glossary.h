// Glossaries for BPE application: words or regular expressions that BPE never
// splits, as subword-nmt's --glossaries. A token equal to a glossary (whole
// match) is kept as one unit; elsewhere each glossary match is cut out of the
// token as its own unit ("1934USABUSA" with "USA" gives 1934 USA B USA).
// Patterns use ECMAScript regex syntax on code points, which agrees with
// Python's re for literals, classes (Unicode through the C.UTF-8 locale),
// groups, alternation and repetition; Python's lookbehind, named groups and
// inline flags are not available.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

class BpeGlossaries {
 public:
  // Throws UsageError for a pattern that is not a valid regular expression.
  explicit BpeGlossaries(const std::vector<std::string>& patterns);
  bool empty() const { return patterns_.empty(); }
  // Whether `word` as a whole matches one of the glossaries.
  bool matches(std::string_view word) const;
  // The pieces of `word` with every glossary isolated, in subword-nmt's
  // order (glossaries applied one after another); `word` itself if none occurs.
  std::vector<std::string> isolate(const std::string& word) const;

 private:
  struct Pattern {
    std::wregex whole, anywhere, split;
  };
  std::vector<std::string> isolate_one(const std::string& word, const Pattern& pattern) const;
  std::vector<Pattern> patterns_;
  std::wregex any_whole_;
};

}  // namespace tfm
