#include "tfm/text/tokenizer.h"

#include <fmt/format.h>

#include <cstring>
#include <utility>
#include <vector>

#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"

namespace tfm {

namespace {

// ---- Code points in UTF-8 text ------------------------------------------

char32_t decode_at(std::string_view text, std::size_t pos, std::size_t& length) {
  std::size_t end = pos;
  const char32_t cp = decode_utf8(text, end);
  length = end - pos;
  return cp;
}

std::size_t char_start_before(std::string_view text, std::size_t pos) {
  do --pos;
  while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80);
  return pos;
}

// ---- One substitution of the script -------------------------------------

// A condition on the character before or after a match; kEnd* also look at
// whether there is a character at all.
struct Cond {
  enum Kind { kNone, kIn, kNotIn, kIs, kIsNot, kEnd, kEndOrNotIn } kind = kNone;
  std::uint32_t classes = 0;  // for kIn, kNotIn, kEndOrNotIn
  char32_t literal = 0;       // for kIs, kIsNot
};

// True when the condition holds at `pos`; `length` gets the character's size.
bool holds(const Cond& cond, std::string_view text, std::size_t pos, std::size_t& length) {
  length = 0;
  if (pos >= text.size()) return cond.kind == Cond::kEnd || cond.kind == Cond::kEndOrNotIn;
  const char32_t cp = decode_at(text, pos, length);
  switch (cond.kind) {
    case Cond::kIn: return unicode_is(cp, cond.classes);
    case Cond::kNotIn:
    case Cond::kEndOrNotIn: return !unicode_is(cp, cond.classes);
    case Cond::kIs: return cp == cond.literal;
    case Cond::kIsNot: return cp != cond.literal;
    default: return false;
  }
}

// s/(BEFORE)MARK(AFTER)/$1REPLACEMENT$2/g, or with (?=AFTER) when the after
// character is not consumed. A kNone condition means no such group.
struct Rule {
  Cond before;
  std::string_view mark;
  Cond after;
  bool consume_after;
  std::string_view replacement;
};

// Applies `rule` to `in`, writing to `out`; returns false (out untouched) when
// nothing matched. Matches are found left to right and never overlap, as in
// Perl: a character consumed by one match cannot start the next.
bool apply(const Rule& rule, const std::string& in, std::string& out) {
  const std::string_view text = in;
  std::size_t pos = 0;  // everything before pos is decided
  bool matched = false;
  for (std::size_t m = text.find(rule.mark); m != std::string_view::npos; m = text.find(rule.mark, m + 1)) {
    if (m < pos) continue;
    std::size_t length = 0;
    if (rule.before.kind != Cond::kNone &&
        (m == pos || !holds(rule.before, text, char_start_before(text, m), length)))
      continue;
    const std::size_t after = m + rule.mark.size();
    if (rule.after.kind != Cond::kNone && !holds(rule.after, text, after, length)) continue;
    if (!matched) out.clear();
    matched = true;
    out.append(text, pos, m - pos);
    out.append(rule.replacement);
    const std::size_t end = after + (rule.consume_after ? length : 0);
    out.append(text, after, end - after);
    pos = end;
    if (pos > m + 1) m = pos - 1;
  }
  if (matched) out.append(text, pos);
  return matched;
}

// Applies a rule in place, using `scratch` as the second buffer.
void substitute(const Rule& rule, std::string& text, std::string& scratch) {
  if (apply(rule, text, scratch)) text.swap(scratch);
}

constexpr Cond in(std::uint32_t classes) { return {Cond::kIn, classes, 0}; }
constexpr Cond not_in(std::uint32_t classes) { return {Cond::kNotIn, classes, 0}; }
constexpr Cond is(char32_t c) { return {Cond::kIs, 0, c}; }
constexpr Cond is_not(char32_t c) { return {Cond::kIsNot, 0, c}; }
constexpr Cond kNoCond{};
constexpr Cond kAtEnd{Cond::kEnd, 0, 0};

// ---- Whitespace ----------------------------------------------------------

// " $line " after s/\s+/ /g and s/[\000-\037]//g (what protected patterns see).
void collapse_spaces_padded(std::string_view line, std::string& out) {
  out.assign(1, ' ');
  bool in_space = true;  // the padding space
  for (std::size_t pos = 0; pos < line.size();) {
    std::size_t length = 0;
    const char32_t cp = decode_at(line, pos, length);
    const bool space = unicode_is(cp, kPerlSpace);
    if (space && !in_space) out.push_back(' ');
    else if (!space && cp >= 0x20) out.append(line, pos, length);
    in_space = space;
    pos += length;
  }
  if (!in_space) out.push_back(' ');
}

// s/ +/ /g; s/^ //; s/ $//.
void squeeze_spaces(std::string& text, std::string& scratch) {
  scratch.clear();
  for (char c : text)
    if (c != ' ' || (!scratch.empty() && scratch.back() != ' ')) scratch.push_back(c);
  if (!scratch.empty() && scratch.back() == ' ') scratch.pop_back();
  text.swap(scratch);
}

// The padded collapse then squeeze_spaces, in one pass: text between runs of
// whitespace, one space apart, control characters deleted.
void normalize_spaces(std::string_view line, std::string& out) {
  out.clear();
  bool pending = false;
  for (std::size_t pos = 0; pos < line.size();) {
    const unsigned char byte = static_cast<unsigned char>(line[pos]);
    if (byte >= 0x21 && byte < 0x7F) {
      if (pending && !out.empty()) out.push_back(' ');
      pending = false;
      out.push_back(static_cast<char>(byte));
      ++pos;
      continue;
    }
    std::size_t length = 0;
    const char32_t cp = decode_at(line, pos, length);
    if (unicode_is(cp, kPerlSpace)) {
      pending = true;
    } else if (cp >= 0x20) {
      if (pending && !out.empty()) out.push_back(' ');
      pending = false;
      out.append(line, pos, length);
    }
    pos += length;
  }
}

void replace_all(std::string& text, std::string_view from, std::string_view to, std::string& scratch) {
  std::size_t at = text.find(from);
  if (at == std::string::npos) return;
  scratch.clear();
  std::size_t pos = 0;
  for (; at != std::string::npos; at = text.find(from, pos)) {
    scratch.append(text, pos, at - pos);
    scratch.append(to);
    pos = at + from.size();
  }
  scratch.append(text, pos);
  text.swap(scratch);
}

std::string protected_marker(std::size_t index) { return fmt::format("THISISPROTECTED{:03d}", index); }

// ---- Runs of periods -----------------------------------------------------

// s/\.([\.]+)/ DOTMULTI$1/g; when not `literal`, also the effect of the loop
// after it: each run of n periods becomes " " + "DOT" x (n-1) + "DOTMULTI",
// plus " " when more text follows.
void mark_runs(std::string& text, std::string& scratch, bool literal) {
  scratch.clear();
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = pos;
    while (end < text.size() && text[end] == '.') ++end;
    if (end - pos < 2) {
      scratch.push_back(text[pos++]);
      continue;
    }
    if (literal) {
      scratch.append(" DOTMULTI").append(end - pos - 1, '.');
    } else {
      scratch.push_back(' ');
      for (std::size_t i = 1; i < end - pos; ++i) scratch.append("DOT");
      scratch.append("DOTMULTI");
      if (end < text.size()) scratch.push_back(' ');
    }
    pos = end;
  }
  text.swap(scratch);
}

