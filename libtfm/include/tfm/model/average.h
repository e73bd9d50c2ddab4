// Checkpoint averaging (the paper averages the last 5 or 20 checkpoints):
// the element-wise weighted mean of every parameter of several model or
// checkpoint files, written as a model file (format tfm-model: /config,
// /vocab, /params; no optimizer state). The checkpoints of a run folder come
// from last_checkpoints (model_file.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tfm {

// Writes Σ wᵢ·θᵢ / Σ wᵢ for every parameter θ of `inputs` to `output`
// (atomically), accumulating in double and reading one file and one
// parameter at a time: memory is about two models whatever the count.
// Weights default to 1 each. The configuration and vocabulary come from the
// first input. Every input's header is checked before any data is read:
// throws InputError naming both files and the difference when configurations,
// vocabularies or parameter names/shapes differ, UsageError for bad weights;
// a corrupt input is an error naming it; nothing is written then.
void average_models(const std::vector<std::string>& inputs, const std::vector<double>& weights,
                    const std::string& output);

}  // namespace tfm
