// The batch file (format "tfm-batches", version 1): what tfm-batch writes and
// tfm-train reads, one batch at a time.
//
// Layout (all datasets chunked and deflate-compressed):
//   /vocab              string [V]      joint vocabulary, id = index
//   /src/vocab, /tgt/vocab              instead, when the vocabularies are separate
//   /src/tokens         uint32 [T_src]  ids of every sentence, no <s> </s>,
//                                       sentences stored in batch order
//   /src/offsets        uint64 [n + 1]  sentence i = tokens[offsets[i], offsets[i+1])
//   /tgt/tokens, /tgt/offsets           the same for the target side
//   /batches/offsets    uint64 [B + 1]  batch b = stored sentences [offsets[b], offsets[b+1])
//   /batches/order      uint64 [n]      0-based input line of stored sentence i
// Root attributes: format, format_version, n_sentences, n_batches,
// n_source_tokens, n_target_tokens, max_tokens, max_sentences, multiple,
// padding_efficiency (+ source_/target_padding_efficiency), joint_vocabulary,
// source_file, target_file.
//
// Because sentences are stored in batch order, reading batch b is four
// contiguous range reads, whatever the shuffled order of batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tfm/data/batching.h"
#include "tfm/data/corpus.h"
#include "tfm/data/vocabulary.h"
#include "tfm/io/hdf5.h"

namespace tfm {

inline constexpr const char* kBatchFormat = "tfm-batches";
inline constexpr std::int64_t kBatchFormatVersion = 1;

// Sizes the batching counts: each sentence's length plus its </s>.
std::vector<std::uint32_t> sentence_sizes(const TokenizedSide& side);

// Where the batches came from, stored as attributes.
struct BatchFileSource {
  std::string source_file, target_file;
  BatchConfig config;
  std::size_t copies = 1;  // segmentations of one corpus in the files, batched one by one
};

// Writes `corpus` grouped by `batching` to `path` atomically (nothing appears
// at `path` unless the whole file was written). `joint` stores one /vocab
// (source_vocabulary) instead of /src/vocab and /tgt/vocab. Throws IoError.
void write_batch_file(const std::string& path, const ParallelCorpus& corpus, const Batching& batching,
                      const Vocabulary& source_vocabulary, const Vocabulary& target_vocabulary, bool joint,
                      const BatchFileSource& source);

// One batch, sentences in length order.
struct SentencePairBatch {
  std::vector<std::vector<std::uint32_t>> source, target;  // ids, no <s>/</s>
  std::vector<std::uint64_t> lines;                        // 0-based input line of each pair
  std::size_t index = 0;                                   // batch number in the file
  std::size_t size() const { return source.size(); }
  std::size_t source_tokens() const;  // ids in the batch, without padding or </s>
  std::size_t target_tokens() const;
};

// Reads a batch file one batch at a time. Reader `shard` of `num_shards` sees,
// in each epoch, the batches at positions shard, shard + N, shard + 2N, ... of
// that epoch's order, floor(B / N) of them, so every shard has the same count
// (the B mod N batches at the end of the order sit out that epoch; the order
// changes every epoch, so which ones do too).
//
// Before start_epoch() the order is the file's (by length: for validation).
// Throws IoError for unreadable files, InputError for a file of another format
// or version or with inconsistent contents, UsageError for a bad shard.
class BatchReader {
 public:
  BatchReader(const std::string& path, std::size_t shard = 0, std::size_t num_shards = 1);

  bool joint_vocabulary() const { return joint_; }
  // The joint vocabulary (the source one when separate).
  const Vocabulary& vocabulary() const { return source_vocabulary_; }
  const Vocabulary& source_vocabulary() const { return source_vocabulary_; }
  const Vocabulary& target_vocabulary() const { return target_vocabulary_; }

  std::size_t batches_per_epoch() const { return epoch_order_.size(); }  // for this shard
  std::size_t total_batches() const { return batch_offsets_.size() - 1; }
  std::uint64_t total_sentences() const { return batch_offsets_.back(); }
  const hdf5::File& file() const { return file_; }

  // Shuffles the batch order from (seed, epoch) and rewinds: the same on every
  // run and shard, different across epochs.
  void start_epoch(std::uint64_t seed, std::uint64_t epoch);
  // Batches in file order (sorted by length) and rewinds.
  void start_in_order();
  // Resume: the next batch is the position-th of this shard's epoch order.
  void seek(std::size_t position);
  std::size_t position() const { return position_; }
  // Reads the next batch; false at the end of the epoch.
  bool next(SentencePairBatch& batch);
  // Batch `index` of the file, whatever the order.
  void read(std::size_t index, SentencePairBatch& batch);

 private:
  void select(const std::vector<std::size_t>& order);
  void read_side(const hdf5::Dataset& offsets, const hdf5::Dataset& tokens, const Vocabulary& vocabulary,
                 std::uint64_t begin, std::uint64_t end, std::vector<std::vector<std::uint32_t>>& out);
  [[noreturn]] void corrupt(const std::string& what) const;

  hdf5::File file_;
  bool joint_;
  Vocabulary source_vocabulary_, target_vocabulary_;
  hdf5::Dataset source_tokens_, source_offsets_, target_tokens_, target_offsets_, lines_;
  std::vector<std::uint64_t> batch_offsets_;
  std::size_t shard_, num_shards_;
  std::vector<std::size_t> epoch_order_;  // this shard's batches, in reading order
  std::size_t position_ = 0;
  std::vector<std::uint64_t> offsets_buffer_;
  std::vector<std::uint32_t> tokens_buffer_;
};

// What an HDF5 file holds, as text for `tfm-batch --info`: root attributes,
// each group's attributes, and every dataset with type and shape; for a batch
// file also sentence and token counts per batch (after checking it reads).
std::string describe_file(const std::string& path);

}  // namespace tfm
