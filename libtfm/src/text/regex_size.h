// Guards for user-written regular expressions compiled by std::regex, which
// copies a group once per count of a repetition ({m,n}): "(a|b)*c{2,666666663}"
// takes minutes and gigabytes to compile. Python's re and Perl compile such
// counts without copies; we refuse patterns whose copies would exceed a bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tfm {

// At most this many atoms after repetition counts are expanded.
inline constexpr std::uint64_t kMaxExpandedRegexSize = 20000;

// The number of atoms of an ECMAScript `pattern` once every {m,n} repeats
// its atom or group max(m, n) times ({m,} counts m + 1), nested counts
// multiplied; saturates at kMaxExpandedRegexSize + 1.
std::uint64_t expanded_regex_size(std::wstring_view pattern);

// Whether a quantifier directly follows another (a++ a*+ a?+ a{2}+; a lazy
// a+? is fine): Perl's and Python 3.11's possessive forms, "multiple repeat"
// in older Python, and to std::regex a nested repetition that backtracks
// exponentially (fuzzing found patterns taking minutes on 200 characters).
bool has_repeated_quantifier(std::wstring_view pattern);

// Whether a back-reference (\12) has more than kMaxBackreferenceDigits
// digits: std::regex overflows a signed integer reading it (undefined
// behaviour, found by fuzzing with UBSan).
inline constexpr std::size_t kMaxBackreferenceDigits = 5;
bool has_long_backreference(std::wstring_view pattern);

}  // namespace tfm
