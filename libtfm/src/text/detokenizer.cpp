#include "tfm/text/detokenizer.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/parallel.h"
#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"

namespace tfm {

namespace {

// --- code points of a word (words are valid UTF-8) ---

char32_t first_code_point(std::string_view word) {
  std::size_t pos = 0;
  return decode_utf8(word, pos);
}

char32_t last_code_point(std::string_view word) {
  std::size_t pos = word.size() - 1;
  while (pos > 0 && (static_cast<unsigned char>(word[pos]) & 0xC0) == 0x80) --pos;
  return decode_utf8(word, pos);
}

template <typename Predicate>
bool all_code_points(std::string_view word, Predicate predicate) {
  if (word.empty()) return false;
  for (std::size_t pos = 0; pos < word.size();)
    if (!predicate(decode_utf8(word, pos))) return false;
  return true;
}

bool starts_with(std::string_view word, std::uint32_t class_mask) {
  return !word.empty() && unicode_is(first_code_point(word), class_mask);
}

bool ends_with(std::string_view word, std::uint32_t class_mask) {
  return !word.empty() && unicode_is(last_code_point(word), class_mask);
}

// The script's charIsCJK: Hangul Jamo, CJK radicals to Yi, Phags-pa, Hangul
// syllables, compatibility ideographs and forms, half-width Katakana/Hangul,
// the Supplementary Ideographic Plane.
bool is_cjk(char32_t cp) {
  static constexpr std::array<std::pair<char32_t, char32_t>, 8> kRanges = {{
      {0x1100, 0x11FF}, {0x2E80, 0xA4CF}, {0xA840, 0xA87F}, {0xAC00, 0xD7AF},
      {0xF900, 0xFAFF}, {0xFE30, 0xFE4F}, {0xFF65, 0xFFDC}, {0x20000, 0x2FFFF},
  }};
  return std::any_of(kRanges.begin(), kRanges.end(),
                     [cp](const auto& r) { return cp >= r.first && cp <= r.second; });
}

bool starts_with_cjk(std::string_view word) { return !word.empty() && is_cjk(first_code_point(word)); }
bool ends_with_cjk(std::string_view word) { return !word.empty() && is_cjk(last_code_point(word)); }

bool one_of(char32_t cp, std::u32string_view set) { return set.find(cp) != set.npos; }

// The ASCII members of the punctuation sets below, looked up in one step
// (nearly every word starts with ASCII).
enum AsciiPunct : std::uint8_t { kOpening = 1, kClosing = 2, kQuote = 4 };
constexpr std::array<std::uint8_t, 128> kAsciiPunct = [] {
  std::array<std::uint8_t, 128> table{};
  for (char c : std::string_view("([{$")) table[static_cast<unsigned char>(c)] |= kOpening;
  for (char c : std::string_view(",.?!:;\\%}])")) table[static_cast<unsigned char>(c)] |= kClosing;
  for (char c : std::string_view("'\"`")) table[static_cast<unsigned char>(c)] |= kQuote;
  return table;
}();

// Tokens that attach to the next word: currency and opening brackets.
bool is_opening(char32_t cp) {
  if (cp < 0x80) return kAsciiPunct[cp] & kOpening;
  return one_of(cp, U"\u00BF\u00A1") || unicode_is(cp, kPerlSc);
}
// Tokens that attach to the previous word.
bool is_closing(char32_t cp) { return cp < 0x80 && (kAsciiPunct[cp] & kClosing); }
bool is_quote(char32_t cp) { return cp < 0x80 ? (kAsciiPunct[cp] & kQuote) : one_of(cp, U"\u201E\u201C"); }
bool is_low_or_high_quote(char32_t cp) { return one_of(cp, U"\u201E\u201C\u201D"); }

bool is_ascii_number(std::string_view word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool equals_ignoring_ascii_case(std::string_view a, std::string_view lower) {
  return a.size() == lower.size() &&
         std::equal(a.begin(), a.end(), lower.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == y;
         });
}

// Czech words written with a dash that the tokenizer split: "-li", "e-mail".
bool is_czech_dash_word(std::string_view word) {
  return equals_ignoring_ascii_case(word, "li") ||
         (word.size() >= 4 && equals_ignoring_ascii_case(word.substr(0, 4), "mail"));
}

// A Finnish case ending (plus optional possessive and clitic) written after a
// colon: EU:n, EU:ssa, USA:han.
bool is_finnish_case_suffix(std::string_view word) {
  static constexpr std::string_view kCases[] = {
      "N", "n", "A", "a", "Ä", "ä", "ssa", "Ssa", "ssä", "Ssä", "sta", "stä", "Sta", "Stä",
      "hun", "Hun", "hyn", "Hyn", "han", "Han", "hän", "Hän", "hön", "Hön", "un", "Un", "yn", "Yn",
      "an", "An", "än", "Än", "ön", "Ön", "seen", "Seen", "lla", "Lla", "llä", "Llä", "lta", "Lta",
      "ltä", "Ltä", "lle", "Lle", "ksi", "Ksi", "kse", "Kse", "tta", "Tta", "ine", "Ine"};
  static constexpr std::string_view kPossessives[] = {"ni", "si", "mme", "nne", "nsa"};
  static constexpr std::string_view kClitics[] = {"ko", "kö", "han", "hän", "pa", "pä", "kaan", "kään", "kin"};
  const auto is_clitic_or_empty = [](std::string_view rest) {
    return rest.empty() || std::find(std::begin(kClitics), std::end(kClitics), rest) != std::end(kClitics);
  };
  for (std::string_view case_ending : kCases) {
    if (!word.starts_with(case_ending)) continue;
    const std::string_view rest = word.substr(case_ending.size());
    if (is_clitic_or_empty(rest)) return true;
    for (std::string_view possessive : kPossessives)
      if (rest.starts_with(possessive) && is_clitic_or_empty(rest.substr(possessive.size()))) return true;
  }
  return false;
}

bool is_tag_line(std::string_view line) { return line.size() >= 3 && line.front() == '<' && line.back() == '>'; }

// Blank as Perl's /^\s*$/ sees it; `line` must be valid UTF-8.
bool is_blank_line(std::string_view line) {
  return line.empty() || all_code_points(line, [](char32_t cp) { return unicode_is(cp, kPerlSpace); });
}

// out = text with every `pattern` replaced, left to right without overlaps,
// as Perl's s/pattern/replacement/g.
void replace_all(std::string_view text, std::string_view pattern, std::string_view replacement,
                 std::string& out) {
  out.clear();
  std::size_t from = 0;
  for (std::size_t at; (at = text.find(pattern, from)) != text.npos; from = at + pattern.size()) {
    out.append(text, from, at - from);
    out.append(replacement);
  }
  out.append(text, from);
}

// Same, in place, using `scratch`.
void replace_all(std::string& text, std::string_view pattern, std::string_view replacement,
                 std::string& scratch) {
  if (text.find(pattern) == text.npos) return;
  replace_all(std::string_view(text), pattern, replacement, scratch);
  text.swap(scratch);
}

// A Penn Treebank split form that -penn merges back: `pattern` loses its space
// at `space_at`; the letter at `either_case_at` also matches in upper case
// (the script's [Cc]an not).
struct PennMerge {
  std::string_view pattern;
  std::size_t space_at;
  std::size_t either_case_at;

