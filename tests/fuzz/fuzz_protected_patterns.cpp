// Fuzzes the compilation of user-written regular expressions: protected
// pattern files (tfm-tokenize -protected, Perl syntax translated to
// ECMAScript) and BPE glossaries (tfm-bpe --glossaries), then runs what
// compiled on a short text. Input: pattern lines, a NUL, then the text.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "tfm/core/utf8.h"
#include "tfm/text/bpe_glossary.h"
#include "tfm/text/protected_patterns.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  auto fields = tfm_fuzz::split_fields(data, 2);
  // Long texts only make std::regex slow, not more interesting.
  std::string text = tfm::replace_invalid_utf8(fields.size() > 1 ? fields[1].substr(0, 200) : "see http://a.b/c x@y.z");
  const std::string path = tfm_fuzz::write_file("patterns", fields[0]);
  // Loading names the pattern file; a search that PCRE2 gives up names the
  // pattern, and the tool adds the input line that made it give up.
  tfm::ProtectedPatterns patterns;
  tfm_fuzz::expect_clean([&] { patterns = tfm::ProtectedPatterns::load(path); }, path);
  tfm_fuzz::expect_clean([&] {
    std::vector<std::string> found;
    patterns.find_all(text, found);
  });

  std::vector<std::string> glossaries;
  std::string_view rest = fields[0];
  while (!rest.empty() && glossaries.size() < 4) {
    const std::size_t end = std::min(rest.find('\n'), rest.size());
    if (tfm::is_valid_utf8(rest.substr(0, end))) glossaries.emplace_back(rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  tfm_fuzz::expect_clean([&] {
    const tfm::BpeGlossaries compiled(glossaries);
    std::string word = text.substr(0, std::min(text.find(' '), text.size()));
    compiled.matches(word);
    compiled.isolate(word);
  });
  return 0;
}
