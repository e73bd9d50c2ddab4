#include "tfm/eval/python_strings.h"

#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"

namespace tfm {

std::size_t python_space_length(std::string_view text, std::size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) return kPythonAsciiSpace[lead] ? 1 : 0;
  std::size_t next = pos;
  const char32_t cp = decode_utf8(text, next);
  return unicode_is(cp, kPySpace) ? next - pos : 0;
}

namespace {

// Bytes of Python whitespace starting at text[pos] (0 if none); `length`
// gets the byte length of the character there.
std::size_t python_space_at(std::string_view text, std::size_t pos, std::size_t& length) {
  const auto c = static_cast<unsigned char>(text[pos]);
  length = 1;
  if (c < 0x80) return kPythonAsciiSpace[c] ? 1 : 0;
  length = utf8_sequence_length(c);
  return python_space_length(text, pos);
}

}  // namespace

void python_split(std::string_view text, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t pos = 0, start = std::string_view::npos;
  while (pos < text.size()) {
    std::size_t length;
    const std::size_t space = python_space_at(text, pos, length);
    if (space > 0) {
      if (start != std::string_view::npos) out.push_back(text.substr(start, pos - start));
      start = std::string_view::npos;
      pos += space;
    } else {
      if (start == std::string_view::npos) start = pos;
      pos += length;
    }
  }
  if (start != std::string_view::npos) out.push_back(text.substr(start));
}

std::string_view python_rstrip(std::string_view text) {
  std::size_t end = text.size();
  while (end > 0) {
    std::size_t start = end - 1;  // back to the lead byte of the last code point
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    if (python_space_length(text, start) == 0) break;
    end = start;
  }
  return text.substr(0, end);
}

std::string_view python_strip(std::string_view text) {
  text = python_rstrip(text);
  std::size_t pos = 0, space;
  while (pos < text.size() && (space = python_space_length(text, pos)) > 0) pos += space;
  return text.substr(pos);
}

namespace {

// Whether the capital sigma at text[at, next) is word-final for str.lower():
// a cased letter before it and none after it, skipping case-ignorables.
bool is_final_sigma(std::string_view text, std::size_t at, std::size_t next) {
  char32_t cp = 0;
  bool found = false;
  for (std::size_t end = at; end > 0 && !found;) {
    std::size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    std::size_t pos = start;
    cp = decode_utf8(text, pos);
    found = !unicode_is(cp, kPyCaseIgnorable);
    end = start;
  }
  if (!found || !unicode_is(cp, kPyCased)) return false;
  for (std::size_t pos = next; pos < text.size();) {
    cp = decode_utf8(text, pos);
    if (!unicode_is(cp, kPyCaseIgnorable)) return !unicode_is(cp, kPyCased);
  }
  return true;
}

}  // namespace

std::string python_lower(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    if (lead < 0x80) {
      out.push_back(static_cast<char>(lead >= 'A' && lead <= 'Z' ? lead + 32 : lead));
      ++pos;
    } else {
      const std::size_t at = pos;
      const char32_t cp = decode_utf8(text, pos);
      if (cp == 0x3A3 && is_final_sigma(text, at, pos)) append_utf8(out, 0x3C2);
      else append_python_lower(out, cp);
    }
  }
  return out;
}

std::string python_normalize_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool gap = false;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t length;
    const std::size_t space = python_space_at(text, pos, length);
    if (space > 0) {
      gap = true;
      pos += space;
      continue;
    }
    if (gap && !out.empty()) out.push_back(' ');
    gap = false;
    out.append(text.data() + pos, length);
    pos += length;
  }
  return out;
}

}  // namespace tfm
