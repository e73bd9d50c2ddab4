#include "tfm/eval/sacrebleu_tokenizers.h"

#include <algorithm>
#include <array>
#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"

namespace tfm {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// 13a's first rule: ASCII punctuation except ' , - . (and the space itself).
constexpr std::array<bool, 128> kRegexpPunct = [] {
  std::array<bool, 128> table{};
  const auto mark = [&](int from, int to) {
    for (int c = from; c <= to; ++c) table[c] = true;
  };
  mark('{', '~');
  mark('[', '`');
  mark(' ', '&');
  mark('(', '+');
  mark(':', '@');
  mark('/', '/');
  return table;
}();

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t start = 0, hit;
  while ((hit = text.find(from, start)) != std::string::npos) {
    out.append(text, start, hit - start).append(to);
    start = hit + from.size();
  }
  if (start == 0) return text;
  out.append(text, start);
  return out;
}

std::string unescape_entities(std::string text) {
  if (text.find('&') == std::string::npos) return text;
  // Sequential, as sacrebleu does: "&amp;lt;" ends up as "<".
  text = replace_all(std::move(text), "&quot;", "\"");
  text = replace_all(std::move(text), "&amp;", "&");
  text = replace_all(std::move(text), "&lt;", "<");
  return replace_all(std::move(text), "&gt;", ">");
}

// The regex substitutions of TokenizerRegexp. They only insert spaces around
// ASCII characters, and "any non-digit" context never splits a UTF-8 sequence
// in a way that changes the result, so they run on bytes.
// The byte passes below (tercom's normalization, which puts its possessive
// rule between them) write through raw pointers into buffers sized for the
// worst case (every byte tripled, then doubled twice).
struct PassBuffers {
  std::vector<char> a, b;
  std::string c;
  void reserve(std::size_t n) {
    if (a.size() < 12 * n + 16) a.resize(24 * n + 16), b.resize(24 * n + 16);
  }
};
PassBuffers& pass_buffers() {
  thread_local PassBuffers buffers;
  return buffers;
}

std::size_t split_ascii_punct(std::string_view text, char* out) {
  char* o = out;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x80 && kRegexpPunct[static_cast<unsigned char>(c)]) {
      o[0] = ' ', o[1] = c, o[2] = ' ';
      o += 3;
    } else {
      *o++ = c;
    }
  }
  return std::size_t(o - out);
}

// Non-overlapping left-to-right substitution of a two-character pattern
// (first, second) by first/second with spaces, as re.sub does.
template <typename Match>
std::size_t substitute_pairs(std::string_view text, char* out, Match match, bool space_first) {
  char* o = out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + 1 < text.size() && match(text[i], text[i + 1])) {
      if (space_first) o[0] = ' ', o[1] = text[i], o[2] = ' ', o[3] = text[i + 1];
      else o[0] = text[i], o[1] = ' ', o[2] = text[i + 1], o[3] = ' ';
      o += 4;
      i += 2;
    } else {
      *o++ = text[i++];
    }
  }
  return std::size_t(o - out);
}

// The period, comma and dash rules that follow split_ascii_punct(), on the
// `n` bytes of buf.a; returns where the result is.
std::string_view digit_rules(PassBuffers& buf, std::size_t n) {
  const auto is_period_comma = [](char c) { return c == '.' || c == ','; };
  char* text = buf.a.data();
  char* spare = buf.b.data();
  // Each rule needs its character; many lines lack one or the other.
  if (std::any_of(text, text + n, is_period_comma)) {
    // ([^0-9])([\.,]) -> '\1 \2 '
    n = substitute_pairs({text, n}, spare, [&](char a, char b) { return !is_digit(a) && is_period_comma(b); }, false);
    // ([\.,])([^0-9]) -> ' \1 \2'
    n = substitute_pairs({spare, n}, text, [&](char a, char b) { return is_period_comma(a) && !is_digit(b); }, true);
  }
  if (std::find(text, text + n, '-') == text + n) return {text, n};
  // ([0-9])(-) -> '\1 \2 '
  n = substitute_pairs({text, n}, spare, [](char a, char b) { return is_digit(a) && b == '-'; }, false);
  return {spare, n};
}

