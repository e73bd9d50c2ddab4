// Python's str methods on UTF-8 text, as sacrebleu applies them before
// scoring: split(), rstrip(), strip() and lower() with Python's Unicode
// whitespace and case tables (core/unicode.h). All functions take VALID UTF-8
// and never throw.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

// ASCII bytes that str.isspace() accepts: \t \n \v \f \r, \x1c-\x1f, space.
inline constexpr std::array<bool, 128> kPythonAsciiSpace = [] {
  std::array<bool, 128> table{};
  for (int c : {9, 10, 11, 12, 13, 28, 29, 30, 31, 32}) table[c] = true;
  return table;
}();

// Bytes of the whitespace character (str.isspace) at text[pos], or 0.
std::size_t python_space_length(std::string_view text, std::size_t pos);

// Python's str.split() with no argument: fields between runs of Unicode
// whitespace (str.isspace), appended to `out` (which is cleared first).
void python_split(std::string_view text, std::vector<std::string_view>& out);
// Python's str.rstrip() / str.strip() with no argument.
std::string_view python_rstrip(std::string_view text);
std::string_view python_strip(std::string_view text);
// Python's str.lower(): full mappings (U+0130 becomes two code points) and
// the final-sigma rule (Σ at the end of a word becomes ς).
std::string python_lower(std::string_view text);
// ' '.join(text.split()): single spaces between fields, none at the ends.
std::string python_normalize_spaces(std::string_view text);

}  // namespace tfm
