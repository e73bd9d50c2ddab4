// Unicode character classes and case mappings, exactly as the reference tools
// see them: Perl 5.36's (Moses scripts) and Python 3.11's with the regex module
// (sacrebleu). Tables are generated from those interpreters
// (src/core/gen-unicode-tables.sh), so matching them is by construction.
#pragma once

#include <cstdint>
#include <string>

namespace tfm {

// One bit per class; `unicode_classes(cp)` returns all bits of a code point.
enum UnicodeClass : std::uint32_t {
  kPerlAlnum = 1u << 0,   // \p{IsAlnum}: Alphabetic or decimal digit
  kPerlAlpha = 1u << 1,   // \p{IsAlpha}: Alphabetic
  kPerlLower = 1u << 2,   // \p{IsLower}: Lowercase property
  kPerlUpper = 1u << 3,   // \p{IsUpper}: Uppercase property
  kPerlLl = 1u << 4,      // \p{Ll}
  kPerlN = 1u << 5,       // \p{IsN}: any number
  kPerlDigit = 1u << 6,   // \d on a Unicode string: Nd
  kPerlSc = 1u << 7,      // \p{IsSc}: currency symbol
  kPerlSo = 1u << 8,      // \p{IsSo}: other symbol
  kPerlSpace = 1u << 9,   // \s
  kPerlWord = 1u << 10,   // \w
  kPerlPunct = 1u << 11,  // [[:punct:]]
  kPyP = 1u << 12,        // regex \p{P}
  kPyS = 1u << 13,        // regex \p{S}
  kPyN = 1u << 14,        // regex \p{N}
  kPySpace = 1u << 15,    // str.isspace()
  kPyCased = 1u << 16,          // Cased and not Case_Ignorable (str.lower()'s final sigma)
  kPyCaseIgnorable = 1u << 17,  // Case_Ignorable (str.lower()'s final sigma)
};

// All classes of `cp`; 0 for unassigned or invalid code points.
std::uint32_t unicode_classes(char32_t cp);

inline bool unicode_is(char32_t cp, std::uint32_t class_mask) {
  return (unicode_classes(cp) & class_mask) != 0;
}

// Appends Perl's lc(chr(cp)) / uc(chr(cp)) / ucfirst(chr(cp)) (full mappings:
// may be several code points) to `out` as UTF-8. uc and ucfirst differ on
// digraphs and ligatures: uc("ǆ") is "Ǆ", ucfirst("ǆ") is "ǅ"; uc("ß") is "SS".
void append_perl_lower(std::string& out, char32_t cp);
void append_perl_upper(std::string& out, char32_t cp);
void append_perl_ucfirst(std::string& out, char32_t cp);
// Appends Python's chr(cp).lower() to `out` as UTF-8.
void append_python_lower(std::string& out, char32_t cp);

}  // namespace tfm
