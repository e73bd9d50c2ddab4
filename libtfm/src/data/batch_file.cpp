#include "tfm/data/batch_file.h"

#include <algorithm>

#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {

namespace {

constexpr std::size_t kWriteSlab = 1 << 20;  // tokens gathered per write

// Writes one side's tokens and offsets with sentences in `order`.
void write_side(hdf5::File& file, const std::string& group, const TokenizedSide& side,
                const std::vector<std::uint64_t>& order) {
  std::vector<std::uint64_t> offsets;
  offsets.reserve(order.size() + 1);
  offsets.push_back(0);
  for (const auto s : order) offsets.push_back(offsets.back() + side.length(s));
  auto tokens = file.create_dataset<std::uint32_t>(group + "/tokens", {offsets.back()}, hdf5::compressed());
  std::vector<std::uint32_t> slab;
  slab.reserve(kWriteSlab);
  std::uint64_t written = 0;
  const auto flush = [&] {
    tokens.write_rows<std::uint32_t>(written, slab);
    written += slab.size();
    slab.clear();
  };
  for (const auto s : order) {
    const auto sentence = side.sentence(s);
    slab.insert(slab.end(), sentence.begin(), sentence.end());
    if (slab.size() >= kWriteSlab) flush();
  }
  flush();
  file.write(group + "/offsets", offsets, {}, hdf5::compressed());
}

void write_attributes(hdf5::File& file, const ParallelCorpus& corpus, const Batching& batching, bool joint,
                      const BatchFileSource& source) {
  hdf5::write_format(file, kBatchFormat, kBatchFormatVersion);
  const auto count = [](std::size_t n) { return static_cast<std::int64_t>(n); };
  file.write_int_attribute("n_sentences", count(corpus.size()));
  file.write_int_attribute("n_batches", count(batching.size()));
  file.write_int_attribute("n_source_tokens", count(corpus.source.tokens.size()));
  file.write_int_attribute("n_target_tokens", count(corpus.target.tokens.size()));
  file.write_int_attribute("max_tokens", count(source.config.max_tokens));
  file.write_int_attribute("max_sentences", count(source.config.max_sentences));
  file.write_int_attribute("multiple", count(source.config.multiple));
  file.write_int_attribute("copies", count(source.copies));
  file.write_double_attribute("padding_efficiency", batching.padding.efficiency());
  file.write_double_attribute("source_padding_efficiency", batching.padding.source_efficiency());
  file.write_double_attribute("target_padding_efficiency", batching.padding.target_efficiency());
  file.write_int_attribute("joint_vocabulary", joint ? 1 : 0);
  file.write_string_attribute("source_file", source.source_file);
  file.write_string_attribute("target_file", source.target_file);
}

hdf5::File open_batch_file(const std::string& path) {
  auto file = hdf5::File::open(path);
  hdf5::check_format(file, kBatchFormat, kBatchFormatVersion);
  return file;
}

std::uint64_t last_value(const hdf5::Dataset& dataset) {
  std::vector<std::uint64_t> last;
  if (dataset.rows() == 0) return 0;
  dataset.read_rows(dataset.rows() - 1, 1, last);
  return last[0];
}

std::size_t total_size(const std::vector<std::vector<std::uint32_t>>& sentences) {
  std::size_t n = 0;
  for (const auto& s : sentences) n += s.size();
  return n;
}

}  // namespace

std::vector<std::uint32_t> sentence_sizes(const TokenizedSide& side) {
  std::vector<std::uint32_t> sizes(side.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) sizes[i] = static_cast<std::uint32_t>(side.length(i) + 1);
  return sizes;
}

void write_batch_file(const std::string& path, const ParallelCorpus& corpus, const Batching& batching,
                      const Vocabulary& source_vocabulary, const Vocabulary& target_vocabulary, bool joint,
                      const BatchFileSource& source) {
  auto file = hdf5::File::create(path);
  write_attributes(file, corpus, batching, joint, source);
  if (joint) {
    source_vocabulary.save(file, "vocab");
  } else {
    source_vocabulary.save(file, "src/vocab");
    target_vocabulary.save(file, "tgt/vocab");
  }
  write_side(file, "src", corpus.source, batching.order);
  write_side(file, "tgt", corpus.target, batching.order);
  file.write("batches/offsets", batching.offsets, {}, hdf5::compressed());
  std::vector<std::uint64_t> lines(batching.order.size());
  for (std::size_t i = 0; i < lines.size(); ++i) lines[i] = corpus.lines[batching.order[i]];
  file.write("batches/order", lines, {}, hdf5::compressed());
  file.commit();
}

std::size_t SentencePairBatch::source_tokens() const { return total_size(source); }
std::size_t SentencePairBatch::target_tokens() const { return total_size(target); }

BatchReader::BatchReader(const std::string& path, std::size_t shard, std::size_t num_shards)
    : file_(open_batch_file(path)),
      joint_(file_.read_int_attribute("joint_vocabulary") != 0),
      source_vocabulary_(Vocabulary::load(file_, joint_ ? "vocab" : "src/vocab")),
      target_vocabulary_(joint_ ? source_vocabulary_ : Vocabulary::load(file_, "tgt/vocab")),
      source_tokens_(file_.open_dataset("src/tokens")),
      source_offsets_(file_.open_dataset("src/offsets")),
      target_tokens_(file_.open_dataset("tgt/tokens")),
      target_offsets_(file_.open_dataset("tgt/offsets")),
      lines_(file_.open_dataset("batches/order")),
      batch_offsets_(file_.read<std::uint64_t>("batches/offsets")),
      shard_(shard),
      num_shards_(num_shards) {
  if (num_shards == 0 || shard >= num_shards)
    throw UsageError(fmt::format("shard {} of {} does not exist", shard, num_shards));
  if (batch_offsets_.empty() || batch_offsets_[0] != 0 ||
      !std::is_sorted(batch_offsets_.begin(), batch_offsets_.end()))
    corrupt("/batches/offsets is not an ascending list from 0");
  const std::uint64_t n = batch_offsets_.back();
  if (source_offsets_.rows() != n + 1 || target_offsets_.rows() != n + 1 || lines_.rows() != n)
    corrupt(fmt::format("/batches/offsets covers {} sentences, other datasets disagree", n));
  if (last_value(source_offsets_) != source_tokens_.rows() || last_value(target_offsets_) != target_tokens_.rows())
    corrupt("sentence offsets do not end at the token count");
  if (total_batches() < num_shards)
    throw Error(fmt::format("{}: {} batches cannot be split into {} shards", path, total_batches(), num_shards));
  start_in_order();
}

