// The training schedule tfm-train chooses for the settings the user left
// open: warm-up, peak learning rate, checkpoint spacing and validation
// spacing, all from the number of updates the budget holds. That number is
// known at the start from --max-steps or --max-epochs, or, for a time budget
// (--max-time), from the update rate measured over the first updates (and
// again half-way, for the spacing).
//
// The rules (tfm-train(1) states them with their reasons), for a budget of
// U updates and the N checkpoints to be averaged (--keep-last):
//   warmup             U / 4, within [400, 4000]; the peak rate
//                      lr_scale d_model^-0.5 warmup^-0.5 follows from it
//                      (lr_scale stays 1 unless given). For a post-norm
//                      model of 3 or more layers (encoder or decoder) the
//                      warm-up is raised where needed so that the peak is
//                      at most post_norm_peak_cap: such stacks stall at
//                      higher peaks
//   lr_schedule        inverse-sqrt, the paper's; when linear is given, the
//                      rate falls to zero at update U, where training ends
//   save_every         U / (4 (N - 1)), so that the last N span the last
//                      quarter of training (U / 4 when N = 1)
//   save_every_minutes 0 (the spacing is in updates)
//   valid_every        U / 12
//   rdrop              with --rdrop-min-epochs E, R-Drop's weight where U
//                      updates with it make at least E epochs, else 0
//   dropout            with --dropout-min-epochs E and R-Drop off, --dropout
//                      where U updates make at least E epochs, else at most
//                      kShortBudgetDropout
// Without a budget (U = 0) every setting keeps the paper's default: warm-up
// 4000, scale 1, a checkpoint every 10 minutes, validation every 1000 updates.
// A setting the user gave always wins; when either checkpoint setting is
// given, the other keeps its default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tfm/model/config.h"
#include "tfm/train/optimizer.h"

namespace tfm {

// The values of the schedule settings (defaults: the paper's).
struct Schedule {
  std::int64_t warmup = 4000;
  double lr_scale = 1.0;
  std::int64_t save_every = 0;  // 0 = off
  double save_every_minutes = 10;  // 0 = off
  std::int64_t valid_every = 1000;
  LrSchedule lr_schedule = LrSchedule::kInverseSqrt;
  std::int64_t updates = 0;  // the budget's updates, 0 = none (or not known yet)
  double rdrop = -1;  // R-Drop's weight as plan_rdrop chose it; -1 = not chosen
  double dropout = -1;  // as plan_dropout chose it; -1 = not chosen
};

// The settings the user gave; the others are chosen (or defaulted).
struct GivenSchedule {
  std::optional<std::int64_t> warmup, save_every, valid_every;
  std::optional<double> lr_scale, save_every_minutes;
  std::optional<LrSchedule> lr_schedule;
};

// One setting as the recipe reports it: name (tfm-train's option without
// dashes), value, origin ("given", "chosen" or "default") and why.
struct RecipeLine {
  std::string name, value, origin, reason;
};

struct SchedulePlan {
  Schedule schedule;
  std::vector<RecipeLine> lines;  // one per setting but `updates`
};

// Applies the rules above to the model `model`. budget_updates: the updates
// the budget holds, or 0 when there is no budget (or not yet); averaged:
// checkpoints to be averaged (≥ 1). The plan's lines do not hold `updates`
// (the caller knows where that number came from).
SchedulePlan plan_schedule(const GivenSchedule& given, std::int64_t budget_updates, std::int64_t averaged,
                           const ModelConfig& model);

// R-Drop's weight for a budget of `budget_updates` updates with R-Drop on,
// `per_epoch` updates an epoch: `weight` when they make at least
// `min_epochs` epochs, else 0. R-Drop halves the updates a budget holds; it
// paid on Multi30k at 26 epochs in an hour (against 50 without) and lost at
// 4 (against 9). The line says which, and why.
struct RdropPlan {
  float weight = 0;
  RecipeLine line;
};
RdropPlan plan_rdrop(float weight, double min_epochs, std::int64_t budget_updates, std::int64_t per_epoch);

// The dropout a budget of fewer than --dropout-min-epochs epochs lowers
// --dropout to: the paper's.
inline constexpr float kShortBudgetDropout = 0.1f;

// The dropout (of embeddings and sub-layer outputs) for a budget of
// `budget_updates` updates without R-Drop, `per_epoch` updates an epoch:
// `dropout` where they make at least `min_epochs` epochs, else the lower of
// it and kShortBudgetDropout. On Multi30k in an hour with 0.2, the
// validation perplexity was lowest at 25-29 epochs and rose after (2 Zen 5
// cores, 50 epochs), but was still falling fast at 18 (2 Zen 3 cores), where
// 0.1 did better. The line says which, and why.
struct DropoutPlan {
  float dropout = 0;
  RecipeLine line;
};
DropoutPlan plan_dropout(float dropout, double min_epochs, std::int64_t budget_updates, std::int64_t per_epoch);

// The highest peak learning rate chosen for a post-norm model deeper than 3
// layers: the paper's base trained through it (a warm-up of 1,000 at width
// 512) and stalled at 2.2e-3 (a warm-up of 400).
inline constexpr double kDeepPostNormPeak = 1.4e-3;
// The same for 3 layers: small (3 + 3, width 256) on the demo corpus with
// 2,605 updates learned at once with a warm-up of 1,107 (peak 1.9e-3) and
// stalled at a validation perplexity of 3.1 with 651 (peak 2.45e-3).
inline constexpr double kThreeLayerPostNormPeak = 2.0e-3;

// The peak cap for `model`: the two above by its deeper side, 0 (none) for
// pre-norm models and post-norm ones of at most 2 layers (tiny trained well
// at 4.4e-3).
double post_norm_peak_cap(const ModelConfig& model);

// The updates a time budget holds: `done` updates in `elapsed` seconds so far,
// of which the last `measured` took `measured_seconds`, and `max_time` seconds
// in all. At least `done`.
std::int64_t updates_in_time(std::int64_t done, double elapsed, std::int64_t measured, double measured_seconds,
                             double max_time);

// Writes the recipe atomically as TSV with a header (setting, value, origin,
// reason): the run folder's recipe.tsv. Throws IoError.
void save_recipe(const std::string& path, const std::vector<RecipeLine>& lines);
// The schedule a saved recipe records (a resumed run keeps it), `updates`
// included; other settings in it are skipped. Throws InputError naming the
// file and line.
Schedule load_recipe(const std::string& path);

}  // namespace tfm