  bool matches(std::string_view text, std::size_t at) const {
    if (text.size() - at < pattern.size()) return false;
    for (std::size_t k = 0; k < pattern.size(); ++k) {
      const char c = text[at + k];
      if (c != pattern[k] && !(k == either_case_at && c == pattern[k] - 32)) return false;
    }
    return true;
  }
};

void merge_penn_split_forms(std::string& text, std::string& scratch) {
  static constexpr std::size_t kNone = std::string_view::npos;
  static constexpr PennMerge kMerges[] = {
      {" n't ", 0, kNone},   {" N'T ", 0, kNone},  {" can not ", 4, 1}, {" d' ye ", 3, 1},
      {" gim me ", 4, 1},    {" gon na ", 4, 1},   {" got ta ", 4, 1},  {" lem me ", 4, 1},
      {" 't is ", 3, 2},     {" 't was ", 3, 2},   {" wan na ", 4, 1}};
  for (const PennMerge& merge : kMerges) {  // one pass per rule, as the script runs them
    scratch.clear();
    std::size_t from = 0;
    for (std::size_t at = 0; at < text.size();) {
      if (!merge.matches(text, at)) {
        ++at;
        continue;
      }
      scratch.append(text, from, at + merge.space_at - from);
      from = at + merge.space_at + 1;
      at += merge.pattern.size();
    }
    scratch.append(text, from);
    text.swap(scratch);
  }
}

// -LRB- → ( and so on, one bracket after the other as the script does (the
// order matters for "-RRB-LRB-").
void restore_penn_brackets(std::string& text, std::string& scratch) {
  static constexpr std::pair<std::string_view, std::string_view> kBrackets[] = {
      {"-LRB-", "("}, {"-RRB-", ")"}, {"-LSB-", "["}, {"-RSB-", "]"}, {"-LCB-", "{"}, {"-RCB-", "}"}};
  for (const auto& [name, bracket] : kBrackets) replace_all(text, name, bracket, scratch);
}

// Undoes the tokenizer's escapes. The script's eleven substitutions run one
// after another, but their patterns cannot overlap or be formed by an earlier
// replacement, so one left-to-right pass gives the same text.
void unescape(std::string_view text, std::string& out) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&bar;", '|'},  {"&#124;", '|'}, {"&lt;", '<'},  {"&gt;", '>'},   {"&bra;", '['},  {"&ket;", ']'},
      {"&quot;", '"'}, {"&apos;", '\''}, {"&#91;", '['}, {"&#93;", ']'}, {"&amp;", '&'}};
  out.clear();
  std::size_t from = 0;
  for (std::size_t at; (at = text.find('&', from)) != text.npos;) {
    out.append(text, from, at - from);
    const std::string_view rest = text.substr(at);
    const auto* entity = std::find_if(std::begin(kEntities), std::end(kEntities),
                                      [rest](const auto& e) { return rest.starts_with(e.first); });
    if (entity == std::end(kEntities)) {
      out.push_back('&');
      from = at + 1;
    } else {
      out.push_back(entity->second);
      from = at + entity->first.size();
    }
  }
  out.append(text, from);
}

