#include "tfm/train/checkpoint.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <boost/archive/impl/archive_serializer_map.ipp>
#include <boost/archive/impl/basic_text_iarchive.ipp>
#include <boost/archive/impl/text_iarchive_impl.ipp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/serialization/version.hpp>
#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/io/hdf5.h"
#include "tfm/model/model_file.h"

BOOST_CLASS_VERSION(tfm::TrainingState, 1)

namespace tfm {
namespace {

// Boost's text archive reading /state, except that a string longer than the
// rest of the text is an error before it is allocated: Boost sizes the string
// by the length the archive gives (gigabytes in a damaged one), then reads.
class StateArchive : public boost::archive::text_iarchive_impl<StateArchive> {
 public:
  // `in` holds the whole archive; `path` names the checkpoint in errors.
  StateArchive(std::istringstream& in, const std::string& path)
      : text_iarchive_impl(in, boost::archive::no_header), path_(path) {
    init();  // only now: the header's signature is a string, read by load below
  }

  using text_iarchive_impl::load;
  void load(std::string& s) {
    std::size_t size = 0;
    *this >> size;
    is.get();  // the space between length and characters
    const auto left = static_cast<std::size_t>(std::max<std::streamsize>(is.rdbuf()->in_avail(), 0));
    if (size > left)
      throw InputError(path_, 0, fmt::format("/state is damaged: a string of {} bytes where {} are left", size, left));
    s.resize(size);
    is.read(s.data(), static_cast<std::streamsize>(size));
  }

 private:
  std::string path_;
};

}  // namespace
}  // namespace tfm

// What boost_serialization compiles for its own archives, for this one.
template class boost::archive::detail::archive_serializer_map<tfm::StateArchive>;
template class boost::archive::basic_text_iarchive<tfm::StateArchive>;
template class boost::archive::text_iarchive_impl<tfm::StateArchive>;

namespace tfm {

namespace fs = std::filesystem;

void save_checkpoint(const std::string& path, Transformer& model, Adam& adam,
                     const Vocabulary& vocabulary, const TrainingState& state) {
  hdf5::File file = hdf5::File::create(path);
  hdf5::write_format(file, kCheckpointFormat, kCheckpointFormatVersion);
  file.write_int_attribute("step", state.step);
  file.write_int_attribute("epoch", state.loop.epoch);
  write_model_groups(file, model, vocabulary);
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
  // The state first: a damaged one is found before megabytes of parameters are read.
  auto text = file.read_strings("state");
  if (text.size() != 1) throw InputError(path, 0, "malformed /state");
  std::istringstream in(text[0]);
  try {
    StateArchive archive(in, path);
    archive >> state;
  } catch (const InputError&) {
    throw;
  } catch (const std::exception&) {
    // Boost's own words ("input stream error") would not help the user.
    throw InputError(path, 0, "/state is not a training state this tfm can read (damaged, or from a newer tfm)");
  }
  const LoopState& loop = state.loop;
  if (state.step < 0 || state.adam_steps < 0 || state.adam_steps > state.step || loop.epoch < 1 || loop.batch < 0 ||
      !(loop.elapsed >= 0 && std::isfinite(loop.elapsed)) || loop.bad_steps_in_row < 0 ||
      state.validations_without_improvement < 0)
    throw InputError(path, 0, "/state holds impossible values (damaged checkpoint)");
  read_params(file.open_group("params"), model.params(), model.params().values());
  read_params(file.open_group("optimizer/m"), model.params(), adam.m());
  read_params(file.open_group("optimizer/v"), model.params(), adam.v());
  adam.set_steps(state.adam_steps);
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
