// Training: one optimizer update from micro-batches (Trainer::step) and the
// loop over epochs with its stopping rules (train_loop).
//
// A step with update_freq micro-batches sums their gradients, normalizes by
// the step's target tokens, optionally clips the global norm, and applies
// Adam at the inverse-sqrt learning rate. A non-finite loss or gradient skips
// the update. Dropout masks are keyed by (seed, step, micro-batch), so a run
// is reproducible for any thread count and after a resume.
//
// Data-parallel (a Collective of N ranks): each rank runs its own
// micro-batches, gradients are summed across ranks layer by layer while the
// backward pass goes on, and the step's target tokens are counted over all
// ranks, so every rank applies the same update. Rank r's i-th micro-batch
// has the dropout key of micro-batch i·N + r, which makes N ranks with
// update_freq u compute what one process computes with update_freq u·N on
// the ranks' batches interleaved (tfm-batch's sharding), up to rounding.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tfm/model/transformer.h"
#include "tfm/tensor/tensor.h"
#include "tfm/train/collective.h"
#include "tfm/train/optimizer.h"

namespace tfm {

struct TrainerConfig {
  std::int64_t update_freq = 1;  // micro-batches per update
  double lr_scale = 1.0;
  std::int64_t warmup = 4000;
  LrSchedule lr_schedule = LrSchedule::kInverseSqrt;
  std::int64_t last_update = 0;  // kLinear: the rate is 0 after it (0: not known yet)
  float clip_norm = 0;  // 0 = no clipping
  AdamConfig adam;
  std::uint64_t seed = 1;
  // R-Drop's weight α (0: off): each micro-batch runs twice in one pass
  // (stack_twice), under two dropout masks, at about twice the cost.
  float rdrop = 0;
};

struct StepResult {
  std::int64_t step = 0;  // 1-based number of this update
  LossStats stats;
  double grad_norm = 0;  // before clipping
  double lr = 0;
  bool skipped = false;  // non-finite loss or gradient: parameters unchanged
};

class Trainer {
 public:
  // `job` (kept by reference) defaults to a single process. Under gemm
  // precision kBf16 (gemm.h) the trainer keeps a bf16 shadow of the model's
  // weights, rounded again before each step and after each update (the
  // weights and Adam's moments stay fp32); its destructor drops all shadows.
  Trainer(Transformer& model, const TrainerConfig& config, Collective* job = nullptr);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;
  // One update from 1..update_freq micro-batches.
  StepResult step(std::span<const TokenBatch> micro);
  // Loss of one batch without dropout (validation).
  LossStats evaluate(const TokenBatch& batch);

  std::int64_t steps_done() const { return steps_; }
  void set_steps_done(std::int64_t steps) { steps_ = steps; }
  Transformer& model() { return model_; }
  Adam& adam() { return adam_; }
  const TrainerConfig& config() const { return config_; }
  // Changes the learning-rate schedule from the next step on.
  void set_schedule(std::int64_t warmup, double lr_scale, LrSchedule schedule, std::int64_t last_update) {
    config_.warmup = warmup, config_.lr_scale = lr_scale, config_.lr_schedule = schedule;
    config_.last_update = last_update;
  }
  // R-Drop's weight from the next step on (0: off).
  void set_rdrop(float weight) { config_.rdrop = weight; }
  Collective& job() { return *job_; }

 private:
  // Sums the gradients of the layers the backward pass has finished.
  void reduce_ready(std::int64_t begin, std::int64_t end);
  // Rounds the bf16 shadow of the weights again when they may have changed.
  void refresh_shadow();

  Transformer& model_;
  TrainerConfig config_;
  std::unique_ptr<Collective> own_job_;
  Collective* job_;
  std::vector<std::pair<std::int64_t, std::int64_t>> reduced_;  // ranges started this step
  Adam adam_;
  Arena arena_;
  std::vector<double> partials_;
  TokenBatch twice_;  // R-Drop's micro-batch
  std::int64_t steps_ = 0;
  bool bf16_ = false, shadow_fresh_ = false;
};

// Sums `stats` over the ranks of `job`, in place on every rank.
void sum_over_ranks(Collective& job, LossStats& stats);

// Batches for training, epoch after epoch. seek(e, i) positions the stream at
// batch i (0-based) of epoch e (1-based; an epoch's order may depend on e).
class BatchStream {
 public:
  virtual ~BatchStream() = default;
  virtual void seek(std::int64_t epoch, std::int64_t batch) = 0;
  // The next batch of the current epoch into `out`; false when it is over.
  virtual bool next(TokenBatch& out) = 0;
};

// A stream over batches held in memory, the same order every epoch.
class MemoryBatchStream : public BatchStream {
 public:
  explicit MemoryBatchStream(std::vector<TokenBatch> batches) : batches_(std::move(batches)) {}
  void seek(std::int64_t, std::int64_t batch) override { next_ = static_cast<std::size_t>(batch); }
  bool next(TokenBatch& out) override;

 private:
  std::vector<TokenBatch> batches_;
  std::size_t next_ = 0;
};

// Where a run stands; saved in checkpoints so a resumed run goes on exactly.
struct LoopState {
  std::int64_t epoch = 1;  // current epoch, 1-based
  std::int64_t batch = 0;  // batches of this epoch already used, by all ranks together
  double elapsed = 0;      // seconds of training before this process
  std::int64_t bad_steps_in_row = 0;
};

struct LoopLimits {
  std::int64_t max_steps = 0;   // 0 = no limit (total updates, resumed ones included)
  std::int64_t max_epochs = 0;  // 0 = no limit
  double max_time = 0;          // seconds, 0 = no limit
  std::int64_t max_bad_steps = 10;  // consecutive skipped updates before giving up
};

enum class StopReason { kMaxSteps, kMaxEpochs, kMaxTime, kRequested };

// Called after every update with its result and the state after it; return
// false to stop (e.g. on a signal or early stopping).
using AfterStep = std::function<bool(const StepResult&, const LoopState&)>;

// Runs updates until a limit is reached or after_step asks to stop; with
// several ranks the decision to stop is taken together (any rank's request
// or time limit stops all). A skipped
// update is reported by warn(); more than max_bad_steps in a row throws Error
// naming the step. Throws Error when an epoch yields no batch.
StopReason train_loop(Trainer& trainer, BatchStream& stream, const LoopLimits& limits,
                      LoopState& state, const AfterStep& after_step);

}  // namespace tfm
