// Fuzzes the checkpoint's serialized training state (/state, a
// Boost.Serialization text archive): a tiny model's checkpoint is written
// with the input as its /state text and loaded as tfm-train --resume does.
// A malformed archive must be an error naming the file, never Boost's raw
// exception or a crash.
//
// Writing a checkpoint's hundred-odd parameter datasets cost most of an
// execution: they are written once, without /state, and each input copies
// that file and adds its /state to the copy.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/model/model_file.h"
#include "tfm/train/checkpoint.h"

namespace {

tfm::Transformer& tiny_model() {
  static tfm::Transformer model(tfm_fuzz::tiny_model_config(5));
  return model;
}

// save_checkpoint's layout but for /state.
const std::string& checkpoint_without_state() {
  static const std::string bytes = [] {
    const std::string path = tfm_fuzz::work_dir() + "/without-state.h5";
    tfm::hdf5::File file = tfm::hdf5::File::create(path);
    tfm::hdf5::write_format(file, tfm::kCheckpointFormat, tfm::kCheckpointFormatVersion);
    tfm::hdf5::Group config = file.create_group("config");
    tfm::write_config(config, tfm_fuzz::tiny_model_config(5));
    tfm::Vocabulary({"<pad>", "<unk>", "<s>", "</s>", "x"}, "fuzz").save(file, "vocab");
    for (const char* group : {"params", "optimizer/m", "optimizer/v"}) {
      tfm::hdf5::Group params = file.create_group(group);
      tfm::write_params(params, tiny_model().params(), tiny_model().params().values());
    }
    file.commit();
    return tfm_fuzz::read_file(path);
  }();
  return bytes;
}

// Adds /state holding `text` to the HDF5 file at `path`, written as
// save_checkpoint writes it (Group::write_strings, in the 1.8 file format).
void add_state(const std::string& path, const std::string& text) {
  using tfm::hdf5::Handle;
  tfm::hdf5::silence_errors();
  Handle access(H5Pcreate(H5P_FILE_ACCESS), path, "property list");
  H5Pset_libver_bounds(access.id(), H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDWR, access.id()), path, "/");
  tfm::hdf5::Group root(Handle(H5Gopen2(file.id(), "/", H5P_DEFAULT), path, "/"));
  root.write_strings("state", {text});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  static tfm::Adam adam(tiny_model().params().size(), tfm::AdamConfig{});
  static std::uint64_t runs = 0;
  // A new name each time: HDF5 would reuse a file it still holds open.
  const std::string path = tfm_fuzz::write_file("state-" + std::to_string(runs++) + ".h5", checkpoint_without_state());
  add_state(path, std::string(data.substr(0, data.find('\0'))));  // HDF5 strings end at a NUL
  tfm::TrainingState state;
  tfm_fuzz::expect_clean([&] { tfm::load_checkpoint(path, tiny_model(), adam, state); }, path);
  std::remove(path.c_str());
  return 0;
}
