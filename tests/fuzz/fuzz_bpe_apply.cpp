// Fuzzes BPE codes reading and application (tfm-bpe apply): a codes file, a
// text to segment, a vocabulary file for the vocabulary filter and a glossary,
// with and without dropout; undoing the segmentation must give the text back
// (single spaces, no separator of its own, no glossary). Input: one flags
// byte, then codes, NUL, text, NUL, vocabulary, NUL, glossary.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/core/utf8.h"
#include "tfm/text/bpe_apply.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const unsigned flags = static_cast<unsigned char>(data[0]);
  auto fields = tfm_fuzz::split_fields(data.substr(1), 4);
  fields.resize(4);
  const std::string codes_path = tfm_fuzz::write_file("codes", fields[0]);
  tfm::BpeCodes codes;
  bool read = false;
  tfm_fuzz::expect_clean(
      [&] {
        codes = tfm::read_bpe_codes(codes_path, (flags & 1) ? 3 : -1);
        read = true;
      },
      codes_path);
  if (!read) return 0;

  std::unordered_set<std::string> vocabulary;
  if (flags & 2) {
    const std::string vocabulary_path = tfm_fuzz::write_file("vocabulary", fields[2]);
    tfm_fuzz::expect_clean([&] { vocabulary = tfm::read_bpe_vocabulary(vocabulary_path, 1); }, vocabulary_path);
  }
  tfm::BpeApplyConfig config;
  config.concurrent = false;
  if ((flags & 4) && tfm::is_valid_utf8(fields[3]) && !fields[3].empty()) config.glossaries = {std::string(fields[3])};
  config.dropout = (flags & 8) ? 0.3 : 0;
  config.seed = flags;
  config.separator = (flags & 16) ? "@@" : "￭";
  std::unique_ptr<tfm::BpeApplier> applier;
  tfm_fuzz::expect_clean([&] { applier = std::make_unique<tfm::BpeApplier>(codes, config, vocabulary); });
  if (!applier) return 0;

  std::string_view text = fields[1];
  std::string out, undone;
  for (std::uint64_t number = 1; !text.empty(); ++number) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string line = tfm::replace_invalid_utf8(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
    out.clear();
    tfm_fuzz::expect_clean([&] { applier->apply_line(line, number, out); });
    const bool plain = config.glossaries.empty() && line.find(config.separator) == std::string::npos &&
                       line.find_first_not_of("abcdefghijklmnopqrstuvwxyz ") == std::string::npos &&
                       line.find("  ") == std::string::npos && !line.starts_with(' ') && !line.ends_with(' ');
    if (plain && !out.empty() && out.back() == '\n') {
      tfm::undo_bpe(std::string_view(out).substr(0, out.size() - 1), config.separator, undone);
      if (undone != line) tfm_fuzz::finding("undo_bpe(apply(x)) != x for '" + line + "'");
    }
  }
  return 0;
}
