#include "tfm/core/unicode.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <memory>
#include <span>

#include "tfm/core/utf8.h"

namespace tfm {

namespace {

struct CodeRange {
  char32_t first, last;
};
struct CaseMapping {
  char32_t from;
  const char32_t* to;
};

#include "unicode_tables.inc"

struct ClassTable {
  std::span<const CodeRange> ranges;
  std::uint32_t bit;
};

const std::array<ClassTable, 18> kClassTables = {{
    {perl_alnum, kPerlAlnum}, {perl_alpha, kPerlAlpha}, {perl_lower, kPerlLower},
    {perl_upper, kPerlUpper}, {perl_ll, kPerlLl},       {perl_n, kPerlN},
    {perl_digit, kPerlDigit}, {perl_sc, kPerlSc},       {perl_so, kPerlSo},
    {perl_space, kPerlSpace}, {perl_word, kPerlWord},   {perl_punct, kPerlPunct},
    {py_p, kPyP},             {py_s, kPyS},             {py_n, kPyN},
    {py_space, kPySpace},     {py_cased, kPyCased},     {py_case_ignorable, kPyCaseIgnorable},
}};

bool in_ranges(std::span<const CodeRange> ranges, char32_t cp) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), cp,
                             [](char32_t c, const CodeRange& r) { return c < r.first; });
  return it != ranges.begin() && cp <= std::prev(it)->last;
}

std::uint32_t classes_from_ranges(char32_t cp) {
  std::uint32_t bits = 0;
  for (const auto& table : kClassTables)
    if (in_ranges(table.ranges, cp)) bits |= table.bit;
  return bits;
}

// The Basic Multilingual Plane holds nearly all text: one lookup there.
constexpr std::size_t kBmpSize = 0x10000;
const std::uint32_t* bmp_classes() {
  static const std::unique_ptr<std::uint32_t[]> table = [] {
    // Filled range by range: a lookup per code point would cost milliseconds
    // at every tool's start.
    auto t = std::make_unique<std::uint32_t[]>(kBmpSize);  // zeroed
    for (const auto& table : kClassTables)
      for (const auto& range : table.ranges)
        for (char32_t cp = range.first; cp <= range.last && cp < kBmpSize; ++cp) t[cp] |= table.bit;
    return t;
  }();
  return table.get();
}

void append_mapped(std::string& out, std::span<const CaseMapping> mappings, char32_t cp) {
  auto it = std::lower_bound(mappings.begin(), mappings.end(), cp,
                             [](const CaseMapping& m, char32_t c) { return m.from < c; });
  if (it == mappings.end() || it->from != cp) {
    append_utf8(out, cp);
    return;
  }
  for (const char32_t* p = it->to; *p; ++p) append_utf8(out, *p);
}

}  // namespace

std::uint32_t unicode_classes(char32_t cp) {
  if (cp < kBmpSize) return bmp_classes()[cp];
  return cp > 0x10FFFF ? 0 : classes_from_ranges(cp);
}

void append_perl_lower(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
    return;
  }
  append_mapped(out, perl_lc, cp);
}

void append_perl_upper(std::string& out, char32_t cp) { append_mapped(out, perl_uc, cp); }

void append_perl_ucfirst(std::string& out, char32_t cp) { append_mapped(out, perl_ucfirst, cp); }

void append_python_lower(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
    return;
  }
  append_mapped(out, py_lower, cp);
}

}  // namespace tfm
