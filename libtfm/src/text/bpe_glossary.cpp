#include "tfm/text/bpe_glossary.h"

#include "tfm/core/error.h"
#include "tfm/core/utf8.h"

namespace tfm {

namespace {

Regex compile(const std::string& pattern, const std::string& shown, Regex::Anchor anchor) {
  try {
    return Regex(pattern, RegexDialect::kPython, anchor);
  } catch (const Error& e) {
    throw UsageError("invalid glossary regex '" + shown + "': " + e.what());
  }
}

// A search that names the glossary when PCRE2 gives up (its match limit).
bool search(const Regex& regex, std::string_view glossary, std::string_view word, std::size_t start,
            RegexMatch& match, std::uint32_t flags = 0) {
  try {
    return regex.search(word, start, match, flags);
  } catch (const Error& e) {
    throw Error("glossary '" + std::string(glossary) + "': " + e.what());
  }
}

}  // namespace

BpeGlossaries::BpeGlossaries(const std::vector<std::string>& patterns) {
  std::string all;
  for (const std::string& glossary : patterns) {
    if (!is_valid_utf8(glossary)) throw UsageError("glossary '" + glossary + "' is not valid UTF-8");
    // The same pattern strings subword-nmt builds, spliced as text.
    patterns_.push_back(Pattern{glossary, compile("^" + glossary + "$", glossary, Regex::Anchor::kAtStart),
                                compile(glossary, glossary, Regex::Anchor::kAnywhere),
                                compile("(" + glossary + ")", glossary, Regex::Anchor::kAnywhere)});
    all += (all.empty() ? "" : "|") + glossary;
  }
  if (!patterns.empty()) {
    any_whole_text_ = "^(" + all + ")$";
    any_whole_.emplace(compile(any_whole_text_, any_whole_text_, Regex::Anchor::kAtStart));
  }
}

bool BpeGlossaries::matches(std::string_view word) const {
  if (!any_whole_) return false;
  RegexMatch match(*any_whole_);
  return search(*any_whole_, any_whole_text_, word, 0, match);
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
  RegexMatch whole(pattern.whole), anywhere(pattern.anywhere);
  if (search(pattern.whole, pattern.text, word, 0, whole) || !search(pattern.anywhere, pattern.text, word, 0, anywhere))
    return {word};
  std::vector<std::string> pieces;
  RegexMatch match(pattern.split);
  const std::size_t groups = pattern.split.group_count();
  std::size_t done = 0, from = 0;
  std::uint32_t flags = 0;
  // Python 3.7+: after an empty match the next one may not be empty there.
  while (from <= word.size() && search(pattern.split, pattern.text, word, from, match, flags)) {
    const std::size_t begin = match.begin(0), end = match.end(0);
    if (begin > done) pieces.push_back(word.substr(done, begin - done));
    for (std::size_t g = 1; g <= groups; ++g)
      if (match.begin(g) != RegexMatch::kUnset && match.end(g) > match.begin(g))
        pieces.push_back(word.substr(match.begin(g), match.end(g) - match.begin(g)));
    done = end;
    from = end;
    flags = begin == end ? Regex::kNotEmptyAtStart : 0u;
  }
  if (done < word.size()) pieces.push_back(word.substr(done));
  return pieces;
}

}  // namespace tfm