// TokenizerRegexp as one streaming pass: each rule is a transducer holding one
// byte of look-back, which is exactly how re.sub scans for a two-character
// pattern (a match consumes both, else the first byte goes out), chained into
// the whitespace normalization. Same result as the buffer passes above, in
// one loop and no intermediate strings (this is most of BLEU's time).
class RegexpStream {
 public:
  explicit RegexpStream(std::string& out) : out_(out) {}

  void put(char c) {  // rule 1: ASCII punctuation split off
    if (static_cast<unsigned char>(c) < 0x80 && kRegexpPunct[static_cast<unsigned char>(c)]) {
      period_rule(' ');
      period_rule(c);
      period_rule(' ');
    } else {
      period_rule(c);
    }
  }
  void finish() {
    if (has_[0]) has_[0] = false, after_period_rule(held_[0]);
    if (has_[1]) has_[1] = false, dash_rule(held_[1]);
    if (has_[2]) has_[2] = false, emit(held_[2]);
  }

 private:
  static bool period_or_comma(char c) { return c == '.' || c == ','; }

  // ([^0-9])([\.,]) -> '\1 \2 '
  void period_rule(char c) {
    if (has_[0]) {
      if (!is_digit(held_[0]) && period_or_comma(c)) {
        has_[0] = false;
        after_period_rule(held_[0]), after_period_rule(' '), after_period_rule(c), after_period_rule(' ');
        return;
      }
      after_period_rule(held_[0]);
    }
    held_[0] = c, has_[0] = true;
  }
  // ([\.,])([^0-9]) -> ' \1 \2'
  void after_period_rule(char c) {
    if (has_[1]) {
      if (period_or_comma(held_[1]) && !is_digit(c)) {
        has_[1] = false;
        dash_rule(' '), dash_rule(held_[1]), dash_rule(' '), dash_rule(c);
        return;
      }
      dash_rule(held_[1]);
    }
    held_[1] = c, has_[1] = true;
  }
  // ([0-9])(-) -> '\1 \2 '
  void dash_rule(char c) {
    if (has_[2]) {
      if (is_digit(held_[2]) && c == '-') {
        has_[2] = false;
        emit(held_[2]), emit(' '), emit('-'), emit(' ');
        return;
      }
      emit(held_[2]);
    }
    held_[2] = c, has_[2] = true;
  }
  // ' '.join(text.split()): multi-byte characters are gathered whole, since
  // some are Unicode spaces.
  void emit(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (pending_ > 0) {
      sequence_[length_++] = c;
      if (--pending_ > 0) return;
      std::size_t pos = 0;
      const std::string_view whole(sequence_, length_);
      if (unicode_is(decode_utf8(whole, pos), kPySpace)) gap_ = true;
      else append(whole);
      return;
    }
    if (byte >= 0xC0) {
      sequence_[0] = c, length_ = 1, pending_ = utf8_sequence_length(byte) - 1;
      return;
    }
    if (byte < 0x80 && kPythonAsciiSpace[byte]) gap_ = true;
    else append(std::string_view(&c, 1));
  }
  void append(std::string_view token_part) {
    if (gap_ && !out_.empty()) out_.push_back(' ');
    gap_ = false;
    out_.append(token_part);
  }

  std::string& out_;
  char held_[3] = {0, 0, 0};
  bool has_[3] = {false, false, false};
  char sequence_[4] = {0, 0, 0, 0};
  std::size_t length_ = 0, pending_ = 0;
  bool gap_ = false;
};

std::vector<char32_t> decode_all(std::string_view text) {
  std::vector<char32_t> cps;
  cps.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) cps.push_back(decode_utf8(text, pos));
  return cps;
}

