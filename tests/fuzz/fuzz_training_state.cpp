// Fuzzes the checkpoint's serialized training state (/state, a
// Boost.Serialization text archive): a tiny model's checkpoint is written
// with the input as its /state text and loaded as tfm-train --resume does.
// A malformed archive must be an error naming the file, never Boost's raw
// exception or a crash.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/model/model_file.h"
#include "tfm/train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  static tfm::Transformer model(tfm_fuzz::tiny_model_config(5));
  static tfm::Adam adam(model.params().size(), tfm::AdamConfig{});
  static std::uint64_t runs = 0;
  const std::string path = tfm_fuzz::work_dir() + "/state-" + std::to_string(runs++) + ".h5";
  {  // save_checkpoint's layout with our /state (HDF5 strings end at a NUL)
    tfm::hdf5::File file = tfm::hdf5::File::create(path);
    tfm::hdf5::write_format(file, tfm::kCheckpointFormat, tfm::kCheckpointFormatVersion);
    tfm::hdf5::Group config = file.create_group("config");
    tfm::write_config(config, tfm_fuzz::tiny_model_config(5));
    tfm::Vocabulary({"<pad>", "<unk>", "<s>", "</s>", "x"}, "fuzz").save(file, "vocab");
    for (const char* group : {"params", "optimizer/m", "optimizer/v"}) {
      tfm::hdf5::Group params = file.create_group(group);
      tfm::write_params(params, model.params(), model.params().values());
    }
    file.write_strings("state", {std::string(data.substr(0, data.find('\0')))});
    file.commit();
  }
  tfm::TrainingState state;
  tfm_fuzz::expect_clean([&] { tfm::load_checkpoint(path, model, adam, state); }, path);
  std::remove(path.c_str());
  return 0;
}
