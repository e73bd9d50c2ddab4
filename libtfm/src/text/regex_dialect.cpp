// Perl and Python patterns rewritten for PCRE2 (see tfm/text/regex.h). The
// property spellings were checked against perl 5.36 and Python 3.11 on every
// code point (both on Unicode 14, as is PCRE2 10.42); tests/unit/test_regex.cpp
// checks them against tfm/core/unicode.h's tables, generated from those
// interpreters.

#include <cctype>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tfm/text/regex.h"

namespace tfm {

namespace {

// A set of characters as PCRE2 class items ("\p{Nd}\p{M}"), meant as is or
// as its complement.
struct CharSet {
  std::string_view items;
  bool complement;
};

// Perl's \w: Alphabetic + Mark + Decimal_Number + Connector_Punctuation +
// Join_Control (PCRE2's Unicode \w is letters, numbers and '_' only).
constexpr std::string_view kPerlWord = "\\p{Alphabetic}\\p{Nd}\\p{M}\\p{Pc}\\p{Join_Control}";
constexpr std::string_view kPerlSpace = "\\p{White_Space}";  // PCRE2's \s adds U+180E
constexpr std::string_view kPerlBlank = "\\p{Zs}\\t";        // PCRE2's \h adds U+180E
constexpr std::string_view kPythonSpace = "\\p{White_Space}\\x{1c}-\\x{1f}";  // str.isspace()
// Complements of Perl's [[:graph:]] and [[:print:]].
constexpr std::string_view kPerlNotGraph = "\\p{White_Space}\\p{Cc}\\p{Cn}\\p{Cs}";
constexpr std::string_view kPerlNotPrint = "\\p{Cc}\\p{Cn}\\p{Cs}\\p{Zl}\\p{Zp}";

std::optional<CharSet> class_escape(char letter, RegexDialect dialect) {
  if (dialect == RegexDialect::kPython) {
    if (letter == 's' || letter == 'S') return CharSet{kPythonSpace, letter == 'S'};
    return std::nullopt;
  }
  switch (letter) {
    case 'w': case 'W': return CharSet{kPerlWord, letter == 'W'};
    case 's': case 'S': return CharSet{kPerlSpace, letter == 'S'};
    case 'h': case 'H': return CharSet{kPerlBlank, letter == 'H'};
    default: return std::nullopt;
  }
}

// Perl's [:name:] on Unicode strings; nullopt for a name Perl does not know.
std::optional<CharSet> perl_posix_class(std::string_view name) {
  struct Entry {
    std::string_view name;
    CharSet set;
  };
  static constexpr Entry kClasses[] = {
      {"alpha", {"\\p{Alphabetic}", false}},
      {"alnum", {"\\p{Alphabetic}\\p{Nd}", false}},
      {"ascii", {"\\x00-\\x7f", false}},
      {"blank", {kPerlBlank, false}},
      {"cntrl", {"\\p{Cc}", false}},
      {"digit", {"\\p{Nd}", false}},
      {"graph", {kPerlNotGraph, true}},
      {"lower", {"\\p{Lowercase}", false}},
      {"print", {kPerlNotPrint, true}},
      {"punct", {"\\p{P}$+<=>^`|~", false}},
      {"space", {kPerlSpace, false}},
      {"upper", {"\\p{Uppercase}", false}},
      {"word", {kPerlWord, false}},
      {"xdigit", {"0-9A-Fa-f\\x{ff10}-\\x{ff19}\\x{ff21}-\\x{ff26}\\x{ff41}-\\x{ff46}", false}},
  };
  const bool negated = !name.empty() && name.front() == '^';
  if (negated) name.remove_prefix(1);
  for (const Entry& entry : kClasses)
    if (entry.name == name) return CharSet{entry.set.items, entry.set.complement != negated};
  return std::nullopt;
}

// "[items]" or "[^items]", with a leading '^' of `items` kept literal.
std::string bracket(std::string_view items, bool negate) {
  std::string out = negate ? "[^" : "[";
  if (!items.empty() && items.front() == '^') out += '\\';
  out += items;
  out += ']';
  return out;
}

std::string word_boundary(bool negate) {
  const std::string word = bracket(kPerlWord, false);
  if (negate) return "(?:(?<=" + word + ")(?=" + word + ")|(?<!" + word + ")(?!" + word + "))";
  return "(?:(?<=" + word + ")(?!" + word + ")|(?<!" + word + ")(?=" + word + "))";
}

bool is_hex(std::string_view text) {
  for (char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

class Translator {
 public:
  Translator(std::string_view pattern, RegexDialect dialect) : in_(pattern), dialect_(dialect) {}

  std::string run() {
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == '\\') {
        escape(out_, false);
      } else if (c == '[') {
        character_class();
      } else if (in_.substr(pos_, 3) == "(?#") {  // a comment may hold any character
        const std::size_t close = in_.find(')', pos_);
        const std::size_t stop = close == std::string_view::npos ? in_.size() : close + 1;
        out_ += in_.substr(pos_, stop - pos_);
        pos_ = stop;
      } else if (c == '{' && pos_ + 1 < in_.size() && in_[pos_ + 1] == ',' && open_lower_bound()) {
        out_ += "{0,";
        pos_ += 2;
      } else {
        out_ += c;
        ++pos_;
      }
    }
    return std::move(out_);
  }

 private:
  // At "{,": whether digits and '}' follow (the quantifier {,n}).
  bool open_lower_bound() const {
    std::size_t end = pos_ + 2;
    while (end < in_.size() && std::isdigit(static_cast<unsigned char>(in_[end]))) ++end;
    return end > pos_ + 2 && end < in_.size() && in_[end] == '}';
  }

  // The escape at pos_, appended to `out` (a class's items when in_class).
  void escape(std::string& out, bool in_class) {
    if (pos_ + 1 >= in_.size()) {  // a lone trailing backslash: PCRE2 reports it
      out += in_[pos_++];
      return;
    }
    const char letter = in_[pos_ + 1];
    if (!in_class) {
      if (const auto set = class_escape(letter, dialect_)) {
        out += bracket(set->items, set->complement);
        pos_ += 2;
        return;
      }
      const bool brace = pos_ + 2 < in_.size() && in_[pos_ + 2] == '{';
      if (dialect_ == RegexDialect::kPerl && (letter == 'b' || letter == 'B') && !brace) {
        out += word_boundary(letter == 'B');
        pos_ += 2;
        return;
      }
      if (dialect_ == RegexDialect::kPython && letter == 'Z') {
        out += "\\z";
        pos_ += 2;
        return;
      }
    }
    // Letters Perl's regex compiler passes through as themselves.
    if (dialect_ == RegexDialect::kPerl && std::strchr("ijlmquyEFIJLMOQTUY", letter)) {
      out += letter;
      pos_ += 2;
      return;
    }
    const std::size_t digits = letter == 'u' ? 4 : letter == 'U' ? 8 : 0;
    if (dialect_ == RegexDialect::kPython && digits != 0 && pos_ + 2 + digits <= in_.size() &&
        is_hex(in_.substr(pos_ + 2, digits))) {
      out += "\\x{" + std::string(in_.substr(pos_ + 2, digits)) + "}";
      pos_ += 2 + digits;
      return;
    }
    // Anything else means the same to PCRE2: copied whole, so that a "\c["
    // or the inside of "\x{..}" is not read as syntax.
    std::size_t stop = pos_ + 2;
    if (letter == 'c' && stop < in_.size()) {
      ++stop;
    } else if (stop < in_.size() && in_[stop] == '{' && std::strchr("xoNpPgk", letter)) {
      const std::size_t close = in_.find('}', stop);
      if (close != std::string_view::npos) stop = close + 1;
    }
    out += in_.substr(pos_, stop - pos_);
    pos_ = stop;
  }

  // The set a class item at pos_ stands for, if it is one (\w, [:alpha:]...).
  std::optional<CharSet> set_at(std::size_t at, std::size_t& length) const {
    if (at + 1 >= in_.size()) return std::nullopt;
    if (in_[at] == '\\') {
      length = 2;
      return class_escape(in_[at + 1], dialect_);
    }
    if (dialect_ == RegexDialect::kPerl && in_[at] == '[' && in_[at + 1] == ':') {
      const std::size_t close = in_.find(":]", at + 2);
      if (close == std::string_view::npos) return std::nullopt;
      length = close + 2 - at;
      return perl_posix_class(in_.substr(at + 2, close - at - 2));
    }
    return std::nullopt;
  }

  // A [...] class. Sets used complemented inside it (\W, [:^alpha:]) cannot
  // be PCRE2 class items, so such a class becomes an alternation (or, when
  // negated, look-aheads and one class): [\Wx] is (?:[^W]|[x]), [^\Wx] is
  // (?:(?![x])[W]).
  void character_class() {
    const std::size_t open = pos_++;
    const bool negated = pos_ < in_.size() && in_[pos_] == '^';
    if (negated) ++pos_;
    std::string items;
    std::vector<std::string_view> complemented;
    bool first = true, after_set = false;
    while (true) {
      if (pos_ >= in_.size()) {  // unterminated: PCRE2 reports it
        out_ += in_.substr(open);
        return;
      }
      const char c = in_[pos_];
      if (c == ']' && !first) break;
      std::size_t length = 0;
      if (const auto set = set_at(pos_, length)) {
        if (set->complement) complemented.push_back(set->items);
        else items += set->items;
        pos_ += length;
        first = false;
        after_set = true;
        continue;
      }
      std::size_t next_length = 0;
      if (c == '\\') {
        escape(items, true);
      } else if (c == '-' && !first && (after_set || set_at(pos_ + 1, next_length))) {
        items += "\\-";  // Perl: a hyphen next to a set is literal; PCRE2 refuses it bare
        ++pos_;
      } else if ((c == '[' && dialect_ == RegexDialect::kPython) || (c == ']' && first)) {
        items += '\\';  // Python has no [:alpha:]: a '[' in a class is itself
        items += c;
        ++pos_;
      } else {
        items += c;
        ++pos_;
      }
      first = false;
      after_set = false;
    }
    ++pos_;  // the closing ']'
    if (complemented.empty()) {
      out_ += bracket(items, negated);
    } else if (!negated) {
      out_ += "(?:";
      for (std::string_view set : complemented) out_ += bracket(set, true) + "|";
      if (items.empty()) out_.pop_back();
      else out_ += bracket(items, false);
      out_ += ')';
    } else {
      out_ += "(?:";
      if (!items.empty()) out_ += "(?!" + bracket(items, false) + ")";
      for (std::size_t i = 0; i + 1 < complemented.size(); ++i) out_ += "(?=" + bracket(complemented[i], false) + ")";
      out_ += bracket(complemented.back(), false) + ")";
    }
  }

  std::string_view in_;
  RegexDialect dialect_;
  std::size_t pos_ = 0;
  std::string out_;
};

}  // namespace

std::string to_pcre2(std::string_view pattern, RegexDialect dialect) { return Translator(pattern, dialect).run(); }

}  // namespace tfm
