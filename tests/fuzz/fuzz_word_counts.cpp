// Fuzzes the readers of word-count vocabularies (`word count` lines): tfm-bpe's
// --vocabulary and --dict-input, tfm-batch's vocabularies (with the special
// tokens), and word counting of raw text (tfm-bpe get-vocab, threaded and
// not, which must agree). Input: any bytes, read as one file.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/data/vocabulary.h"
#include "tfm/text/bpe_apply.h"
#include "tfm/text/word_counts.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const std::string path = tfm_fuzz::write_file("vocab", data);
  tfm_fuzz::expect_clean([&] { tfm::format_vocabulary(tfm::read_word_counts(path)); }, path);
  tfm_fuzz::expect_clean([&] { tfm::read_bpe_vocabulary(path, size % 3); }, path);
  tfm_fuzz::expect_clean(
      [&] {
        const tfm::Vocabulary vocabulary = tfm::Vocabulary::from_counts(path, size % 2 + 1);
        for (const auto& token : vocabulary.tokens())
          if (vocabulary.token(vocabulary.id(token)) != token) tfm_fuzz::finding("vocabulary id lookup");
      },
      path);
  tfm_fuzz::expect_clean(
      [&] {
        const auto one = tfm::count_words(path, 1).entries();
        if (tfm::count_words(path, 2).entries() != one) tfm_fuzz::finding("count_words depends on threads");
      },
      path);
  return 0;
}
