// Saving and loading models: the /config group (one attribute per
// hyper-parameter), /vocab, and /params/<name> float32 datasets named as in
// the ParamStore ("/params/encoder/layer_0/self_attn/q/weight"). A model file
// has format "tfm-model" (version 1); checkpoints (train/checkpoint.h) reuse
// the same groups and add the optimizer state.
#pragma once

#include <string>

#include "tfm/data/vocabulary.h"
#include "tfm/io/hdf5.h"
#include "tfm/model/config.h"
#include "tfm/model/params.h"
#include "tfm/model/transformer.h"

namespace tfm {

inline constexpr const char* kModelFormat = "tfm-model";
inline constexpr std::int64_t kModelFormatVersion = 1;

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

// A model file: format attributes, /config, /vocab, /params. Atomic.
void save_model(const std::string& path, Transformer& model, const Vocabulary& vocabulary);

}  // namespace tfm
