#include "tfm/model/model_file.h"

#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {

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
  std::vector<float> data;
  for (const ParamInfo& p : store.params()) {
    if (!group.is_dataset(p.name))
      throw InputError(group.file(), 0, fmt::format("no parameter {}/{}", group.name(), p.name));
    hdf5::Dataset d = group.open_dataset(p.name);
    hdf5::Shape want(p.shape.begin(), p.shape.end());
    if (d.shape() != want)
      throw InputError(group.file(), 0,
                       fmt::format("parameter {} has shape {}, the model needs {}", p.name,
                                   hdf5::shape_text(d.shape()), hdf5::shape_text(want)));
    d.read_rows<float>(0, d.rows(), data);
    std::copy(data.begin(), data.end(), values + p.offset);
  }
}

void save_model(const std::string& path, Transformer& model, const Vocabulary& vocabulary) {
  hdf5::File file = hdf5::File::create(path);
  hdf5::write_format(file, kModelFormat, kModelFormatVersion);
  hdf5::Group config = file.create_group("config");
  write_config(config, model.config());
  vocabulary.save(file, "vocab");
  hdf5::Group params = file.create_group("params");
  write_params(params, model.params(), model.params().values());
  file.commit();
}

}  // namespace tfm
