// Fuzzes tfm-train's and tfm-batch --info's reader of batch files: a small
// valid file is written once (through tfm-batch's own code), then each input
// patches or truncates a copy of it (fuzz_util.h's patch_file), which is read
// batch by batch in file order and in a shuffled epoch, and described.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/data/batch_file.h"

namespace {

const std::string& valid_file() {
  static const std::string bytes = [] {
    const std::string vocab_path =
        tfm_fuzz::write_file("vocab", "ein 3\nHaus 4\nist 2\na 2\nhouse 4\nis 2\nthis 1\nsmall 1\nja 10\n");
    const std::string src = tfm_fuzz::write_file("src", "ein Haus\ndas ist ein kleines Haus\nHaus\nja ja\nein Haus ist\n");
    const std::string tgt = tfm_fuzz::write_file("tgt", "a house\nthis is a small house\nhouse is a house\nyes\na house\n");
    const auto vocabulary = tfm::Vocabulary::from_counts(vocab_path);
    tfm::CorpusStats stats;
    const auto corpus = tfm::read_parallel_corpus(src, tgt, vocabulary, vocabulary, {}, stats);
    tfm::BatchConfig config;
    config.max_tokens = 12;
    const auto batching =
        tfm::make_batches(tfm::sentence_sizes(corpus.source), tfm::sentence_sizes(corpus.target), config);
    const std::string path = tfm_fuzz::work_dir() + "/valid.h5";
    // Fixed source names: the file's bytes must not depend on $TMPDIR, or a
    // finding's patches would land elsewhere when it is replayed.
    tfm::write_batch_file(path, corpus, batching, vocabulary, vocabulary, true, {"src", "tgt", config});
    return tfm_fuzz::read_file(path);
  }();
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  // A new name each time: HDF5 would reuse a file it still holds open.
  static std::uint64_t runs = 0;
  const std::string path =
      tfm_fuzz::write_file("batches-" + std::to_string(runs++) + ".h5", tfm_fuzz::patch_file(valid_file(), data));
  tfm_fuzz::expect_clean(
      [&] {
        tfm::BatchReader reader(path);
        tfm::SentencePairBatch batch;
        reader.start_in_order();
        while (reader.next(batch)) {
        }
        reader.start_epoch(7, 1);
        while (reader.next(batch)) {
        }
      },
      path);
  tfm_fuzz::expect_clean([&] { tfm::describe_file(path); }, path);
  std::filesystem::remove(path);
  return 0;
}
