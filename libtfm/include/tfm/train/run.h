// A whole training run as tfm-train performs it: batches from tfm-batch
// files, a run folder with checkpoints and logs, validation, resuming, and a
// clean stop on SIGINT/SIGTERM.
//
// Run folder: ckpt-<step>.h5 (train/checkpoint.h), train.log (TSV: step,
// epoch, lr, loss, ppl, tokens_per_s, elapsed; a line every log_every steps,
// averaged over them) and valid.log (TSV: step, epoch, loss, nll, ppl,
// accuracy). Losses are per target token in nats; ppl = exp(nll).
#pragma once

#include <cstdint>
#include <string>

#include "tfm/model/config.h"
#include "tfm/train/recipe.h"
#include "tfm/train/trainer.h"

namespace tfm {

struct RunConfig {
  std::string batches;  // training batches (tfm-batch file)
  std::string valid;    // validation batches, "" for none
  std::string run_dir;
  bool resume = false;             // continue from the newest checkpoint in run_dir
  std::int64_t valid_every = 1000;  // steps; 0 = only at the end
  std::int64_t patience = 0;       // stop after this many validations without improvement; 0 = never
  std::int64_t save_every = 0;     // steps; 0 = off
  double save_every_minutes = 10;  // 0 = off
  std::int64_t keep_last = 5;
  std::int64_t log_every = 100;
  bool progress = false;  // progress line on stderr even when it is not a terminal
  double mpi_timeout = 1800;  // seconds a rank waits for the others before aborting the job
  LoopLimits limits;
  // On: the schedule settings (warm-up, lr scale, checkpoint and validation
  // spacing) not in `given_schedule` are chosen from the budget (train/recipe.h),
  // after kMeasuredUpdates updates for a time budget, and the recipe is
  // written to run_dir/recipe.tsv; a resumed run reads its schedule back from
  // there. Off: the values above and the TrainerConfig's are used as they are.
  bool choose_schedule = false;
  GivenSchedule given_schedule;
  // With choose_schedule, R-Drop on and a time budget: R-Drop only where
  // the updates the budget holds with it (the rate of the first updates)
  // make at least this many epochs (plan_rdrop), else off from there on, and
  // the schedule waits for the rate without it; 0 = as given.
  double rdrop_min_epochs = 0;
  // With choose_schedule and a time budget, once R-Drop is settled off (or
  // was never on): the model's dropout only where the updates the budget
  // holds make at least this many epochs (plan_dropout), else at most
  // kShortBudgetDropout from there on; 0 = as given.
  double dropout_min_epochs = 0;
};

// Updates (after the first, which pays for the start) whose rate decides a
// time budget's schedule.
inline constexpr std::int64_t kMeasuredUpdates = 20;

// Trains `model_config` (vocab_size is taken from the batches file) with
// `trainer_config`, as described above. Returns 0, or 128 + N after a stop by
// signal N (a checkpoint is written first).
//
// Started by mpirun, every process is one rank of a data-parallel job
// (train/collective.h): rank r reads shard r of the training batches, the
// ranks share validation batches, and rank 0 alone reads and writes the run
// folder (it loads a checkpoint and broadcasts it, so --resume works for any
// number of ranks: the position in the epoch is kept in batches of all ranks).
// A rank that fails aborts the whole job with its message.
// Throws InputError for unusable inputs (another format, a validation set
// with another vocabulary, a run folder holding another model's checkpoints,
// checkpoints present without --resume), IoError when the run folder cannot
// be written (earlier checkpoints are left intact), UsageError for bad settings.
int run_training(ModelConfig model_config, const TrainerConfig& trainer_config,
                 const RunConfig& run);

// Seconds in "90", "90s", "30m", "12h" or "2d"; throws UsageError otherwise.
double parse_duration(const std::string& text);

}  // namespace tfm
