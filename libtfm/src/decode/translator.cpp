#include "tfm/decode/translator.h"

#include <algorithm>

#include <fmt/format.h>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/utf8.h"
#include "tfm/model/model_file.h"
#include "tfm/tensor/gemm.h"

namespace tfm {

void validate(const DecodeOptions& o) {
  validate(o.search);
  if (o.batch_size < 1 || o.maxi_batch < 1 || o.max_tokens < 0)
    throw UsageError("--batch-size and --maxi-batch must be at least 1, --max-tokens at least 0");
}

Translator::Translator(const std::vector<std::string>& model_paths, const DecodeOptions& options)
    : options_(options) {
  validate(options_);
  if (model_paths.empty()) throw UsageError("no model given (-m FILE)");
  for (const auto& path : model_paths) {
    models_.push_back(load_model(path));
    if (!(models_.back().vocabulary == models_.front().vocabulary))
      throw InputError(path, 0, fmt::format("vocabulary differs from that of {}", model_paths.front()));
    decoders_.push_back(std::make_unique<IncrementalDecoder>(*models_.back().model));
    decoder_ptrs_.push_back(decoders_.back().get());
  }
  vocabulary_ = models_.front().vocabulary;
  if (!options_.shortlist.empty()) {
    shortlist_ = std::make_unique<Shortlist>(Shortlist::load(options_.shortlist, vocabulary_, vocabulary_));
    shared_tokens_ = shortlist_->shared_tokens(static_cast<std::int64_t>(vocabulary_.size()));
  }
  max_source_ = models_.front().model->config().max_positions - 1;
  for (const auto& m : models_) max_source_ = std::min(max_source_, m.model->config().max_positions - 1);
  if (gemm_precision() == Precision::kBf16)  // weights rounded once, not at every product
    for (const auto& m : models_) add_bf16_shadow(m.model->params().values(), m.model->params().size());
  if (gemm_precision() == Precision::kInt8)  // weights quantized once, when loaded
    for (const auto& d : decoders_)
      for (const auto& w : d->linear_weights()) add_int8_weight(w.values, w.rows, w.cols);
  if (gemm_precision() == Precision::kFp32)  // weights packed once, not at every product
    for (const auto& d : decoders_)
      for (const auto& w : d->linear_weights()) add_packed_weight(w.values, w.rows, w.cols);
}

Translator::~Translator() {
  if (gemm_precision() == Precision::kBf16) clear_bf16_shadows();
  if (gemm_precision() == Precision::kInt8) clear_int8_weights();
  if (gemm_precision() == Precision::kFp32) clear_packed_weights();
}

std::vector<std::int32_t> Translator::to_ids(std::string_view line, std::size_t number,
                                            const std::string& source) const {
  if (!is_valid_utf8(line)) throw InputError(source, number, "invalid UTF-8");
  std::vector<std::int32_t> ids;
  for (std::size_t pos = 0; pos < line.size();) {
    std::size_t end = line.find_first_of(" \t\r", pos);
    if (end == std::string_view::npos) end = line.size();
    if (end > pos) ids.push_back(static_cast<std::int32_t>(vocabulary_.id(line.substr(pos, end - pos))));
    pos = end + 1;
  }
  if (static_cast<std::int64_t>(ids.size()) > max_source_) {
    std::string what = fmt::format("{} tokens, more than the model's {}", ids.size(), max_source_);
    if (options_.strict) throw InputError(source, number, what);
    warn(fmt::format("{}:{}: {}; truncated", source, number, what));
    ids.resize(static_cast<std::size_t>(max_source_));
  }
  return ids;
}

std::string Translator::format(const Hypothesis& h, std::size_t index) const {
  std::string text;
  for (std::size_t i = 0; i < h.tokens.size(); ++i) {
    if (i) text += ' ';
    text += vocabulary_.token(static_cast<std::uint32_t>(h.tokens[i]));
  }
  if (options_.alignment) {
    text += " |||";
    for (std::size_t i = 0; i < h.alignment.size(); ++i) text += fmt::format(" {}-{}", h.alignment[i], i);
  }
  if (options_.search.nbest > 1) return fmt::format("{} ||| {} ||| {:.6f}", index, text, h.score);
  if (options_.scores) text += fmt::format(" ||| {:.6f}", h.log_prob);
  return text;
}

std::vector<std::string> Translator::translate(const std::vector<std::string>& lines,
                                               std::size_t first_line, const std::string& source) {
  std::vector<std::vector<std::int32_t>> ids(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) ids[i] = to_ids(lines[i], first_line + i, source);
  std::vector<std::string> out(lines.size());
  const bool nbest = options_.search.nbest > 1;
  for (const auto& batch : length_sorted_batches(ids, options_.batch_size, options_.max_tokens)) {
    std::vector<std::vector<std::int32_t>> sources;
    for (std::size_t i : batch) sources.push_back(ids[i]);
    if (shortlist_) {
      // Each sentence's candidates for its rows only: a batch's union would
      // hold several times the tokens any one sentence needs, and cost them
      // at every step.
      std::vector<std::vector<std::int32_t>> own;
      for (const auto& s : sources)
        own.push_back(shortlist_->own_tokens(s, shared_tokens_, static_cast<std::int64_t>(vocabulary_.size())));
      for (auto* d : decoder_ptrs_) d->restrict_output(shared_tokens_, own);
    }
    std::vector<std::vector<Hypothesis>> hyps;
    if (options_.search.beam == 1) {
      for (auto& h : greedy_search(decoder_ptrs_, sources, options_.search)) hyps.push_back({std::move(h)});
    } else {
      hyps = beam_search(decoder_ptrs_, sources, options_.search);
    }
    for (std::size_t k = 0; k < batch.size(); ++k) {
      std::string& o = out[batch[k]];
      for (std::size_t r = 0; r < hyps[k].size(); ++r) {
        if (r) o += '\n';
        o += format(hyps[k][r], first_line - 1 + batch[k]);
      }
    }
  }
  if (nbest)  // an empty line has no hypothesis: one n-best line with an empty one
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (ids[i].empty()) out[i] = format(Hypothesis{}, first_line - 1 + i);
  return out;
}

void Translator::translate_stream(LineReader& reader, AtomicFile& out) {
  const std::size_t chunk = options_.unbuffered ? 1 : static_cast<std::size_t>(options_.maxi_batch);
  std::vector<std::string> lines;
  std::string_view line;
  bool more = true;
  while (more) {
    lines.clear();
    std::size_t first = reader.line_number() + 1;
    while (lines.size() < chunk && (more = reader.next(line))) lines.emplace_back(line);
    if (lines.empty()) break;
    for (const auto& o : translate(lines, first, reader.path() == "-" ? "stdin" : reader.path())) {
      out.write(o);
      out.write("\n");
    }
    if (options_.unbuffered) out.flush();
  }
}

std::vector<std::vector<std::size_t>> length_sorted_batches(const std::vector<std::vector<std::int32_t>>& sentences,
                                                   std::int64_t batch_size, std::int64_t max_tokens) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < sentences.size(); ++i)
    if (!sentences[i].empty()) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return sentences[a].size() != sentences[b].size() ? sentences[a].size() < sentences[b].size() : a < b;
  });
  std::vector<std::vector<std::size_t>> batches;
  std::vector<std::size_t> current;
  for (std::size_t i : order) {
    auto len = static_cast<std::int64_t>(sentences[i].size()) + 1;  // sorted: the longest so far
    auto count = static_cast<std::int64_t>(current.size()) + 1;
    if (!current.empty() && (count > batch_size || (max_tokens > 0 && count * len > max_tokens))) {
      batches.push_back(std::move(current));
      current.clear();
    }
    current.push_back(i);
  }
  if (!current.empty()) batches.push_back(std::move(current));
  return batches;
}

}  // namespace tfm
