// Nonbreaking prefixes: words that a following period does not end ("Mr.",
// "z.B."), read from files in Moses' format, one prefix a line:
//   # comment lines start with '#'; empty lines are ignored
//   Mr
//   No #NUMERIC_ONLY#      (stays joined only when a number follows)
// Parsing follows tokenizer.perl exactly (a line "0" is skipped, like any
// false Perl string; text before the last "<spaces>#NUMERIC_ONLY#" is the key,
// so a user's Moses file gives Moses' behaviour).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tfm {

class NonbreakingPrefixes {
 public:
  enum Kind { kNotPrefix = 0, kAlways = 1, kNumericOnly = 2 };

  // Parses the content of a prefix file.
  static NonbreakingPrefixes parse(std::string_view text);
  // Reads and parses `path`. Throws IoError when it cannot be read.
  static NonbreakingPrefixes load(const std::string& path);
  // Our built-in list for `language` ("en", "de", ...) found with
  // find_data_file, or "" when we ship none for it.
  static std::string builtin_path(const std::string& language);

  // Adds one line of a prefix file (without its '\n').
  void add_line(std::string_view line);
  Kind find(std::string_view word) const;
  std::size_t size() const { return prefixes_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Kind, Hash, std::equal_to<>> prefixes_;
};

}  // namespace tfm
