// The pieces tokenizer.cpp builds tokenizer.perl's substitutions from: UTF-8
// code points with their Unicode classes, and one s/(BEFORE)MARK(AFTER)/.../g
// rule applied left to right as Perl does. Internal to the tokenizer; inline
// because every line of text runs through them many times.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"

namespace tfm::tokenizer_rules {

// ---- Code points in UTF-8 text ------------------------------------------

// unicode_is with the ASCII classes cached here: most text is ASCII.
inline const std::array<std::uint32_t, 128> kAsciiClasses = [] {
  std::array<std::uint32_t, 128> table{};
  for (char32_t c = 0; c < 128; ++c) table[c] = unicode_classes(c);
  return table;
}();

inline bool has_class(char32_t cp, std::uint32_t classes) {
  return ((cp < 128 ? kAsciiClasses[cp] : unicode_classes(cp)) & classes) != 0;
}

inline char32_t decode_at(std::string_view text, std::size_t pos, std::size_t& length) {
  std::size_t end = pos;
  const char32_t cp = decode_utf8(text, end);
  length = end - pos;
  return cp;
}

inline std::size_t char_start_before(std::string_view text, std::size_t pos) {
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
inline bool holds(const Cond& cond, std::string_view text, std::size_t pos, std::size_t& length) {
  length = 0;
  if (pos >= text.size()) return cond.kind == Cond::kEnd || cond.kind == Cond::kEndOrNotIn;
  const char32_t cp = decode_at(text, pos, length);
  switch (cond.kind) {
    case Cond::kIn: return has_class(cp, cond.classes);
    case Cond::kNotIn:
    case Cond::kEndOrNotIn: return !has_class(cp, cond.classes);
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
inline bool apply(const Rule& rule, const std::string& in, std::string& out) {
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
inline void substitute(const Rule& rule, std::string& text, std::string& scratch) {
  if (apply(rule, text, scratch)) text.swap(scratch);
}

constexpr Cond in(std::uint32_t classes) { return {Cond::kIn, classes, 0}; }
constexpr Cond not_in(std::uint32_t classes) { return {Cond::kNotIn, classes, 0}; }
constexpr Cond is(char32_t c) { return {Cond::kIs, 0, c}; }
constexpr Cond is_not(char32_t c) { return {Cond::kIsNot, 0, c}; }
constexpr Cond kNoCond{};
constexpr Cond kAtEnd{Cond::kEnd, 0, 0};

}  // namespace tfm::tokenizer_rules
