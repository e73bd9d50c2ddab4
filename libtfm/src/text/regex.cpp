#include "tfm/text/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <new>
#include <utility>

#include "tfm/core/error.h"

namespace tfm {

namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof buffer) < 0) return "PCRE2 error " + std::to_string(code);
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

struct Regex::Code {
  pcre2_code* code;
};

Regex::Regex(std::string_view pattern, RegexDialect dialect, Anchor anchor) {
  const std::string translated = to_pcre2(pattern, dialect);
  // Perl allows several groups of one name; Python refuses them, as PCRE2 does.
  // \C (one byte, which can split a character) is gone from Perl since 5.24
  // and absent from Python; in PCRE2 it makes invalid UTF-8 while matching.
  std::uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C |
                          (dialect == RegexDialect::kPerl ? PCRE2_DUPNAMES : 0u);
  if (anchor == Anchor::kAtStart) options |= PCRE2_ANCHORED;
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(), options,
                                   &error, &offset, nullptr);
  if (!code) throw Error(pcre2_message(error));
  // Without JIT (a platform PCRE2's JIT does not support) the interpreter runs.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  code_ = new Code{code};
}

Regex::~Regex() {
  if (code_) pcre2_code_free(code_->code);
  delete code_;
}

Regex::Regex(Regex&& other) noexcept : code_(std::exchange(other.code_, nullptr)) {}

Regex& Regex::operator=(Regex&& other) noexcept {
  std::swap(code_, other.code_);
  return *this;
}

std::size_t Regex::group_count() const {
  std::uint32_t count = 0;
  pcre2_pattern_info(code_->code, PCRE2_INFO_CAPTURECOUNT, &count);
  return count;
}

bool Regex::search(std::string_view subject, std::size_t start, RegexMatch& match, std::uint32_t flags) const {
  static constexpr char kEmpty[] = "";
  const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data() ? subject.data() : kEmpty);
  auto* data = static_cast<pcre2_match_data*>(match.data_);
  std::uint32_t options = (flags & kNotEmptyAtStart) ? PCRE2_NOTEMPTY_ATSTART : 0u;
  int result = pcre2_match(code_->code, text, subject.size(), start, options, data, nullptr);
  // JIT's stack is small; the interpreter's grows on the heap.
  if (result == PCRE2_ERROR_JIT_STACKLIMIT)
    result = pcre2_match(code_->code, text, subject.size(), start, options | PCRE2_NO_JIT, data, nullptr);
  if (result == PCRE2_ERROR_NOMATCH) return false;
  if (result < 0) throw Error("PCRE2 gave up: " + pcre2_message(result));
  return true;
}

RegexMatch::RegexMatch(const Regex& regex)
    : regex_(regex), data_(pcre2_match_data_create_from_pattern(regex.code_->code, nullptr)) {
  if (!data_) throw std::bad_alloc();
}

RegexMatch::~RegexMatch() { pcre2_match_data_free(static_cast<pcre2_match_data*>(data_)); }

std::size_t RegexMatch::begin(std::size_t group) const {
  auto* data = static_cast<pcre2_match_data*>(data_);
  if (group >= pcre2_get_ovector_count(data)) return kUnset;
  const PCRE2_SIZE offset = pcre2_get_ovector_pointer(data)[2 * group];
  return offset == PCRE2_UNSET ? kUnset : offset;
}

std::size_t RegexMatch::end(std::size_t group) const {
  auto* data = static_cast<pcre2_match_data*>(data_);
  if (group >= pcre2_get_ovector_count(data)) return kUnset;
  const PCRE2_SIZE offset = pcre2_get_ovector_pointer(data)[2 * group + 1];
  return offset == PCRE2_UNSET ? kUnset : offset;
}

std::size_t RegexMatch::named_group(std::string_view name) const {
  const std::string key(name);
  PCRE2_SPTR first = nullptr, last = nullptr;
  const int found = pcre2_substring_nametable_scan(regex_.code_->code, reinterpret_cast<PCRE2_SPTR>(key.c_str()),
                                                   &first, &last);
  if (found < 0) return 0;
  // Entries of one name are in group order: a big-endian group number, then the name.
  for (PCRE2_SPTR entry = first; entry <= last; entry += found) {
    const std::size_t group = (static_cast<std::size_t>(entry[0]) << 8) | entry[1];
    if (begin(group) != kUnset) return group;
  }
  return 0;
}

}  // namespace tfm
