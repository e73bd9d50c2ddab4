// The parts of model_file.h that build or read a Transformer, apart from
// model_file.cpp so that a tool handling files alone (tfm-average) does not
// link the network and its training code.
#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/model/model_file.h"

namespace tfm {

void write_model_groups(hdf5::File& file, Transformer& model, const Vocabulary& vocabulary) {
  hdf5::Group config = file.create_group("config");
  write_config(config, model.config());
  vocabulary.save(file, "vocab");
  hdf5::Group params = file.create_group("params");
  write_params(params, model.params(), model.params().values());
}

void save_model(const std::string& path, Transformer& model, const Vocabulary& vocabulary) {
  hdf5::File file = hdf5::File::create(path);
  hdf5::write_format(file, kModelFormat, kModelFormatVersion);
  write_model_groups(file, model, vocabulary);
  file.commit();
}

LoadedModel load_model(const std::string& path) {
  hdf5::File file = open_model_or_checkpoint(path);
  for (const char* group : {"config", "params"})
    if (!file.is_group(group)) throw InputError(path, 0, fmt::format("no /{} group", group));
  if (!file.is_dataset("vocab")) throw InputError(path, 0, "no /vocab dataset");
  ModelConfig config = read_config(file.open_group("config"));
  try {
    validate(config);
  } catch (const UsageError& e) {
    throw InputError(path, 0, std::string("bad /config: ") + e.what());
  }
  LoadedModel out{std::make_unique<Transformer>(config), Vocabulary::load(file, "vocab")};
  if (static_cast<std::int64_t>(out.vocabulary.size()) != config.vocab_size)
    throw InputError(path, 0, fmt::format("/vocab has {} tokens, /config says vocab_size {}",
                                          out.vocabulary.size(), config.vocab_size));
  read_params(file.open_group("params"), out.model->params(), out.model->params().values());
  return out;
}

}  // namespace tfm