void BatchReader::corrupt(const std::string& what) const {
  throw InputError(file_.path(), 0, "corrupt batch file: " + what);
}

void BatchReader::select(const std::vector<std::size_t>& order) {
  const std::size_t per_shard = order.size() / num_shards_;
  epoch_order_.resize(per_shard);
  for (std::size_t i = 0; i < per_shard; ++i) epoch_order_[i] = order[shard_ + i * num_shards_];
  position_ = 0;
}

void BatchReader::start_epoch(std::uint64_t seed, std::uint64_t epoch) {
  select(shuffled_order(total_batches(), seed, epoch));
}

void BatchReader::start_in_order() {
  std::vector<std::size_t> order(total_batches());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  select(order);
}

void BatchReader::seek(std::size_t position) {
  if (position > epoch_order_.size())
    throw UsageError(fmt::format("position {} is past the {} batches of an epoch", position, epoch_order_.size()));
  position_ = position;
}

bool BatchReader::next(SentencePairBatch& batch) {
  if (position_ >= epoch_order_.size()) return false;
  read(epoch_order_[position_++], batch);
  return true;
}

void BatchReader::read(std::size_t index, SentencePairBatch& batch) {
  if (index >= total_batches())
    throw UsageError(fmt::format("batch {} does not exist ({} batches)", index, total_batches()));
  const std::uint64_t begin = batch_offsets_[index], end = batch_offsets_[index + 1];
  read_side(source_offsets_, source_tokens_, source_vocabulary_, begin, end, batch.source);
  read_side(target_offsets_, target_tokens_, target_vocabulary_, begin, end, batch.target);
  lines_.read_rows(begin, end - begin, batch.lines);
  batch.index = index;
}

void BatchReader::read_side(const hdf5::Dataset& offsets, const hdf5::Dataset& tokens, const Vocabulary& vocabulary,
                            std::uint64_t begin, std::uint64_t end, std::vector<std::vector<std::uint32_t>>& out) {
  offsets.read_rows(begin, end - begin + 1, offsets_buffer_);
  if (!std::is_sorted(offsets_buffer_.begin(), offsets_buffer_.end()) || offsets_buffer_.back() > tokens.rows())
    corrupt(fmt::format("{} are not ascending", offsets.name()));
  const std::uint64_t first = offsets_buffer_.front();
  tokens.read_rows(first, offsets_buffer_.back() - first, tokens_buffer_);
  out.resize(end - begin);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].assign(tokens_buffer_.begin() + static_cast<std::ptrdiff_t>(offsets_buffer_[i] - first),
                  tokens_buffer_.begin() + static_cast<std::ptrdiff_t>(offsets_buffer_[i + 1] - first));
  }
  const std::size_t size = vocabulary.size();
  for (const auto id : tokens_buffer_)
    if (id >= size) corrupt(fmt::format("token id {} in {} is outside the vocabulary of {}", id, tokens.name(), size));
}

namespace {

// Sentences and padded sizes per batch, read back through the reader.
std::string describe_batches(BatchReader& reader) {
  std::size_t min_n = SIZE_MAX, max_n = 0, max_source = 0, max_target = 0;
  SentencePairBatch batch;
  while (reader.next(batch)) {
    min_n = std::min(min_n, batch.size());
    max_n = std::max(max_n, batch.size());
    std::size_t longest_source = 0, longest_target = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      longest_source = std::max(longest_source, batch.source[i].size() + 1);
      longest_target = std::max(longest_target, batch.target[i].size() + 1);
    }
    max_source = std::max(max_source, longest_source * batch.size());
    max_target = std::max(max_target, longest_target * batch.size());
  }
  const double mean = static_cast<double>(reader.total_sentences()) / static_cast<double>(reader.total_batches());
  std::string vocabulary =
      reader.joint_vocabulary()
          ? fmt::format("joint, {} tokens", reader.vocabulary().size())
          : fmt::format("source {} tokens, target {} tokens", reader.source_vocabulary().size(),
                        reader.target_vocabulary().size());
  return fmt::format(
      "vocabulary: {}\nbatches: {} of {} sentence pairs; sentences per batch min {}, mean {:.1f}, max {}\n"
      "largest padded batch (tokens with </s>): source {}, target {}\n",
      vocabulary, reader.total_batches(), reader.total_sentences(), min_n, mean, max_n, max_source, max_target);
}

}  // namespace

std::string describe_file(const std::string& path) {
  std::string text;
  bool is_batches = false;
  {
    const auto file = hdf5::File::open(path);
    text = hdf5::describe(file);
    is_batches = hdf5::format_of(file) == kBatchFormat;
  }
  if (is_batches) {
    BatchReader reader(path);
    text += describe_batches(reader);
  }
  return text;
}

}  // namespace tfm
