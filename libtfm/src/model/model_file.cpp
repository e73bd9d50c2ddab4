#include "tfm/model/model_file.h"

#include <algorithm>
#include <filesystem>
#include <span>

#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {

namespace fs = std::filesystem;

void write_config(hdf5::Group& group, const ModelConfig& c) {
  group.write_int_attribute("vocab_size", c.vocab_size);
  group.write_int_attribute("d_model", c.d_model);
  group.write_int_attribute("heads", c.heads);
  group.write_int_attribute("ffn", c.ffn);
  group.write_int_attribute("encoder_layers", c.encoder_layers);
  group.write_int_attribute("decoder_layers", c.decoder_layers);
  group.write_double_attribute("dropout", c.dropout);
  group.write_double_attribute("attention_dropout", c.attention_dropout);
  group.write_double_attribute("relu_dropout", c.relu_dropout);
  group.write_double_attribute("source_word_dropout", c.source_word_dropout);
  group.write_double_attribute("target_word_dropout", c.target_word_dropout);
  group.write_double_attribute("label_smoothing", c.label_smoothing);
  group.write_int_attribute("pre_norm", c.pre_norm ? 1 : 0);
  group.write_int_attribute("max_positions", c.max_positions);
}

ModelConfig read_config(const hdf5::Group& group) {
  ModelConfig c;
  c.vocab_size = group.read_int_attribute("vocab_size");
  c.d_model = group.read_int_attribute("d_model");
  c.heads = group.read_int_attribute("heads");
  c.ffn = group.read_int_attribute("ffn");
  c.encoder_layers = group.read_int_attribute("encoder_layers");
  c.decoder_layers = group.read_int_attribute("decoder_layers");
  c.dropout = static_cast<float>(group.read_double_attribute("dropout"));
  c.attention_dropout = static_cast<float>(group.read_double_attribute("attention_dropout"));
  c.relu_dropout = static_cast<float>(group.read_double_attribute("relu_dropout"));
  // Files written before word dropout existed lack these: none.
  for (auto [name, field] : {std::pair{"source_word_dropout", &c.source_word_dropout},
                             std::pair{"target_word_dropout", &c.target_word_dropout}})
    if (group.has_attribute(name)) *field = static_cast<float>(group.read_double_attribute(name));
  c.label_smoothing = static_cast<float>(group.read_double_attribute("label_smoothing"));
  c.pre_norm = group.read_int_attribute("pre_norm") != 0;
  c.max_positions = group.read_int_attribute("max_positions");
  return c;
}

bool same_architecture(const ModelConfig& a, const ModelConfig& b) {
  return a.vocab_size == b.vocab_size && a.d_model == b.d_model && a.heads == b.heads &&
         a.ffn == b.ffn && a.encoder_layers == b.encoder_layers &&
         a.decoder_layers == b.decoder_layers && a.pre_norm == b.pre_norm &&
         a.max_positions == b.max_positions;
}

void write_params(hdf5::Group& group, const ParamStore& store, const float* values) {
  for (const ParamInfo& p : store.params()) {
    hdf5::Shape shape(p.shape.begin(), p.shape.end());
    group.write<float>(p.name, std::span<const float>(values + p.offset, static_cast<std::size_t>(p.size)),
                       shape);
  }
}

void read_params(const hdf5::Group& group, const ParamStore& store, float* values) {
  for (const ParamInfo& p : store.params()) {
    if (!group.is_dataset(p.name))
      throw InputError(group.file(), 0, fmt::format("no parameter {}/{}", group.name(), p.name));
    hdf5::Dataset d = group.open_dataset(p.name);
    hdf5::Shape want(p.shape.begin(), p.shape.end());
    if (d.shape() != want)
      throw InputError(group.file(), 0,
                       fmt::format("parameter {} has shape {}, the model needs {}", p.name,
                                   hdf5::shape_text(d.shape()), hdf5::shape_text(want)));
    d.read_rows_into(0, d.rows(), std::span<float>(values + p.offset, static_cast<std::size_t>(p.size)));
  }
}

hdf5::File open_model_or_checkpoint(const std::string& path) {
  hdf5::File file = hdf5::File::open(path);
  const std::string format = hdf5::format_of(file);
  if (format == kCheckpointFormat) hdf5::check_format(file, format, kCheckpointFormat, kCheckpointFormatVersion);
  else hdf5::check_format(file, format, kModelFormat, kModelFormatVersion);
  return file;
}

std::vector<CheckpointFile> list_checkpoints(const std::string& run_dir) {
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) throw IoError(run_dir, "not a folder", ec.value());
  std::vector<CheckpointFile> found;
  for (const auto& entry : fs::directory_iterator(run_dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".h5") continue;
    hdf5::File file = hdf5::File::open(entry.path().string());
    if (hdf5::format_of(file) != kCheckpointFormat) continue;
    found.push_back({file.read_int_attribute("step"), entry.path().string()});
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.step != b.step ? a.step < b.step : a.path < b.path; });
  for (std::size_t i = 1; i < found.size(); ++i)
    if (found[i].step == found[i - 1].step)
      throw InputError(found[i].path, 0, fmt::format("step {} also in {}", found[i].step, found[i - 1].path));
  return found;
}

std::vector<std::string> last_checkpoints(const std::string& run_dir, std::int64_t n) {
  const auto found = list_checkpoints(run_dir);
  if (n < 1 || static_cast<std::int64_t>(found.size()) < n)
    throw InputError(run_dir, 0, fmt::format("{} checkpoints wanted, {} found", n, found.size()));
  std::vector<std::string> out;
  for (auto it = found.end() - n; it != found.end(); ++it) out.push_back(it->path);
  return out;
}

std::string checkpoint_path(const std::string& run_dir, std::int64_t step) {
  return (fs::path(run_dir) / fmt::format("ckpt-{}.h5", step)).string();
}

}  // namespace tfm
