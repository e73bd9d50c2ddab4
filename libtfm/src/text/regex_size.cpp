#include "regex_size.h"

#include <algorithm>
#include <vector>

namespace tfm {

namespace {

constexpr std::uint64_t kSaturated = kMaxExpandedRegexSize + 1;

std::uint64_t saturating_multiply(std::uint64_t a, std::uint64_t b) {
  return (b != 0 && a > kSaturated / b) ? kSaturated : std::min(a * b, kSaturated);
}

// Reads "{m}", "{m,}" or "{m,n}" at pattern[i] ('{'); the copies it makes,
// or 0 when it is not a repetition (a literal brace in ECMAScript's Annex B).
std::uint64_t repeat_count(std::wstring_view pattern, std::size_t& i) {
  std::size_t j = i + 1;
  std::uint64_t low = 0, high = 0;
  bool digits = false, comma = false, high_digits = false;
  for (; j < pattern.size() && pattern[j] != L'}'; ++j) {
    const wchar_t c = pattern[j];
    if (c == L',' && !comma) {
      comma = true;
    } else if (c >= L'0' && c <= L'9') {
      std::uint64_t& value = comma ? high : low;
      value = std::min<std::uint64_t>(value * 10 + (c - L'0'), kSaturated);
      (comma ? high_digits : digits) = true;
    } else {
      return 0;
    }
  }
  if (j == pattern.size() || !digits) return 0;
  i = j;
  return comma && !high_digits ? low + 1 : std::max(low, high);
}

// The index of the ']' that closes the class opened at pattern[i] ('[').
std::size_t class_end(std::wstring_view pattern, std::size_t i) {
  std::size_t j = i + 1;
  if (j < pattern.size() && pattern[j] == L'^') ++j;
  if (j < pattern.size() && pattern[j] == L']') ++j;
  for (; j < pattern.size() && pattern[j] != L']'; ++j)
    if (pattern[j] == L'\\') ++j;
  return j;
}

}  // namespace

bool has_repeated_quantifier(std::wstring_view pattern) {
  bool after_quantifier = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const wchar_t c = pattern[i];
    bool quantifier = c == L'*' || c == L'+';
    if (c == L'\\') {
      ++i;
    } else if (c == L'[') {
      i = class_end(pattern, i);
    } else if (c == L'?') {
      if (after_quantifier) {  // lazy: a+? a{2}?
        after_quantifier = false;
        continue;
      }
      quantifier = true;
    } else if (c == L'{') {
      std::size_t end = i;
      if (repeat_count(pattern, end) > 0) {
        quantifier = true;
        i = end;
      }
    }
    if (quantifier && after_quantifier) return true;
    after_quantifier = quantifier;
  }
  return false;
}

bool has_long_backreference(std::wstring_view pattern) {
  for (std::size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] != L'\\') continue;
    std::size_t digits = 0;
    while (i + 1 + digits < pattern.size() && pattern[i + 1 + digits] >= L'0' && pattern[i + 1 + digits] <= L'9')
      ++digits;
    if (digits > kMaxBackreferenceDigits) return true;
    ++i;  // the escaped character
  }
  return false;
}

std::uint64_t expanded_regex_size(std::wstring_view pattern) {
  // Sizes of the open groups; the last atom's size, which a count multiplies.
  std::vector<std::uint64_t> groups{0};
  std::uint64_t last = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const wchar_t c = pattern[i];
    std::uint64_t atom = 1;
    if (c == L'\\') {
      ++i;
    } else if (c == L'[') {  // a class is one atom
      i = class_end(pattern, i);
    } else if (c == L'(') {
      groups.push_back(0);
      last = 0;
      continue;
    } else if (c == L')' && groups.size() > 1) {
      atom = groups.back();
      groups.pop_back();
    } else if (c == L'{') {
      if (const std::uint64_t count = repeat_count(pattern, i); count > 0) {
        groups.back() = std::min(groups.back() - last + saturating_multiply(last, count), kSaturated);
        last = saturating_multiply(last, count);
        continue;
      }
    }
    groups.back() = std::min(groups.back() + atom, kSaturated);
    last = atom;
  }
  std::uint64_t total = 0;
  for (const std::uint64_t size : groups) total = std::min(total + size, kSaturated);
  return total;
}

}  // namespace tfm
