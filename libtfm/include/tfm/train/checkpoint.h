// What a checkpoint (format "tfm-checkpoint", model/model_file.h) adds to a
// model for training: /optimizer/m/<name> and /optimizer/v/<name> (Adam
// moments) and /state, the TrainingState serialized with Boost.Serialization
// (text archive in a one-element string dataset); step and epoch are also
// root attributes for h5dump and h5py.
//
// A run folder holds ckpt-<step>.h5 files, each written atomically (temp file
// + rename), so an interrupted write or a full disk never damages an earlier
// one; model_file.h lists them.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "tfm/data/vocabulary.h"
#include "tfm/model/model_file.h"
#include "tfm/model/transformer.h"
#include "tfm/train/optimizer.h"
#include "tfm/train/trainer.h"

namespace tfm {

// Everything besides tensors that a resumed run needs to go on exactly.
struct TrainingState {
  std::int64_t step = 0;        // updates done
  std::int64_t adam_steps = 0;  // updates applied (skipped ones excluded)
  std::uint64_t seed = 0;
  LoopState loop;
  double best_valid_loss = std::numeric_limits<double>::infinity();
  std::int64_t validations_without_improvement = 0;

  // Version 1 (checkpoint.cpp) stores whether a validation happened: a text
  // archive writes an infinite best loss as "inf" and cannot read it back.
  template <class Archive>
  void serialize(Archive& ar, unsigned version) {
    ar & step & adam_steps & seed & loop.epoch & loop.batch & loop.elapsed & loop.bad_steps_in_row;
    if (version == 0) {
      ar & best_valid_loss;
    } else {
      bool validated = std::isfinite(best_valid_loss);
      double best = validated ? best_valid_loss : 0;
      ar & validated & best;
      best_valid_loss = validated ? best : std::numeric_limits<double>::infinity();
    }
    ar & validations_without_improvement;
  }
};

// Writes a checkpoint atomically. Throws IoError (the target is untouched).
void save_checkpoint(const std::string& path, Transformer& model, Adam& adam,
                     const Vocabulary& vocabulary, const TrainingState& state);

// The model configuration and vocabulary stored in a checkpoint.
// Throws IoError / InputError for an unreadable file or another format.
ModelConfig checkpoint_config(const std::string& path);
Vocabulary checkpoint_vocabulary(const std::string& path);

// Loads parameters, Adam moments and state into objects built for the same
// architecture; throws InputError when the checkpoint holds another model
// or a damaged /state (one whose lengths exceed its text is refused before
// anything is allocated for them).
void load_checkpoint(const std::string& path, Transformer& model, Adam& adam, TrainingState& state);

// Deletes all but the newest `keep` checkpoints of list_checkpoints (keep ≥ 1).
void prune_checkpoints(const std::string& run_dir, std::int64_t keep);

}  // namespace tfm
