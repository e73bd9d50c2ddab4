// Fuzzes the Moses tokenizer (tfm-tokenize): every language rule set, with and
// without -a, -no-escape, -x, --lower-case and protected patterns, on any
// bytes (invalid UTF-8 goes through --replace-invalid's repair, as the tool
// does). Input: one flags byte, then text; a NUL starts a nonbreaking-prefix
// file of its own.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/core/utf8.h"
#include "tfm/text/tokenizer.h"

namespace {

constexpr const char* kLanguages[] = {"en", "de", "fr", "it", "cs", "fi", "sv", "ca",
                                      "ga", "so", "tdt", "nl", "pt", "ru", "zh", "xx"};

// Moses' basic-protected-patterns plus an e-mail pattern and a look-ahead.
tfm::ProtectedPatterns make_patterns() {
  tfm::ProtectedPatterns patterns;
  patterns.add(R"(<\/?\S+\/?>)");
  patterns.add(R"(<\S+( [a-zA-Z0-9]+\=\"?[^\"]\")+ ?\/?>)");
  patterns.add(R"((http[s]?|ftp):\/\/[^:\/\s]+(\/\w+)*\/[\w\-\.]+)");
  patterns.add(R"([\w.+-]+@[\w-]+\.[\w.-]+)");
  patterns.add(R"(\d+(?=%))");
  return patterns;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const unsigned flags = static_cast<unsigned char>(data[0]);
  auto fields = tfm_fuzz::split_fields(data.substr(1), 2);
  tfm::TokenizerConfig config;
  config.language = kLanguages[flags & 15];
  config.aggressive_dash_splits = flags & 16;
  config.escape = !(flags & 32);
  config.skip_xml = (flags & 64) && (flags & 1);
  config.lower_case = (flags & 64) && !(flags & 1);
  tfm::NonbreakingPrefixes prefixes =
      tfm::NonbreakingPrefixes::parse(fields.size() > 1 ? fields[1] : "Mr\nDr\nNo #NUMERIC_ONLY#\nz.B\n");
  const tfm::Tokenizer tokenizer(config, std::move(prefixes),
                                 (flags & 128) ? make_patterns() : tfm::ProtectedPatterns());
  std::string_view text = fields[0];
  std::string out;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    tfm_fuzz::expect_clean([&] {
      if (tfm::is_valid_utf8(line))
        tokenizer.tokenize(line, out);
      else
        tokenizer.tokenize(tfm::replace_invalid_utf8(line), out);
    });
    if (!tfm::is_valid_utf8(out)) tfm_fuzz::finding("tokenizer output is not valid UTF-8");
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return 0;
}
