// Fuzzes tfm-batch's corpus side: two aligned text files read and filtered
// as clean-corpus-n does, batched, written as a batch file and read back;
// every kept pair must come back with its ids. Input: one flags byte, the
// source text, a NUL, the target text.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/data/batch_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const unsigned flags = static_cast<unsigned char>(data[0]);
  auto fields = tfm_fuzz::split_fields(data.substr(1), 2);
  const std::string src = tfm_fuzz::write_file("src", fields[0]);
  const std::string tgt = tfm_fuzz::write_file("tgt", fields.size() > 1 ? fields[1] : "");
  static const tfm::Vocabulary vocabulary =
      tfm::Vocabulary::from_counts(tfm_fuzz::write_file("vocab", "a 5\nb 4\nc 3\nd 2\ne 1\n"));
  tfm::CleanConfig clean;
  clean.filter = !(flags & 1);
  clean.max_length = 1 + (flags >> 4);
  clean.max_ratio = 1 + ((flags >> 1) & 7);
  tfm::BatchConfig batch_config;
  batch_config.max_tokens = 2 * clean.max_length + 2;
  batch_config.allow_oversize = !clean.filter;
  batch_config.multiple = 1 + ((flags >> 2) & 1);
  static std::uint64_t runs = 0;
  const std::string path = tfm_fuzz::work_dir() + "/corpus-" + std::to_string(runs++) + ".h5";
  tfm_fuzz::expect_clean([&] {
    tfm::CorpusStats stats;
    const auto corpus = tfm::read_parallel_corpus(src, tgt, vocabulary, vocabulary, clean, stats);
    tfm::describe(stats, clean);
    if (corpus.size() == 0) return;
    const auto batching =
        tfm::make_batches(tfm::sentence_sizes(corpus.source), tfm::sentence_sizes(corpus.target), batch_config);
    tfm::write_batch_file(path, corpus, batching, vocabulary, vocabulary, true, {src, tgt, batch_config});
    tfm::BatchReader reader(path);
    tfm::SentencePairBatch batch;
    std::size_t pairs = 0;
    while (reader.next(batch)) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        std::size_t kept = 0;
        while (kept < corpus.size() && corpus.lines[kept] != batch.lines[i]) ++kept;
        if (kept == corpus.size()) tfm_fuzz::finding("batch file holds a line that was not kept");
        const auto source = corpus.source.sentence(kept), target = corpus.target.sentence(kept);
        if (!std::equal(source.begin(), source.end(), batch.source[i].begin(), batch.source[i].end()) ||
            !std::equal(target.begin(), target.end(), batch.target[i].begin(), batch.target[i].end()))
          tfm_fuzz::finding("batch file ids differ from the corpus");
      }
      pairs += batch.size();
    }
    if (pairs != corpus.size()) tfm_fuzz::finding("batch file lost pairs");
  });
  std::remove(path.c_str());
  return 0;
}
