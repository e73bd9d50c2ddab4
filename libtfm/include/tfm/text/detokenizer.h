// Moses-compatible detokenizer: joins the tokens of tokenizer.perl's output
// back into running text, byte for byte as Moses'
// scripts/tokenizer/detokenizer.perl does (Perl 5.36's Unicode classes):
//  - " @-@ " (aggressive hyphen splitting) becomes "-";
//  - the tokenizer's escapes are undone (&amp; &#124; &lt; &gt; &apos; &quot;
//    &#91; &#93;, and the legacy &bar; &bra; &ket;);
//  - currency signs and ( [ { ¿ ¡ attach to the next token, , . ? ! : ; \ % } ] )
//    to the previous one (French puts a space before ? ! : ; \ %);
//  - straight and „ “ ` quotes alternate opening/closing within a line;
//  - CJK tokens are joined without spaces (not for Korean, "ko");
//  - English contractions ('s, 're), French/Italian elisions (l' homme),
//    Czech decimals (3 , 5) and "-li", Finnish case suffixes (EU : n) are
//    rejoined;
//  - optionally the first letter is upper-cased.
// With `penn` (English only) the input is taken as Penn-Treebank-style tokens
// (tokenizer.perl -penn): -LRB- and friends become brackets, `` '' ` ' become
// straight quotes, split forms (ca n't, gon na, can not) are merged, and the
// CJK, quote-pairing and language rules are off.
// Lines that are blank (only Perl \s) or look like one XML tag (<...>) are
// copied unchanged. Like the Perl script this is not the inverse of the
// tokenizer: URLs stay split, "+ 7" stays apart, and so on.
#pragma once

#include <string>
#include <string_view>

namespace tfm {

class AtomicFile;
class LineReader;
struct LineFilterOptions;
namespace detail {
class WordJoiner;
}

struct DetokenizerConfig {
  // ISO code as given to detokenizer.perl -l; cs, en, fi, fr, it have rules,
  // ko only keeps CJK tokens apart, anything else gets the generic rules.
  std::string language = "en";
  // -u: upper-case (Perl uc) the first letter after leading punctuation/space.
  bool uppercase_first = false;
  // -penn: Penn Treebank conventions; only for English.
  bool penn = false;
};

class Detokenizer {
 public:
  // Throws UsageError for `penn` with a language other than en.
  explicit Detokenizer(DetokenizerConfig config);

  // Writes the detokenized `line` (valid UTF-8, without its '\n') into `out`,
  // replacing its content, without a trailing '\n'. Safe to call from several
  // threads at once.
  void detokenize(std::string_view line, std::string& out) const;

  // Whether detokenizer.perl prints `line` as it is: blank or a tag line.
  static bool copies_as_is(std::string_view line);

  // Whether detokenizer.perl has rules of its own for `language` (cs, en, fi,
  // fr, it); it warns for any other.
  static bool has_builtin_rules(std::string_view language);

  const DetokenizerConfig& config() const { return config_; }

 private:
  DetokenizerConfig config_;
  // The language tests of the Perl script, decided once.
  bool english_, french_, italian_, czech_, finnish_, korean_;
  friend class detail::WordJoiner;
};

// Detokenizes every line of `reader` into `out` in input order (in
// parallel per `options`, same output for any thread count). A line of
// invalid UTF-8 throws InputError `<file>:<line>: invalid UTF-8`, unless
// `replace_invalid`, which turns each bad sequence into U+FFFD first. A last
// line without '\n' that is copied as it is stays without one, as in Perl.
void detokenize_lines(LineReader& reader, AtomicFile& out, const Detokenizer& detokenizer,
                      const LineFilterOptions& options, bool replace_invalid);

}  // namespace tfm