// The script's multi-period marking: s/\.([\.]+)/ DOTMULTI$1/g, then a loop
// turning each "DOTMULTI." into "DOTDOTMULTI" (with a space before a
// following non-period). Done step by step when the text itself holds
// "DOTMULTI" (the markers then interact), in one pass otherwise.
void mark_period_runs(std::string& text, std::string& scratch) {
  const bool literal = text.find("DOTMULTI") != std::string::npos;
  if (literal) mark_runs(text, scratch, true);
  else if (text.find("..") != std::string::npos) mark_runs(text, scratch, false);
  if (!literal) return;
  static constexpr Rule kBeforeOther{kNoCond, "DOTMULTI.", is_not('.'), true, "DOTDOTMULTI "};
  static constexpr Rule kBeforePeriod{kNoCond, "DOTMULTI.", kNoCond, false, "DOTDOTMULTI"};
  while (text.find("DOTMULTI.") != std::string::npos) {
    substitute(kBeforeOther, text, scratch);
    substitute(kBeforePeriod, text, scratch);
  }
}

// while (/DOTDOTMULTI/) { s/DOTDOTMULTI/DOTMULTI./g } s/DOTMULTI/./g: each
// "DOT" x m + "MULTI" (m >= 1) becomes m periods.
void restore_period_runs(std::string& text, std::string& scratch) {
  std::size_t at = text.find("MULTI");
  if (at == std::string::npos) return;
  scratch.clear();
  std::size_t pos = 0;
  for (; at != std::string::npos; at = text.find("MULTI", at + 1)) {
    std::size_t dots = 0;
    while (at >= pos + 3 * (dots + 1) && text.compare(at - 3 * (dots + 1), 3, "DOT") == 0) ++dots;
    if (dots == 0) continue;
    scratch.append(text, pos, at - 3 * dots - pos).append(dots, '.');
    pos = at + 5;
  }
  scratch.append(text, pos);
  text.swap(scratch);
}