// split(/ /, $text): fields between single spaces, trailing empty ones dropped.
void split_words(std::string_view text, std::vector<std::string_view>& words) {
  words.clear();
  std::size_t from = 0;
  for (std::size_t at = 0; at < text.size(); ++at) {  // words are short: no memchr
    if (text[at] != ' ') continue;
    words.push_back(text.substr(from, at - from));
    from = at + 1;
  }
  words.push_back(text.substr(from));
  while (!words.empty() && words.back().empty()) words.pop_back();
}

// -u: s/^([[:punct:]\s]*)([[:alpha:]])/$1.uc($2)/e. No code point is both
// alphabetic and punctuation or space, so the greedy match needs no backtracking.
void uppercase_first_letter(std::string& text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t start = pos;
    const char32_t cp = decode_utf8(text, pos);
    if (unicode_is(cp, kPerlPunct | kPerlSpace)) continue;
    if (!unicode_is(cp, kPerlAlpha)) return;
    std::string upper;
    append_perl_upper(upper, cp);
    text.replace(start, pos - start, upper);
    return;
  }
}

}  // namespace

namespace detail {

// The script's loop over one line's words. It keeps the text so far, whether
// the next word is preceded by a space ($prependSpace) and how many times each
// kind of quote has been seen. Spaces are collapsed as they are written, which
// is what the script's clean-up (s/ +/ /g, trim) does afterwards.
class WordJoiner {
 public:
  WordJoiner(const Detokenizer& detokenizer, const std::vector<std::string_view>& words, std::string& out)
      : d_(detokenizer), words_(words), out_(out) {}

