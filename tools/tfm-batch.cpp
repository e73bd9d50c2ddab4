// tfm-batch: turns a tokenized (BPE) parallel corpus into tfm's training data
// file: ids from a word-count vocabulary, pairs filtered as Moses'
// clean-corpus-n does, length-sorted batches with fairseq's --max-tokens
// semantics, all written to one HDF5 file that tfm-train reads.
//
//   tfm-batch --src train.bpe.de --tgt train.bpe.en --vocab vocab.txt -o train.h5
//   tfm-batch --info train.h5
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/data/batch_file.h"
#include "tfm/data/batching.h"
#include "tfm/data/corpus.h"
#include "tfm/data/vocabulary.h"

namespace {

struct Options {
  std::string source, target, vocabulary, source_vocabulary, target_vocabulary, output, info;
  std::uint64_t vocabulary_min_count = 1;
  std::size_t copies = 1;
  tfm::CleanConfig clean;
  tfm::BatchConfig batch;
  bool valid = false;
};

tfm::po::options_description declare(Options& o) {
  namespace po = tfm::po;
  po::options_description options("Options");
  options.add_options()
      ("src", po::value(&o.source)->value_name("FILE"), "source side, one tokenized sentence a line")
      ("tgt", po::value(&o.target)->value_name("FILE"), "target side, aligned with --src")
      ("vocab", po::value(&o.vocabulary)->value_name("FILE"), "joint vocabulary, 'token count' lines")
      ("src-vocab", po::value(&o.source_vocabulary)->value_name("FILE"), "source vocabulary (with --tgt-vocab)")
      ("tgt-vocab", po::value(&o.target_vocabulary)->value_name("FILE"), "target vocabulary (with --src-vocab)")
      ("output,o", po::value(&o.output)->value_name("FILE"), "batch file to write (HDF5)")
      ("vocab-min-count", po::value(&o.vocabulary_min_count)->default_value(o.vocabulary_min_count)->value_name("N"),
       "keep vocabulary tokens seen at least this often")
      ("min-len", po::value(&o.clean.min_length)->default_value(o.clean.min_length)->value_name("N"),
       "drop pairs with a side shorter than this (tokens)")
      ("max-len", po::value(&o.clean.max_length)->default_value(o.clean.max_length)->value_name("N"),
       "drop pairs with a side longer than this (tokens)")
      ("max-ratio", po::value(&o.clean.max_ratio)->default_value(o.clean.max_ratio)->value_name("R"),
       "drop pairs whose length ratio exceeds this")
      ("max-tokens", po::value(&o.batch.max_tokens)->default_value(o.batch.max_tokens)->value_name("N"),
       "batch size limit: sentences x longest sentence, each side, </s> included")
      ("max-sentences", po::value(&o.batch.max_sentences)->default_value(o.batch.max_sentences)->value_name("N"),
       "at most this many sentences a batch (0: no limit)")
      ("multiple", po::value(&o.batch.multiple)->default_value(o.batch.multiple)->value_name("N"),
       "make batch sizes a multiple of this when possible")
      ("copies", po::value(&o.copies)->default_value(o.copies)->value_name("N"),
       "the files are N segmentations of one corpus, one after the other (BPE-dropout): each batched on its own")
      ("valid", po::bool_switch(&o.valid), "validation data: keep every pair, no filtering")
      ("info", po::value(&o.info)->value_name("FILE"), "print what an HDF5 file (batches, model, checkpoint) holds");
  return options;
}

void check(const Options& o) {
  if (!o.info.empty()) return;
  if (o.source.empty() || o.target.empty() || o.output.empty())
    throw tfm::UsageError("--src, --tgt and --output are required (try 'tfm-batch --help')");
  if (o.output == "-") throw tfm::UsageError("--output must be a file (HDF5 cannot go to standard output)");
  const bool separate = !o.source_vocabulary.empty() || !o.target_vocabulary.empty();
  if (o.vocabulary.empty() == !separate ||
      (separate && (o.source_vocabulary.empty() || o.target_vocabulary.empty())))
    throw tfm::UsageError("give either --vocab, or both --src-vocab and --tgt-vocab");
  if (!o.valid && o.clean.max_length + 1 > o.batch.max_tokens)
    throw tfm::UsageError(fmt::format("--max-tokens {} cannot hold a sentence of --max-len {} and its </s>",
                                      o.batch.max_tokens, o.clean.max_length));
}

int run(int argc, char** argv) {
  Options o;
  const tfm::ToolInfo info{"tfm-batch", "--src FILE --tgt FILE --vocab FILE -o FILE [options] | --info FILE",
                           "Turns a tokenized parallel corpus into length-sorted, token-budget batches of ids "
                           "in an HDF5 file for tfm-train, or describes such a file."};
  tfm::po::variables_map vm;
  if (!tfm::parse_command_line(info, declare(o), argc, argv, vm)) return tfm::kExitOk;
  check(o);
  if (!o.info.empty()) {
    std::cout << tfm::describe_file(o.info);
    return tfm::kExitOk;
  }
  const bool joint = !o.vocabulary.empty();
  const auto source_vocabulary =
      tfm::Vocabulary::from_counts(joint ? o.vocabulary : o.source_vocabulary, o.vocabulary_min_count);
  const auto target_vocabulary =
      joint ? source_vocabulary : tfm::Vocabulary::from_counts(o.target_vocabulary, o.vocabulary_min_count);
  o.clean.filter = !o.valid;
  o.batch.allow_oversize = o.valid;
  tfm::CorpusStats stats;
  const auto corpus =
      tfm::read_parallel_corpus(o.source, o.target, source_vocabulary, target_vocabulary, o.clean, stats);
  const auto copy_of_pairs =
      o.copies != 1 ? tfm::copy_of_pairs(corpus, stats, o.copies, o.source) : std::vector<std::uint32_t>{};
  tfm::note(tfm::describe(stats, o.clean));
  if (corpus.size() == 0) throw tfm::Error("no sentence pairs left to batch");
  const auto batching = tfm::make_batches(tfm::sentence_sizes(corpus.source), tfm::sentence_sizes(corpus.target),
                                          o.batch, copy_of_pairs);
  tfm::write_batch_file(o.output, corpus, batching, source_vocabulary, target_vocabulary, joint,
                        {o.source, o.target, o.batch, o.copies});
  tfm::note(fmt::format("{} batches of at most {} tokens in {}; padding efficiency {:.4f} (source {:.4f}, "
                        "target {:.4f})",
                        batching.size(), o.batch.max_tokens, o.output, batching.padding.efficiency(),
                        batching.padding.source_efficiency(), batching.padding.target_efficiency()));
  return tfm::kExitOk;
}

}  // namespace

int main(int argc, char** argv) { return tfm::run_tool("batch", argc, argv, run); }
