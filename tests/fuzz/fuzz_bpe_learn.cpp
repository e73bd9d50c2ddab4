// Fuzzes BPE learning on small inputs: word counts from raw text (as
// tfm-bpe learn counts them) or from a --dict-input file, learned with a few
// merges; the codes written must read back and apply. Input: one flags byte,
// then the text (or dictionary with flags bit 0).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/text/bpe_apply.h"
#include "tfm/text/bpe_learn.h"
#include "tfm/text/word_counts.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0 || size > 4096) return 0;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const unsigned flags = static_cast<unsigned char>(data[0]);
  const std::string path = tfm_fuzz::write_file("text", data.substr(1));
  tfm_fuzz::expect_clean(
      [&] {
        const tfm::WordCounts words = (flags & 1) ? tfm::read_word_counts(path) : tfm::count_words(path);
        tfm::BpeLearnConfig config;
        config.symbols = 1 + (flags >> 2) % 40;
        config.min_frequency = 1 + ((flags >> 1) & 1);
        config.total_symbols = flags & 128;
        const tfm::BpeLearnResult learned = tfm::learn_bpe(words, config);
        std::string text(tfm::kBpeCodesHeader);
        for (const auto& merge : learned.merges) text += tfm::format_merge(merge);
        const std::string codes_path = tfm_fuzz::write_file("codes", text);
        const tfm::BpeCodes codes = tfm::read_bpe_codes(codes_path);
        if (codes.merges != learned.merges) tfm_fuzz::finding("learned codes do not read back");
        tfm::BpeApplyConfig apply_config;
        apply_config.concurrent = false;
        const tfm::BpeApplier applier(codes, apply_config);
        for (const auto& [word, count] : words.entries()) applier.segment_word(word);
      },
      path);
  return 0;
}
