#include "tfm/train/checkpoint.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/serialization/version.hpp>
#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/io/hdf5.h"
#include "tfm/model/model_file.h"

BOOST_CLASS_VERSION(tfm::TrainingState, 1)

namespace tfm {

namespace fs = std::filesystem;

void save_checkpoint(const std::string& path, Transformer& model, Adam& adam,
                     const Vocabulary& vocabulary, const TrainingState& state) {
  hdf5::File file = hdf5::File::create(path);
  hdf5::write_format(file, kCheckpointFormat, kCheckpointFormatVersion);
  file.write_int_attribute("step", state.step);
  file.write_int_attribute("epoch", state.loop.epoch);
  hdf5::Group config = file.create_group("config");
  write_config(config, model.config());
  vocabulary.save(file, "vocab");
  hdf5::Group params = file.create_group("params");
  write_params(params, model.params(), model.params().values());
  hdf5::Group m = file.create_group("optimizer/m");
  write_params(m, model.params(), adam.m());
  hdf5::Group v = file.create_group("optimizer/v");
  write_params(v, model.params(), adam.v());
  std::ostringstream text;
  {
    boost::archive::text_oarchive archive(text);
    archive << state;
  }
  file.write_strings("state", {text.str()});
  file.commit();
}

namespace {

hdf5::File open_checkpoint(const std::string& path) {
  hdf5::File file = hdf5::File::open(path);
  hdf5::check_format(file, kCheckpointFormat, kCheckpointFormatVersion);
  return file;
}

}  // namespace

ModelConfig checkpoint_config(const std::string& path) {
  return read_config(open_checkpoint(path).open_group("config"));
}

Vocabulary checkpoint_vocabulary(const std::string& path) {
  return Vocabulary::load(open_checkpoint(path), "vocab");
}

void load_checkpoint(const std::string& path, Transformer& model, Adam& adam, TrainingState& state) {
  hdf5::File file = open_checkpoint(path);
  if (!same_architecture(read_config(file.open_group("config")), model.config()))
    throw InputError(path, 0, "checkpoint of a model with another configuration");
  read_params(file.open_group("params"), model.params(), model.params().values());
  read_params(file.open_group("optimizer/m"), model.params(), adam.m());
  read_params(file.open_group("optimizer/v"), model.params(), adam.v());
  auto text = file.read_strings("state");
  if (text.size() != 1) throw InputError(path, 0, "malformed /state");
  std::istringstream in(text[0]);
  try {
    boost::archive::text_iarchive archive(in);
    archive >> state;
  } catch (const std::exception&) {
    // Boost's own words ("input stream error") would not help the user.
    throw InputError(path, 0, "/state is not a training state this tfm can read (damaged, or from a newer tfm)");
  }
  const LoopState& loop = state.loop;
  if (state.step < 0 || state.adam_steps < 0 || state.adam_steps > state.step || loop.epoch < 1 || loop.batch < 0 ||
      !(loop.elapsed >= 0 && std::isfinite(loop.elapsed)) || loop.bad_steps_in_row < 0 ||
      state.validations_without_improvement < 0)
    throw InputError(path, 0, "/state holds impossible values (damaged checkpoint)");
  adam.set_steps(state.adam_steps);
}

namespace {

// The step of "ckpt-<step>.h5", or -1 for another name.
std::int64_t step_of(const std::string& name) {
  const std::string prefix = "ckpt-", suffix = ".h5";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix))
    return -1;
  std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(digits);
}

}  // namespace

std::vector<CheckpointFile> list_checkpoints(const std::string& run_dir) {
  std::vector<CheckpointFile> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run_dir, ec)) {
    std::int64_t step = step_of(entry.path().filename().string());
    if (step >= 0 && entry.is_regular_file()) out.push_back({step, entry.path().string()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return out;
}

std::string checkpoint_path(const std::string& run_dir, std::int64_t step) {
  return (fs::path(run_dir) / fmt::format("ckpt-{}.h5", step)).string();
}

void prune_checkpoints(const std::string& run_dir, std::int64_t keep) {
  auto all = list_checkpoints(run_dir);
  for (std::size_t i = 0; i + static_cast<std::size_t>(std::max<std::int64_t>(keep, 1)) < all.size(); ++i) {
    std::error_code ec;
    fs::remove(all[i].path, ec);
    if (ec) throw IoError(all[i].path, "cannot remove old checkpoint", ec.value());
  }
}

}  // namespace tfm
