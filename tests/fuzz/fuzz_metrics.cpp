// Fuzzes the scorers of tfm-bleu (BLEU, chrF/chrF++, TER) and every sacrebleu
// tokenizer on arbitrary hypothesis/reference files, read through the tool's
// own readers. Input: two flags bytes, the hypotheses, a NUL, the references
// (with flags bit 0 of the second byte: two tab-separated reference sets).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/eval/evaluate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const unsigned flags = static_cast<unsigned char>(data[0]), more = static_cast<unsigned char>(data[1]);
  auto fields = tfm_fuzz::split_fields(data.substr(2), 2);
  const std::string hyp_path = tfm_fuzz::write_file("hyp", fields[0]);
  const std::string ref_path = tfm_fuzz::write_file("ref", fields.size() > 1 ? fields[1] : fields[0]);

  constexpr tfm::BleuTokenizer kTokenizers[] = {tfm::BleuTokenizer::k13a, tfm::BleuTokenizer::kIntl,
                                                tfm::BleuTokenizer::kZh, tfm::BleuTokenizer::kChar,
                                                tfm::BleuTokenizer::kNone};
  tfm::EvalOptions options;
  options.metrics = {"bleu", "chrf", "ter"};
  options.bleu.tokenizer = kTokenizers[(flags & 7) % 5];
  options.bleu.lowercase = flags & 8;
  options.bleu.smooth = static_cast<tfm::BleuSmooth>((flags >> 4) & 3);
  options.bleu.effective_order = flags & 64;
  options.bleu.max_order = 1 + (more >> 6);
  options.chrf.word_order = (more & 2) ? 2 : 0;
  options.chrf.lowercase = more & 4;
  options.chrf.whitespace = more & 8;
  options.chrf.eps_smoothing = flags & 128;
  options.ter.normalized = more & 16;
  options.ter.no_punct = more & 32;
  options.ter.asian_support = more & 64;
  options.ter.case_sensitive = more & 128;
  options.force = true;

  tfm_fuzz::expect_clean([&] {
    const tfm::Lines hyps = tfm::read_segments(hyp_path);
    const tfm::RefSets refs = tfm::read_references({ref_path}, (more & 1) ? 2 : 1);
    tfm::check_line_counts(hyps, hyp_path, refs, {ref_path});
    for (const auto& line : hyps) {
      for (auto tokenizer : kTokenizers) tfm::tokenize_bleu(line, tokenizer);
      tfm::tokenize_tercom(line, options.ter);
      tfm::python_lower(line);
    }
    tfm::evaluate_system(hyps, refs, options);
    options.sentence_level = true;
    for (const char* metric : {"bleu", "chrf", "ter"}) {
      options.metrics = {metric};
      tfm::evaluate_system(hyps, refs, options);
    }
  });
  return 0;
}
