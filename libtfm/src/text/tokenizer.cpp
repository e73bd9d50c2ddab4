#include "tfm/text/tokenizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"
#include "tokenizer_rules.h"

namespace tfm {

namespace {

using namespace tokenizer_rules;

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

// tokenizer.perl replaces each protected text everywhere in the line, the
// placeholders of earlier ones included, and restores the placeholders the
// same way: a protected text inside a placeholder ("0" of THISISPROTECTED000)
// nests them, and a few kilobytes can grow exponentially. Past `limit` bytes
// that is an error, not gigabytes of memory.
void check_protected_growth(const std::string& text, std::size_t limit) {
  if (text.size() > limit)
    throw Error(fmt::format("protected patterns: this line grows past {} bytes, as tokenizer.perl's placeholders "
                            "(THISISPROTECTED000, ...) nest when a protected text occurs inside them",
                            limit));
}

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
// `literal`: the text holds "DOTMULTI". Returns whether markers were made.
bool mark_period_runs(std::string& text, std::string& scratch, bool literal) {
  const bool runs = text.find("..") != std::string::npos;
  if (runs || literal) mark_runs(text, scratch, literal);
  if (!literal) return runs;
  static constexpr Rule kBeforeOther{kNoCond, "DOTMULTI.", is_not('.'), true, "DOTDOTMULTI "};
  static constexpr Rule kBeforePeriod{kNoCond, "DOTMULTI.", kNoCond, false, "DOTDOTMULTI"};
  while (text.find("DOTMULTI.") != std::string::npos) {
    substitute(kBeforeOther, text, scratch);
    substitute(kBeforePeriod, text, scratch);
  }
  return true;
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

// `text` holds no NUL (control characters are gone), so strcspn can find the
// next special character quickly.
void escape_into(const std::string& text, std::string& out) {
  static const auto entities = [] {
    std::array<const char*, 256> table{};
    table['&'] = "&amp;";
    table['|'] = "&#124;";
    table['<'] = "&lt;";
    table['>'] = "&gt;";
    table['\''] = "&apos;";
    table['"'] = "&quot;";
    table['['] = "&#91;";
    table[']'] = "&#93;";
    return table;
  }();
  out.reserve(text.size() + 16);
  const char* p = text.c_str();
  const char* const end = p + text.size();
  while (p < end) {
    const std::size_t plain = std::strcspn(p, "&|<>'\"[]");
    out.append(p, plain);
    p += plain;
    if (p < end) out.append(entities[static_cast<unsigned char>(*p++)]);
  }
}

void lower_case(std::string& text, std::string& scratch) {
  scratch.clear();
  for (std::size_t pos = 0; pos < text.size();) append_perl_lower(scratch, decode_utf8(text, pos));
  text.swap(scratch);
}

bool is_blank(std::string_view line) {
  for (std::size_t pos = 0; pos < line.size();)
    if (!has_class(decode_utf8(line, pos), kPerlSpace)) return false;
  return true;
}

// "Â·": tokenizer.perl has no `use utf8`, so its middle dot is these two
// characters (the UTF-8 bytes of "·" read as Latin-1).
constexpr std::string_view kCatalanDot = "\xC3\x82\xC2\xB7";

// Bits of byte_actions_ that split_special ORs together, telling which later
// passes have anything to do on the line.
constexpr std::uint64_t kSeenComma = 1ull << 42;
constexpr std::uint64_t kSeenApostrophe = 1ull << 43;
constexpr std::uint64_t kSeenPeriod = 1ull << 44;
constexpr std::uint64_t kSeenEscapable = 1ull << 45;  // & | < > ' " [ ]
constexpr std::uint64_t kSeenD = 1ull << 46;  // "DOTMULTI" may be in the text
constexpr std::uint64_t kSeenM = 1ull << 47;  // "MULTI" may be in the text
constexpr std::uint64_t kSeenAll = ~0ull << 42;
constexpr std::uint64_t kSlowBit = 1ull << 41;

std::uint64_t seen_flags(unsigned char c) {
  return (c == ',' ? kSeenComma : 0) | (c == '\'' ? kSeenApostrophe : 0) | (c == '.' ? kSeenPeriod : 0) |
         (std::strchr("&|<>'\"[]", c) && c ? kSeenEscapable : 0) | (c == 'D' ? kSeenD : 0) | (c == 'M' ? kSeenM : 0);
}

}  // namespace

struct Tokenizer::Buffers {
  std::string text, scratch;
  std::vector<std::string> protected_text;
  std::size_t protected_growth_limit = 0;  // bytes (check_protected_growth)
  std::vector<std::size_t> period_splits;
};

Tokenizer::Tokenizer(TokenizerConfig config, NonbreakingPrefixes prefixes, ProtectedPatterns protected_patterns)
    : config_(std::move(config)), prefixes_(std::move(prefixes)), protected_(std::move(protected_patterns)) {
  const std::string& l = config_.language;
  apostrophes_ = l == "en"                                           ? Apostrophes::kRight
                 : (l == "fr" || l == "it" || l == "ga" || l == "ca") ? Apostrophes::kLeft
                 : (l == "so" || l == "tdt")                          ? Apostrophes::kGlottal
                                                                      : Apostrophes::kBoth;
  for (std::uint64_t c = 0; c < 256; ++c) {
    const bool split = c < 0x80 && !unicode_is(static_cast<char32_t>(c), kPerlAlnum | kPerlSpace) &&
                       !std::strchr(".'`,-", static_cast<int>(c)) && !(c == ':' && (l == "fi" || l == "sv"));
    const std::uint64_t action = split ? (0x200020u | (c << 8) | (3ull << 32)) : (c | (1ull << 32));
    const std::uint64_t slow = kSlowBit;
    const std::uint64_t seen = seen_flags(static_cast<unsigned char>(c));
    byte_actions_[0][c] = c == ' ' ? 1ull << 40 : (c < 0x20 || c >= 0x80) ? slow : action | seen;
    byte_actions_[1][c] = (c < 0x20 || c >= 0x80) ? slow : action | seen;
  }
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
    std::uint64_t seen = kSeenAll;  // protected text may come back anywhere
    if (protected_.empty()) {
      b.protected_text.clear();
      seen = split_special(line, true, b.text);
    } else {
      collapse_spaces_padded(line, b.text);
      // Each byte protected alone becomes a 20-byte placeholder at most.
      b.protected_growth_limit = std::max<std::size_t>(std::size_t{1} << 20, 64 * line.size());
      protect(b.text, b);
      split_special(b.text, false, b.scratch);
      b.text.swap(b.scratch);
    }
    language_rules(b.text, b);
    if (config_.aggressive_dash_splits) {
      static constexpr Rule kDash{in(kPerlAlnum), "-", in(kPerlAlnum), false, " @-@ "};
      substitute(kDash, b.text, b.scratch);
    }
    const bool literal_markers = (seen & kSeenD) && b.text.find("DOTMULTI") != std::string::npos;
    const bool markers = (seen & kSeenPeriod) && mark_period_runs(b.text, b.scratch, literal_markers);
    if (seen & kSeenComma) {
      static constexpr Rule kCommaAfter{not_in(kPerlN), ",", kNoCond, false, " , "};
      static constexpr Rule kCommaBefore{kNoCond, ",", not_in(kPerlN), true, " , "};
      static constexpr Rule kCommaAtEnd{in(kPerlN), ",", kAtEnd, false, " ,"};
      substitute(kCommaAfter, b.text, b.scratch);
      substitute(kCommaBefore, b.text, b.scratch);
      substitute(kCommaAtEnd, b.text, b.scratch);
    }
    if (seen & kSeenApostrophe) split_apostrophes(b.text, b);
    split_periods(b.text, b);
    finish(b.text, b, markers || (seen & kSeenM), seen & kSeenEscapable, out);
  }
  if (config_.lower_case) lower_case(out, b.scratch);
}

void Tokenizer::protect(std::string& text, Buffers& b) const {
  b.protected_text.clear();
  protected_.find_all(text, b.protected_text);
  for (std::size_t i = 0; i < b.protected_text.size(); ++i) {
    replace_all(text, b.protected_text[i], " " + protected_marker(i) + " ", b.scratch);
    check_protected_growth(text, b.protected_growth_limit);
  }
  squeeze_spaces(text, b.scratch);
}

// s/([^\p{IsAlnum}\s\.\'\`\,\-])/ $1 /g (the set varies with the
// language). With `normalize`, `in` is the raw line and this pass also does
// the script's first steps (collapse_spaces_padded, then squeeze_spaces), all
// character by character, so they fuse into one pass.
std::uint64_t Tokenizer::split_special(std::string_view in, bool normalize, std::string& out) const {
  const bool catalan = config_.language == "ca";
  // At most " c " for each c (a space before c follows a white-space byte
  // that gave nothing), plus room for the last 4-byte store. The ASCII path
  // is table-driven and has no branch but the one to the slow path.
  out.resize(3 * in.size() + 4);
  char* o = out.data();
  bool pending_space = false;  // white space seen since the last character written
  bool started = false;        // something written (leading white space is dropped)
  const std::uint64_t* const actions = byte_actions_[normalize ? 0 : 1];
  std::uint64_t seen = 0;
  for (std::size_t pos = 0; pos < in.size();) {
    const std::uint64_t action = actions[static_cast<unsigned char>(in[pos])];
    seen |= action;
    if (!(action & kSlowBit)) {
      const std::uint32_t space = (action >> 40) & 1;
      const std::uint32_t before = pending_space & started & !space;  // the pending space goes first
      const std::uint32_t word = (static_cast<std::uint32_t>(action) << (8 * before)) | (0x20 * before);
      std::memcpy(o, &word, 4);
      o += ((action >> 32) & 0xFF) + before;
      pending_space = space;
      started |= !space;
      ++pos;
      continue;
    }
    std::size_t length = 1;
    const char32_t cp = decode_at(in, pos, length);
    const bool space = has_class(cp, kPerlSpace);
    if (normalize && (space || cp < 0x20)) {  // white space, or a control character to delete
      pending_space |= space;
      pos += length;
      continue;
    }
    const bool split = !has_class(cp, kPerlAlnum) && !space && !(catalan && cp == 0xB7);
    if (pending_space && started) *o++ = ' ';
    pending_space = false;
    started = true;
    if (split) *o++ = ' ';
    for (std::size_t i = 0; i < length; ++i) *o++ = in[pos + i];
    if (split) *o++ = ' ';
    pos += length;
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  return seen & kSeenAll;
}

// The language-specific follow-ups of split_special.
void Tokenizer::language_rules(std::string& text, Buffers& b) const {
  const std::string& l = config_.language;
  static constexpr Rule kColon{kNoCond, ":", {Cond::kEndOrNotIn, kPerlLl, 0}, false, " : "};
  static constexpr Rule kGlottal{kNoCond, "'", {Cond::kEndOrNotIn, kPerlLl, 0}, false, " ' "};
  static constexpr Rule kMiddleDot{kNoCond, kCatalanDot, {Cond::kEndOrNotIn, kPerlLl, 0}, false, " \xC3\x82\xC2\xB7 "};
  if (l == "fi" || l == "sv") substitute(kColon, text, b.scratch);
  if (l == "tdt") substitute(kGlottal, text, b.scratch);
  if (l == "ca") substitute(kMiddleDot, text, b.scratch);
}

void Tokenizer::split_apostrophes(std::string& text, Buffers& b) const {
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

// The script's word loop: the last word's final period always becomes a
// token, others' unless keeps_period. Words come from split(/\s/), so runs
// of spaces give empty words (an empty next word has no lower-case start);
// the result is joined with single spaces. Only words ending in a period
// need a look, so they are found with find('.'), then the text is squeezed.
void Tokenizer::split_periods(std::string& text, Buffers& b) const {
  const std::size_t size = text.size();
  const std::size_t last_end = text.find_last_not_of(' ') + 1;  // 0 when all spaces
  std::vector<std::size_t>& splits = b.period_splits;
  splits.clear();
  for (std::size_t p = text.find('.'); p != std::string::npos && p < last_end; p = text.find('.', p + 1)) {
    if ((p + 1 < size && text[p + 1] != ' ') || p == 0 || text[p - 1] == ' ') continue;
    const std::size_t space = text.rfind(' ', p);
    const std::size_t start = space == std::string::npos ? 0 : space + 1;
    std::size_t next = p + 2;
    const char32_t next_first = next < size && text[next] != ' ' ? decode_utf8(text, next) : 0;
    if (p + 1 == last_end || !keeps_period(std::string_view(text).substr(start, p - start), next_first))
      splits.push_back(p);
  }
  std::string& out = b.scratch;
  splits.push_back(size);
  out.resize(size + splits.size());
  char* const begin = out.data();
  char* o = begin;
  bool after_space = true;  // drops leading spaces
  for (std::size_t from = 0; const std::size_t to : splits) {
    for (std::size_t i = from; i < to; ++i) {
      const bool space = text[i] == ' ';
      *o = text[i];
      o += !(space & after_space);
      after_space = space;
    }
    if (to < size) *o++ = ' ';
    from = to;
  }
  if (o != begin && o[-1] == ' ') --o;
  out.resize(static_cast<std::size_t>(o - begin));
  text.swap(out);
}

bool Tokenizer::keeps_period(std::string_view pre, char32_t next_first) const {
  if (pre.find('.') != std::string_view::npos)
    for (std::size_t p = 0; p < pre.size();)
      if (has_class(decode_utf8(pre, p), kPerlAlpha)) return true;  // an abbreviation like U.S
  const auto kind = prefixes_.find(pre);
  return kind == NonbreakingPrefixes::kAlways || (next_first && has_class(next_first, kPerlLower)) ||
         (kind == NonbreakingPrefixes::kNumericOnly && next_first >= '0' && next_first <= '9');
}

void Tokenizer::finish(std::string& text, Buffers& b, bool markers, bool escapable, std::string& out) const {
  if (text.size() >= 2 && text.compare(text.size() - 2, 2, ".'") == 0) text.replace(text.size() - 2, 2, " . ' ");
  for (std::size_t i = 0; i < b.protected_text.size(); ++i) {
    replace_all(text, protected_marker(i), b.protected_text[i], b.scratch);
    check_protected_growth(text, b.protected_growth_limit);
  }
  if (markers) restore_period_runs(text, b.scratch);
  if (config_.escape && escapable) escape_into(text, out);
  else out.assign(text);
}

}  // namespace tfm
