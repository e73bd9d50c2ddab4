// Fuzzes the readers of model files and checkpoints (tfm-decode, tfm-train
// --resume, tfm-average): a tiny model's checkpoint and model file are
// written once through the library, then each input patches or truncates a
// copy of one of them (flags bit 0 of the first byte picks which), read as
// tfm-train --resume and tfm-decode do, averaged with the valid checkpoint
// (a link to the one written first), and listed as a run folder for
// tfm-average --last.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/data/batch_file.h"
#include "tfm/model/average.h"
#include "tfm/model/model_file.h"
#include "tfm/train/checkpoint.h"

namespace {

tfm::Vocabulary tiny_vocabulary() {
  return tfm::Vocabulary({"<pad>", "<unk>", "<s>", "</s>", "a", "b"}, "fuzz");
}

struct ValidFiles {
  std::string checkpoint, model;  // the bytes
  std::string checkpoint_path;
};

const ValidFiles& valid_files() {
  static const ValidFiles files = [] {
    tfm_fuzz::keep_hdf5_metadata_caches();
    tfm::Transformer model(tfm_fuzz::tiny_model_config(6));
    model.params().initialize(3);
    tfm::Adam adam(model.params().size(), tfm::AdamConfig{});
    tfm::TrainingState state;
    state.step = 12;
    const std::string checkpoint = tfm_fuzz::work_dir() + "/valid-ckpt.h5";
    tfm::save_checkpoint(checkpoint, model, adam, tiny_vocabulary(), state);
    const std::string model_path = tfm_fuzz::work_dir() + "/valid-model.h5";
    tfm::save_model(model_path, model, tiny_vocabulary());
    return ValidFiles{tfm_fuzz::read_file(checkpoint), tfm_fuzz::read_file(model_path), checkpoint};
  }();
  return files;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const bool is_checkpoint = !(data[0] & 1);
  const ValidFiles& valid = valid_files();
  static std::uint64_t runs = 0;
  // A folder of its own each time, named like a run folder's checkpoint.
  const std::string dir = tfm_fuzz::work_dir() + "/run-" + std::to_string(runs++);
  std::filesystem::create_directory(dir);
  const std::string path = tfm::checkpoint_path(dir, 5);
  tfm_fuzz::write_file(path.substr(tfm_fuzz::work_dir().size() + 1),
                       tfm_fuzz::patch_file(is_checkpoint ? valid.checkpoint : valid.model, data.substr(1)));
  const std::string other = tfm::checkpoint_path(dir, 9);
  std::filesystem::create_hard_link(valid.checkpoint_path, other);

  if (is_checkpoint) {
    tfm_fuzz::expect_clean(
        [&] {
          const tfm::ModelConfig config = tfm::checkpoint_config(path);
          tfm::checkpoint_vocabulary(path);
          tfm::validate(config);
          if (!tfm::same_architecture(config, tfm_fuzz::tiny_model_config(6))) return;
          tfm::Transformer model(tfm_fuzz::tiny_model_config(6));
          tfm::Adam adam(model.params().size(), tfm::AdamConfig{});
          tfm::TrainingState state;
          tfm::load_checkpoint(path, model, adam, state);
        },
        path);
  }
  tfm_fuzz::expect_clean([&] { tfm::describe_file(path); }, path);
  // A checkpoint whose format attribute was hit is no checkpoint: skipped,
  // and then the error names the folder.
  tfm_fuzz::expect_clean([&] { tfm::last_checkpoints(dir, 2); }, dir);
  // The damaged file first: when its header does not read, the valid one's
  // is not read for nothing (the order changes no reader).
  tfm_fuzz::expect_clean([&] { tfm::average_models({path, other}, {}, dir + "/average.h5"); }, path);
  std::filesystem::remove_all(dir);
  return 0;
}