// One pass of re.sub with a two-code-point pattern over code points.
template <typename Match>
std::vector<char32_t> substitute_cp_pairs(const std::vector<char32_t>& in, Match match,
                                          bool space_first) {
  std::vector<char32_t> out;
  out.reserve(in.size() + in.size() / 4);
  std::size_t i = 0;
  while (i < in.size()) {
    if (i + 1 < in.size() && match(in[i], in[i + 1])) {
      if (space_first) out.insert(out.end(), {U' ', in[i], U' ', in[i + 1]});
      else out.insert(out.end(), {in[i], U' ', in[i + 1], U' '});
      i += 2;
    } else {
      out.push_back(in[i++]);
    }
  }
  return out;
}

std::string encode_all(const std::vector<char32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (const char32_t cp : cps) append_utf8(out, cp);
  return out;
}

// Surrounds every code point for which `pick` holds with spaces.
template <typename Pick>
std::string space_around(std::string_view text, Pick pick) {
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t start = pos;
    const char32_t cp = decode_utf8(text, pos);
    const bool picked = pick(cp);
    if (picked) out.push_back(' ');
    out.append(text.substr(start, pos - start));
    if (picked) out.push_back(' ');
  }
  return out;
}

bool in_ranges(char32_t cp, std::initializer_list<std::pair<char32_t, char32_t>> ranges) {
  for (const auto& [from, to] : ranges)
    if (cp >= from && cp <= to) return true;
  return false;
}

// Tercom's Asian punctuation and full-width punctuation classes.
bool is_tercom_asian_punct(char32_t cp) {
  return in_ranges(cp, {{0x3001, 0x3002}, {0x3008, 0x3011}, {0x3014, 0x301F}, {0xFF61, 0xFF65},
                        {0x30FB, 0x30FB}, {0xFF0E, 0xFF0E}, {0xFF0C, 0xFF0C}, {0xFF1F, 0xFF1F},
                        {0xFF1A, 0xFF1B}, {0xFF01, 0xFF02}, {0xFF08, 0xFF09}});
}

// Characters that tercom's Asian normalization splits off. Its Hiragana,
// Katakana rules are anchored at the start of the line, which after the
// western part always begins with a space, so they never fire.
bool is_tercom_asian_split(char32_t cp) {
  return is_tercom_asian_punct(cp) ||
         in_ranges(cp, {{0x4E00, 0x9FFF}, {0x3400, 0x4DBF}, {0x31C0, 0x31EF}, {0x2E80, 0x2EFF},
                        {0x3300, 0x33FF}, {0xF900, 0xFAFF}, {0xFE30, 0xFE4F}, {0x3200, 0x3F22}});
}

std::string tercom_western(std::string text) {
  text = unescape_entities(std::move(text));
  const std::string spaced = " " + text + " ";
  PassBuffers& buf = pass_buffers();
  buf.reserve(spaced.size() + 8);
  std::string punct(buf.a.data(), split_ascii_punct(spaced, buf.a.data()));
  // Possessives: "'s " → " 's " (the "'s$" rule cannot match: the text ends
  // with a space).
  punct = replace_all(std::move(punct), "'s ", " 's ");
  buf.reserve(punct.size() + 8);
  std::copy(punct.begin(), punct.end(), buf.a.begin());
  return std::string(digit_rules(buf, punct.size()));
}

}  // namespace

BleuTokenizer parse_bleu_tokenizer(std::string_view name) {
  if (name == "13a") return BleuTokenizer::k13a;
  if (name == "intl") return BleuTokenizer::kIntl;
  if (name == "zh") return BleuTokenizer::kZh;
  if (name == "char") return BleuTokenizer::kChar;
  if (name == "none") return BleuTokenizer::kNone;
  throw UsageError(fmt::format("unknown tokenizer '{}' (13a, intl, zh, char or none)", name));
}

const char* bleu_tokenizer_name(BleuTokenizer tokenizer) {
  switch (tokenizer) {
    case BleuTokenizer::k13a: return "13a";
    case BleuTokenizer::kIntl: return "intl";
    case BleuTokenizer::kZh: return "zh";
    case BleuTokenizer::kChar: return "char";
    case BleuTokenizer::kNone: return "none";
  }
  return "?";
}

