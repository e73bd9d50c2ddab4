// Fuzzes the Moses detokenizer (tfm-detokenize) for each language rule set,
// with and without -u and -penn. Input: one flags byte, then text lines.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/core/utf8.h"
#include "tfm/text/detokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  constexpr const char* kLanguages[] = {"en", "fr", "it", "cs", "fi", "ko", "zh", "de"};
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const unsigned flags = static_cast<unsigned char>(data[0]);
  tfm::DetokenizerConfig config;
  config.language = kLanguages[flags & 7];
  config.uppercase_first = flags & 8;
  config.penn = (flags & 16) && config.language == "en";
  const tfm::Detokenizer detokenizer(config);
  std::string_view text = data.substr(1);
  std::string out;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string line = tfm::replace_invalid_utf8(text.substr(0, end));
    tfm_fuzz::expect_clean([&] { detokenizer.detokenize(line, out); });
    if (!tfm::is_valid_utf8(out)) tfm_fuzz::finding("detokenizer output is not valid UTF-8");
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return 0;
}