  void run() {
    for (std::size_t i = 0; i < words_.size(); ++i) i += d_.config_.penn ? join_penn_word(i) : join_word(i);
    if (!out_.empty() && out_.back() == ' ') out_.pop_back();
  }

 private:
  void space() {
    if (!out_.empty() && out_.back() != ' ') out_.push_back(' ');
  }
  // Appends `word` after the pending space, if any; `space_next` is the new
  // $prependSpace.
  void put(std::string_view word, bool space_next) {
    if (space_before_) space();
    out_.append(word);
    space_before_ = space_next;
  }
  // Appends `word` right after the text so far ("left shift").
  void attach(std::string_view word) {
    out_.append(word);
    space_before_ = true;
  }
  std::string_view previous(std::size_t i) const { return i > 0 ? words_[i - 1] : std::string_view(); }

  // Handles words_[i]; returns how many further words it consumed.
  std::size_t join_word(std::size_t i) {
    const std::string_view word = words_[i];
    if (starts_with_cjk(word)) {
      if (ends_with_cjk(previous(i)) && !d_.korean_) attach(word);
      else put(word, true);
    } else if (all_code_points(word, is_opening)) {
      put(word, false);
    } else if (all_code_points(word, is_closing)) {
      if (d_.french_ && word.size() == 1 && std::string_view("?!:;\\%").find(word[0]) != std::string_view::npos)
        space();  // French writes a space before these
      attach(word);
    } else if ((d_.english_ && joins_contraction(i)) || joins_czech_decimal(i)) {
      attach(word);
    } else if (joins_elision(i)) {
      put(word, false);
    } else if (joins_czech_dash(i)) {
      put(word, false);
      out_.append(words_[i + 1]);
      return 1;
    } else if (all_code_points(word, is_quote)) {
      join_quote(i);
    } else if (joins_finnish_suffix(i)) {
      std::string lower;
      for (std::size_t pos = 0; pos < word.size();) append_perl_lower(lower, decode_utf8(word, pos));
      attach(lower);
    } else {
      put(word, true);
    }
    return 0;
  }

  // -penn: brackets and punctuation as above, `` ` '' ' become straight quotes.
  std::size_t join_penn_word(std::size_t i) {
    const std::string_view word = words_[i];
    if (all_code_points(word, is_opening)) put(word, false);
    else if (all_code_points(word, is_closing) || joins_contraction(i)) attach(word);
    else if (word == "`") put("'", false);
    else if (word == "``") put("\"", false);
    else if (word == "'") attach("'");
    else if (word == "''") attach("\"");
    else put(word, true);
    return 0;
  }

  // "don 't", "John 's" (English only, or -penn).
  bool joins_contraction(std::size_t i) const {
    const std::string_view word = words_[i];
    return i > 0 && word.size() > 1 && word[0] == '\'' && starts_with(word.substr(1), kPerlAlpha) &&
           ends_with(words_[i - 1], kPerlAlnum);
  }
  // Czech: "3 , 5" → "3,5".
  bool joins_czech_decimal(std::size_t i) const {
    return d_.czech_ && i > 1 && is_ascii_number(words_[i - 2]) &&
           (words_[i - 1] == "." || words_[i - 1] == ",") && is_ascii_number(words_[i]);
  }
  // French and Italian: "l' homme" → "l'homme".
  bool joins_elision(std::size_t i) const {
    const std::string_view word = words_[i];
    return (d_.french_ || d_.italian_) && i + 2 <= words_.size() && word.size() > 1 &&
           word.back() == '\'' && ends_with(word.substr(0, word.size() - 1), kPerlAlpha) &&
           starts_with(words_[i + 1], kPerlAlpha);
  }
  // Czech: "zda - li" → "zda-li", "e - mail" → "e-mail" (the script wants a
  // fourth word after them).
  bool joins_czech_dash(std::size_t i) const {
    return d_.czech_ && i + 3 < words_.size() && ends_with(words_[i], kPerlAlpha) &&
           (words_[i + 1] == "-" || words_[i + 1] == "\u2013") && is_czech_dash_word(words_[i + 2]);
  }
  // Finnish: "EU : n" → "EU:n". Like Perl's $words[-1], the first word looks
  // at the last one.
  bool joins_finnish_suffix(std::size_t i) const {
    const std::string_view before = i > 0 ? words_[i - 1] : words_.back();
    return d_.finnish_ && !before.empty() && before.back() == ':' && is_finnish_case_suffix(words_[i]);
  }