// ---- Output --------------------------------------------------------------

void escape_into(std::string_view text, std::string& out) {
  for (char c : text) {
    switch (c) {
      case '&': out.append("&amp;"); break;
      case '|': out.append("&#124;"); break;
      case '<': out.append("&lt;"); break;
      case '>': out.append("&gt;"); break;
      case '\'': out.append("&apos;"); break;
      case '"': out.append("&quot;"); break;
      case '[': out.append("&#91;"); break;
      case ']': out.append("&#93;"); break;
      default: out.push_back(c);
    }
  }
}

void lower_case(std::string& text, std::string& scratch) {
  scratch.clear();
  for (std::size_t pos = 0; pos < text.size();) append_perl_lower(scratch, decode_utf8(text, pos));
  text.swap(scratch);
}

bool is_blank(std::string_view line) {
  for (std::size_t pos = 0; pos < line.size();)
    if (!unicode_is(decode_utf8(line, pos), kPerlSpace)) return false;
  return true;
}

// "Â·": tokenizer.perl has no `use utf8`, so its middle dot is these two
// characters (the UTF-8 bytes of "·" read as Latin-1).
constexpr std::string_view kCatalanDot = "\xC3\x82\xC2\xB7";

}  // namespace

struct Tokenizer::Buffers {
  std::string text, scratch;
  std::vector<std::string> protected_text;
};

Tokenizer::Tokenizer(TokenizerConfig config, NonbreakingPrefixes prefixes, ProtectedPatterns protected_patterns)
    : config_(std::move(config)), prefixes_(std::move(prefixes)), protected_(std::move(protected_patterns)) {
  const std::string& l = config_.language;
  apostrophes_ = l == "en"                                           ? Apostrophes::kRight
                 : (l == "fr" || l == "it" || l == "ga" || l == "ca") ? Apostrophes::kLeft
                 : (l == "so" || l == "tdt")                          ? Apostrophes::kGlottal
                                                                      : Apostrophes::kBoth;
  for (int c = 0; c < 128; ++c)
    split_ascii_[c] = !unicode_is(static_cast<char32_t>(c), kPerlAlnum | kPerlSpace) &&
                      !std::strchr(".'`,-", c) && !(c == ':' && (l == "fi" || l == "sv"));
}

bool Tokenizer::is_verbatim(std::string_view line) const {
  if (config_.skip_xml && line.size() >= 3 && line.front() == '<' && line.back() == '>') return true;
  return is_blank(line);
}

