// UTF-8 at the byte level, under every text-reading module: validation
// (readers refuse invalid input with the line it is on, or replace it as
// sacrebleu does), and decoding and encoding of code points. What a code
// point is (letter, space, case) is core/unicode.h's.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tfm {

// Byte offset of the first invalid UTF-8 sequence in `text` (overlong forms,
// surrogates and code points above U+10FFFF are invalid), or npos if valid.
std::size_t find_invalid_utf8(std::string_view text);

inline bool is_valid_utf8(std::string_view text) {
  return find_invalid_utf8(text) == std::string_view::npos;
}

// `text` with every invalid sequence replaced by U+FFFD (one per maximal
// invalid subpart, as Python's errors="replace" does).
std::string replace_invalid_utf8(std::string_view text);

// Decodes the code point starting at text[pos] of VALID UTF-8 and advances pos.
inline char32_t decode_utf8(std::string_view text, std::size_t& pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  if (lead < 0xE0) {
    const char32_t cp = (char32_t(lead & 0x1F) << 6) | (byte(pos + 1) & 0x3F);
    pos += 2;
    return cp;
  }
  if (lead < 0xF0) {
    const char32_t cp =
        (char32_t(lead & 0x0F) << 12) | (char32_t(byte(pos + 1) & 0x3F) << 6) | (byte(pos + 2) & 0x3F);
    pos += 3;
    return cp;
  }
  const char32_t cp = (char32_t(lead & 0x07) << 18) | (char32_t(byte(pos + 1) & 0x3F) << 12) |
                      (char32_t(byte(pos + 2) & 0x3F) << 6) | (byte(pos + 3) & 0x3F);
  pos += 4;
  return cp;
}

// Length in bytes of the UTF-8 sequence whose lead byte is `lead` (1 for
// continuation or invalid bytes).
inline std::size_t utf8_sequence_length(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Appends the UTF-8 encoding of `cp` to `out`.
void append_utf8(std::string& out, char32_t cp);

// Number of code points in valid UTF-8 `text`.
std::size_t utf8_length(std::string_view text);

}  // namespace tfm