  // Quotes alternate: an even count opens (attach to the next word), an odd
  // one closes. „ and “ count as ". Czech „ always opens and “ usually closes;
  // English "Jones '" is a possessive and counts for nothing.
  void join_quote(std::size_t i) {
    const std::string_view word = words_[i];
    const std::string_view kind = all_code_points(word, is_low_or_high_quote) ? "\"" : word;
    int& count = quote_count(kind);
    if (d_.czech_ && word == "\u201E") count = 0;
    if (d_.czech_ && word == "\u201C") count = 1;
    if (count % 2 == 1) {
      attach(word);
      ++count;
    } else if (d_.english_ && word == "'" && i > 0 && words_[i - 1].ends_with('s')) {
      attach(word);
    } else {
      put(word, false);
      ++count;
    }
  }
  int& quote_count(std::string_view kind) {
    for (auto& [seen, count] : quote_counts_)
      if (seen == kind) return count;
    return quote_counts_.emplace_back(kind, 0).second;
  }

  const Detokenizer& d_;
  const std::vector<std::string_view>& words_;
  std::string& out_;
  bool space_before_ = true;
  std::vector<std::pair<std::string_view, int>> quote_counts_;
};

}  // namespace detail

Detokenizer::Detokenizer(DetokenizerConfig config)
    : config_(std::move(config)),
      english_(config_.language == "en"),
      french_(config_.language == "fr"),
      italian_(config_.language == "it"),
      czech_(config_.language == "cs"),
      finnish_(config_.language == "fi"),
      korean_(config_.language == "ko") {
  if (config_.penn && !english_) throw UsageError("Penn Treebank detokenization (-penn) is only for English (-l en)");
}

void Detokenizer::detokenize(std::string_view line, std::string& out) const {
  if (is_tag_line(line) || is_blank_line(line)) {
    out.assign(line);
    return;
  }
  thread_local std::string padded, joined, text;
  thread_local std::vector<std::string_view> words;
  padded.assign(" ").append(line).push_back(' ');
  std::string_view current = padded;
  if (line.find('@') != line.npos) {  // std::string::find would stop at every space
    replace_all(current, " @-@ ", "-", joined);
    if (config_.penn) replace_all(joined, " @/@ ", "/", padded);
    current = joined;
  }
  unescape(current, text);
  if (config_.penn) {
    merge_penn_split_forms(text, padded);
    restore_penn_brackets(text, padded);
  }
  split_words(text, words);
  out.clear();
  detail::WordJoiner(*this, words, out).run();
  if (config_.uppercase_first) uppercase_first_letter(out);
}

bool Detokenizer::copies_as_is(std::string_view line) {
  return is_tag_line(line) || (is_valid_utf8(line) && is_blank_line(line));
}

bool Detokenizer::has_builtin_rules(std::string_view language) {
  return language == "cs" || language == "en" || language == "fr" || language == "it" || language == "fi";
}

void detokenize_lines(LineReader& reader, AtomicFile& sink, const Detokenizer& detokenizer,
                      const LineFilterOptions& options, bool replace_invalid) {
  LineFilterOptions filter = options;
  filter.terminate_last_line = [](std::string_view line) { return !Detokenizer::copies_as_is(line); };
  filter_lines(reader, sink, filter, [&](std::string_view line, std::size_t line_number, std::string& out) {
    if (is_valid_utf8(line)) {
      detokenizer.detokenize(line, out);
      return;
    }
    if (!replace_invalid) throw InputError(reader.path(), line_number, "invalid UTF-8");
    detokenizer.detokenize(replace_invalid_utf8(line), out);
  });
}

}  // namespace tfm
