// Model files and checkpoints on disk: everything that knows their layout
// lives here. Both hold the /config group (one attribute per
// hyper-parameter), /vocab, and /params/<name> float32 datasets named as in
// the ParamStore ("/params/encoder/layer_0/self_attn/q/weight").
//   model file   format "tfm-model" (version 1): just those; what
//                tfm-average writes and tfm-decode reads.
//   checkpoint   format "tfm-checkpoint" (version 1): a model plus the
//                optimizer state and the trainer's state (train/checkpoint.h
//                writes and reads those parts), root attributes step and
//                epoch; a run folder holds ckpt-<step>.h5 files.
// Decoding and averaging read either kind through this module; only training
// writes checkpoints.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tfm/data/vocabulary.h"
#include "tfm/io/hdf5.h"
#include "tfm/model/config.h"
#include "tfm/model/params.h"
#include "tfm/model/transformer.h"

namespace tfm {

inline constexpr const char* kModelFormat = "tfm-model";
inline constexpr std::int64_t kModelFormatVersion = 1;
inline constexpr const char* kCheckpointFormat = "tfm-checkpoint";
inline constexpr std::int64_t kCheckpointFormatVersion = 1;

void write_config(hdf5::Group& group, const ModelConfig& config);
// Throws IoError when an attribute is missing.
ModelConfig read_config(const hdf5::Group& group);
// True when a and b build the same network (dropout and smoothing may differ).
bool same_architecture(const ModelConfig& a, const ModelConfig& b);

// Writes `values` (laid out as `store`) as one dataset per parameter under group.
void write_params(hdf5::Group& group, const ParamStore& store, const float* values);
// Reads every parameter of `store` into `values`; throws InputError naming the
// file and parameter when one is missing or has another shape.
void read_params(const hdf5::Group& group, const ParamStore& store, float* values);

// Writes /config, /vocab and /params of `model`: what every model file and
// checkpoint holds.
void write_model_groups(hdf5::File& file, Transformer& model, const Vocabulary& vocabulary);

// A model file: format attributes, /config, /vocab, /params. Atomic.
void save_model(const std::string& path, Transformer& model, const Vocabulary& vocabulary);

// Opens a model file (tfm-model) or a checkpoint (tfm-checkpoint) for reading:
// both hold /config, /vocab and /params. Throws IoError/InputError naming the
// file for anything else or another format_version.
hdf5::File open_model_or_checkpoint(const std::string& path);

// A model file or a checkpoint loaded for use: configuration, vocabulary and
// parameters. Throws InputError/IoError naming the file for another format or
// version, missing datasets or bad shapes.
struct LoadedModel {
  std::unique_ptr<Transformer> model;
  Vocabulary vocabulary;
};
LoadedModel load_model(const std::string& path);

// The checkpoints of a run folder: every *.h5 file whose format is
// tfm-checkpoint, oldest first by the `step` stored in the file (names do not
// matter; other HDF5 files are skipped). Throws IoError when run_dir is not a
// folder, IoError/InputError naming an unreadable *.h5 file, InputError when
// two checkpoints share a step.
struct CheckpointFile {
  std::int64_t step;
  std::string path;
};
std::vector<CheckpointFile> list_checkpoints(const std::string& run_dir);
// The `n` newest of list_checkpoints(run_dir), oldest first; throws
// InputError when fewer than n exist.
std::vector<std::string> last_checkpoints(const std::string& run_dir, std::int64_t n);
// Where training writes the checkpoint of `step`: <run_dir>/ckpt-<step>.h5.
std::string checkpoint_path(const std::string& run_dir, std::int64_t step);

}  // namespace tfm