std::string tokenize_bleu(std::string_view line, BleuTokenizer tokenizer) {
  switch (tokenizer) {
    case BleuTokenizer::k13a: return tokenize_13a(line);
    case BleuTokenizer::kIntl: return tokenize_intl(line);
    case BleuTokenizer::kZh: return tokenize_zh(line);
    case BleuTokenizer::kChar: return tokenize_char(line);
    case BleuTokenizer::kNone: return std::string(line);
  }
  return std::string(line);
}

std::string tokenize_regexp(std::string_view line) {
  std::string out;
  out.reserve(line.size() + line.size() / 4);
  RegexpStream stream(out);
  for (const char c : line) stream.put(c);
  stream.finish();
  return out;
}

std::string tokenize_13a(std::string_view line) {
  PassBuffers& buf = pass_buffers();
  buf.c.assign(" ");
  if (std::none_of(line.begin(), line.end(), [](char c) { return c == '<' || c == '&'; })) {
    buf.c.append(line);
  } else {
    // sacrebleu also joins "-\n" and "\n"; a line never holds a newline here.
    buf.c.append(unescape_entities(replace_all(std::string(line), "<skipped>", "")));
  }
  buf.c.push_back(' ');
  return tokenize_regexp(buf.c);
}

std::string tokenize_intl(std::string_view line) {
  const auto cls = [](char32_t cp) { return unicode_classes(cp); };
  std::vector<char32_t> cps = decode_all(line);
  // (\P{N})(\p{P}) -> '\1 \2 '
  cps = substitute_cp_pairs(
      cps, [&](char32_t a, char32_t b) { return !(cls(a) & kPyN) && (cls(b) & kPyP); }, false);
  // (\p{P})(\P{N}) -> ' \1 \2'
  cps = substitute_cp_pairs(
      cps, [&](char32_t a, char32_t b) { return (cls(a) & kPyP) && !(cls(b) & kPyN); }, true);
  // (\p{S}) -> ' \1 '
  return python_normalize_spaces(
      space_around(encode_all(cps), [&](char32_t cp) { return (cls(cp) & kPyS) != 0; }));
}

bool is_sacrebleu_chinese(char32_t cp) {
  return in_ranges(cp, {{0x2001, 0x2A6D}, {0x2E80, 0x2FDF}, {0x2FF0, 0x303F}, {0x3100, 0x312F},
                        {0x31A0, 0x31EF}, {0x3200, 0x4DB5}, {0x4E00, 0x9FBB}, {0xF900, 0xFA2D},
                        {0xFA30, 0xFA6A}, {0xFA70, 0xFAD9}, {0xFE10, 0xFE1F}, {0xFE30, 0xFE4F},
                        {0xFF00, 0xFFEF}});
}

std::string tokenize_zh(std::string_view line) {
  return tokenize_regexp(space_around(python_strip(line), is_sacrebleu_chinese));
}

std::string tokenize_char(std::string_view line) {
  std::string out;
  out.reserve(line.size() * 2);
  for (std::size_t pos = 0; pos < line.size();) {
    const std::size_t space = python_space_length(line, pos);
    if (space > 0) {
      pos += space;
      continue;
    }
    const std::size_t len = utf8_sequence_length(static_cast<unsigned char>(line[pos]));
    if (!out.empty()) out.push_back(' ');
    out.append(line.substr(pos, len));
    pos += len;
  }
  return out;
}

std::string tokenize_tercom(std::string_view line, const TercomOptions& options) {
  if (line.empty()) return {};
  std::string text = options.case_sensitive ? std::string(line) : python_lower(line);
  if (options.normalized) {
    text = tercom_western(std::move(text));
    if (options.asian_support) text = space_around(text, is_tercom_asian_split);
  }
  if (options.no_punct) {
    std::string kept;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t start = pos;
      const char32_t cp = decode_utf8(text, pos);
      const bool ascii_punct = cp < 0x80 && std::string_view(".,?:;!\"()").find(char(cp)) !=
                                                std::string_view::npos;
      if (ascii_punct || (options.asian_support && is_tercom_asian_punct(cp))) continue;
      kept.append(text, start, pos - start);
    }
    text = std::move(kept);
  }
  return python_normalize_spaces(text);
}

}  // namespace tfm
