#include "tfm/text/bpe_codes.h"

#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/utf8.h"

namespace tfm {

namespace {

// Minor version of a `#version: X` header (trailing ".0" groups ignored, as
// subword-nmt does), or -1 when it is not 0.1 or 0.2.
int parse_version(std::string_view line) {
  const auto end = line.find_last_not_of(" \t\r");
  if (end == std::string_view::npos) return -1;
  line = line.substr(0, end + 1);
  std::string_view number = line.substr(line.find_last_of(" \t:") + 1);
  while (number.size() > 2 && number.ends_with(".0")) number.remove_suffix(2);
  if (number == "0.1") return 1;
  if (number == "0.2") return 2;
  return -1;
}

std::string_view strip_cr_lf_space(std::string_view s) {
  const auto first = s.find_first_not_of("\r\n ");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of("\r\n ") - first + 1);
}

}  // namespace

BpeCodes read_bpe_codes(const std::string& path, long max_merges) {
  LineReader reader(path);
  BpeCodes codes;
  codes.version = 1;  // no header: subword-nmt's version 0.1
  std::string_view line;
  const std::string name = display_name(path);
  std::size_t blank_line = 0;  // subword-nmt ignores empty lines at the end only
  while ((max_merges < 0 || static_cast<long>(codes.merges.size()) < max_merges) && reader.next(line)) {
    if (!is_valid_utf8(line)) throw InputError(name, reader.line_number(), "invalid UTF-8");
    if (reader.line_number() == 1 && line.starts_with("#version")) {
      codes.version = parse_version(line);
      if (!line.starts_with("#version:") || codes.version < 0)
        throw InputError(name, 1, "unsupported header '" + std::string(line) +
                                      "' (expected '#version: 0.2' or '#version: 0.1')");
      continue;
    }
    if (line.empty()) {
      if (blank_line == 0) blank_line = reader.line_number();
      continue;
    }
    if (blank_line != 0) throw InputError(name, blank_line, "empty line in BPE codes");
    const std::string_view text = strip_cr_lf_space(line);
    const auto space = text.find(' ');
    if (space == std::string_view::npos || space == 0 || space + 1 == text.size() ||
        text.find(' ', space + 1) != std::string_view::npos)
      throw InputError(name, reader.line_number(),
                       "invalid BPE codes line '" + std::string(text) +
                           "': expected two subword units separated by one space");
    codes.merges.emplace_back(std::string(text.substr(0, space)), std::string(text.substr(space + 1)));
  }
  return codes;
}

std::string format_merge(const std::pair<std::string, std::string>& merge) {
  std::string line = merge.first;
  line += ' ';
  line += merge.second;
  line += '\n';
  return line;
}

}  // namespace tfm