std::string Tokenizer::tokenize(std::string_view line) const {
  std::string out;
  tokenize(line, out);
  return out;
}

void Tokenizer::tokenize(std::string_view line, std::string& out) const {
  thread_local Buffers b;
  out.clear();
  if (is_verbatim(line)) {
    out.assign(line);
  } else {
    if (protected_.empty()) {
      normalize_spaces(line, b.text);
      b.protected_text.clear();
    } else {
      collapse_spaces_padded(line, b.text);
      protect(b.text, b);
    }
    split_special(b.text, b);
    if (config_.aggressive_dash_splits) {
      static constexpr Rule kDash{in(kPerlAlnum), "-", in(kPerlAlnum), false, " @-@ "};
      substitute(kDash, b.text, b.scratch);
    }
    mark_period_runs(b.text, b.scratch);
    static constexpr Rule kCommaAfter{not_in(kPerlN), ",", kNoCond, false, " , "};
    static constexpr Rule kCommaBefore{kNoCond, ",", not_in(kPerlN), true, " , "};
    static constexpr Rule kCommaAtEnd{in(kPerlN), ",", kAtEnd, false, " ,"};
    substitute(kCommaAfter, b.text, b.scratch);
    substitute(kCommaBefore, b.text, b.scratch);
    substitute(kCommaAtEnd, b.text, b.scratch);
    split_apostrophes(b.text, b);
    split_periods(b.text, b);
    finish(b.text, b, out);
  }
  if (config_.lower_case) lower_case(out, b.scratch);
}

void Tokenizer::protect(std::string& text, Buffers& b) const {
  b.protected_text.clear();
  protected_.find_all(text, b.protected_text);
  for (std::size_t i = 0; i < b.protected_text.size(); ++i)
    replace_all(text, b.protected_text[i], " " + protected_marker(i) + " ", b.scratch);
  squeeze_spaces(text, b.scratch);
}

// s/([^\p{IsAlnum}\s\.\'\`\,\-])/ $1 /g and its language variants.
void Tokenizer::split_special(std::string& text, Buffers& b) const {
  const bool catalan = config_.language == "ca";
  std::string& out = b.scratch;
  out.clear();
  for (std::size_t pos = 0; pos < text.size();) {
    const unsigned char byte = static_cast<unsigned char>(text[pos]);
    std::size_t length = 1;
    bool split = false;
    if (byte < 0x80) {
      split = split_ascii_[byte];
    } else {
      const char32_t cp = decode_at(text, pos, length);
      split = !unicode_is(cp, kPerlAlnum | kPerlSpace) && !(catalan && cp == 0xB7);
    }
    if (split) out.push_back(' ');
    out.append(text, pos, length);
    if (split) out.push_back(' ');
    pos += length;
  }
  text.swap(out);
  const std::string& l = config_.language;
  static constexpr Rule kColon{kNoCond, ":", {Cond::kEndOrNotIn, kPerlLl, 0}, false, " : "};
  static constexpr Rule kGlottal{kNoCond, "'", {Cond::kEndOrNotIn, kPerlLl, 0}, false, " ' "};
  static constexpr Rule kMiddleDot{kNoCond, kCatalanDot, {Cond::kEndOrNotIn, kPerlLl, 0}, false, " \xC3\x82\xC2\xB7 "};
  if (l == "fi" || l == "sv") substitute(kColon, text, b.scratch);
  if (l == "tdt") substitute(kGlottal, text, b.scratch);
  if (catalan) substitute(kMiddleDot, text, b.scratch);
}

