// BPE codes files as subword-nmt writes them: a `#version: 0.2` header, then
// one merge `left right` per line in the order learned. In version 0.2 the
// last symbol of a word carries the end-of-word marker `</w>` ("b</w>");
// version 0.1 files (header `#version: 0.1`, or no header at all) use a
// separate `</w>` symbol. Shared by the learner (writes) and applier (reads).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tfm {

inline constexpr std::string_view kEndOfWord = "</w>";
inline constexpr std::string_view kBpeCodesHeader = "#version: 0.2\n";

struct BpeCodes {
  int version = 2;  // minor version: 1 or 2 ("0.1", "0.2")
  std::vector<std::pair<std::string, std::string>> merges;
};

// Reads a codes file, keeping only the first `max_merges` merges when it is
// >= 0 (later lines are not even checked, as subword-nmt does). Throws
// InputError(file, line) for an unsupported `#version` header, invalid UTF-8
// or a line that is not two units separated by one space; IoError when the
// file cannot be read. A file with a header and no merges is valid (empty).
BpeCodes read_bpe_codes(const std::string& path, long max_merges = -1);

// The text of one merge line, `left right\n`.
std::string format_merge(const std::pair<std::string, std::string>& merge);

}  // namespace tfm