void Tokenizer::split_apostrophes(std::string& text, Buffers& b) const {
  if (text.find('\'') == std::string::npos) return;
  static constexpr std::uint32_t kAlpha = kPerlAlpha;
  static constexpr Rule kBetweenOthers{not_in(kAlpha), "'", not_in(kAlpha), true, " ' "};
  static constexpr Rule kBeforeLetterEn{not_in(kAlpha | kPerlN), "'", in(kAlpha), true, " ' "};
  static constexpr Rule kBeforeLetter{not_in(kAlpha), "'", in(kAlpha), true, " ' "};
  static constexpr Rule kAfterLetter{in(kAlpha), "'", not_in(kAlpha), true, " ' "};
  static constexpr Rule kInWordRight{in(kAlpha), "'", in(kAlpha), true, " '"};
  static constexpr Rule kInWordLeft{in(kAlpha), "'", in(kAlpha), true, "' "};
  static constexpr Rule kDecade{in(kPerlN), "'", is('s'), true, " '"};
  static constexpr Rule kEverywhere{kNoCond, "'", kNoCond, false, " ' "};
  switch (apostrophes_) {
    case Apostrophes::kRight:
      for (const Rule* rule : {&kBetweenOthers, &kBeforeLetterEn, &kAfterLetter, &kInWordRight, &kDecade})
        substitute(*rule, text, b.scratch);
      break;
    case Apostrophes::kLeft:
      for (const Rule* rule : {&kBetweenOthers, &kBeforeLetter, &kAfterLetter, &kInWordLeft})
        substitute(*rule, text, b.scratch);
      break;
    case Apostrophes::kGlottal:
      for (const Rule* rule : {&kBetweenOthers, &kBeforeLetter, &kAfterLetter}) substitute(*rule, text, b.scratch);
      break;
    case Apostrophes::kBoth: substitute(kEverywhere, text, b.scratch); break;
  }
}

// The script's word loop: a word "pre." loses its period as a separate token
// unless pre is an abbreviation (holds a period and a letter, or is a
// nonbreaking prefix), or the next word starts in lower case, or pre is a
// numeric-only prefix before a number. The last word always splits. Words
// come from split(/\s/), so runs of spaces give empty words; the result is
// joined with single spaces.
void Tokenizer::split_periods(std::string& text, Buffers& b) const {
  std::string& out = b.scratch;
  out.clear();
  const std::size_t last_end = text.find_last_not_of(' ') + 1;  // 0 when all spaces
  for (std::size_t start = 0; start < last_end;) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end == start) {
      ++start;
      continue;
    }
    if (!out.empty()) out.push_back(' ');
    out.append(text, start, end - start);
    if (end - start >= 2 && text[end - 1] == '.') {
      const std::string_view pre(text.data() + start, end - start - 1);
      const bool last = end == last_end;
      const char32_t next = (!last && end + 1 < text.size() && text[end + 1] != ' ')
                                ? [&] { std::size_t p = end + 1; return decode_utf8(text, p); }()
                                : 0;
      bool keep = false;
      if (!last) {
        const auto kind = prefixes_.find(pre);
        const bool abbreviation = pre.find('.') != std::string_view::npos && [&] {
          for (std::size_t p = 0; p < pre.size();)
            if (unicode_is(decode_utf8(pre, p), kPerlAlpha)) return true;
          return false;
        }();
        keep = abbreviation || kind == NonbreakingPrefixes::kAlways || (next && unicode_is(next, kPerlLower)) ||
               (kind == NonbreakingPrefixes::kNumericOnly && next >= '0' && next <= '9');
      }
      if (!keep) out.insert(out.size() - 1, 1, ' ');
    }
    start = end + 1;
  }
  text.swap(out);
}

void Tokenizer::finish(std::string& text, Buffers& b, std::string& out) const {
  if (text.size() >= 2 && text.compare(text.size() - 2, 2, ".'") == 0) text.replace(text.size() - 2, 2, " . ' ");
  for (std::size_t i = 0; i < b.protected_text.size(); ++i)
    replace_all(text, protected_marker(i), b.protected_text[i], b.scratch);
  restore_period_runs(text, b.scratch);
  if (config_.escape) escape_into(text, out);
  else out.assign(text);
}

}  // namespace tfm
