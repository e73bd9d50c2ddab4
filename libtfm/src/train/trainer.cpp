#include "tfm/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/tensor/gemm.h"
#include "tfm/tensor/kernels.h"

namespace tfm {

Trainer::Trainer(Transformer& model, const TrainerConfig& config, Collective* job)
    : model_(model), config_(config), own_job_(job ? nullptr : single_process()),
      job_(job ? job : own_job_.get()), adam_(model.params().size(), config.adam),
      partials_(static_cast<std::size_t>(sum_squares_blocks(model.params().size()))) {
  if (config_.update_freq < 1) throw UsageError("update-freq must be at least 1");
  if (!(config_.rdrop >= 0)) throw UsageError("rdrop must not be negative");
  bf16_ = gemm_precision() == Precision::kBf16;
  if (bf16_) add_bf16_shadow(model.params().values(), model.params().size());
}

Trainer::~Trainer() {
  if (bf16_) clear_bf16_shadows();
}

void Trainer::refresh_shadow() {
  if (!bf16_ || shadow_fresh_) return;
  refresh_bf16_shadows();
  shadow_fresh_ = true;
}

void Trainer::reduce_ready(std::int64_t begin, std::int64_t end) {
  job_->start_sum(model_.params().grads() + begin, static_cast<std::size_t>(end - begin));
  reduced_.emplace_back(begin, end);
  job_->advance();
}

StepResult Trainer::step(std::span<const TokenBatch> micro) {
  StepResult r;
  r.step = ++steps_;
  const bool parallel = job_->size() > 1;
  double tokens = 0;
  for (const auto& b : micro) tokens += static_cast<double>(b.target_tokens);
  if (config_.rdrop > 0) tokens *= 2;
  job_->sum(&tokens, 1);  // the loss is normalized by the tokens of all ranks
  ParamStore& params = model_.params();
  shadow_fresh_ = false;  // the weights may have been loaded or changed since
  refresh_shadow();
  params.zero_grads();
  float grad_scale = 1.0f / static_cast<float>(std::max(tokens, 1.0));
  const Transformer::GradsReady ready = [this](std::int64_t begin, std::int64_t end) { reduce_ready(begin, end); };
  reduced_.clear();
  for (std::size_t i = 0; i < micro.size(); ++i) {
    arena_.reset();
    RngKey rng{config_.seed, static_cast<std::uint64_t>(r.step), 0};
    auto key = static_cast<std::uint32_t>(i * static_cast<std::size_t>(job_->size()) +
                                          static_cast<std::size_t>(job_->rank()));
    bool last = i + 1 == micro.size();
    const Transformer::GradsReady* ready_now = parallel && last ? &ready : nullptr;
    if (config_.rdrop > 0) {
      stack_twice(micro[i], twice_);
      r.stats += model_.train_batch(twice_, arena_, rng, key, grad_scale, ready_now, config_.rdrop);
    } else {
      r.stats += model_.train_batch(micro[i], arena_, rng, key, grad_scale, ready_now);
    }
  }
  if (parallel) {
    // The rest (embedding, final norms, alignment gaps), then wait for all.
    std::sort(reduced_.begin(), reduced_.end());
    std::int64_t at = 0;
    for (auto [begin, end] : reduced_) {
      if (at < begin) job_->start_sum(params.grads() + at, static_cast<std::size_t>(begin - at));
      at = end;
    }
    if (at < params.size()) job_->start_sum(params.grads() + at, static_cast<std::size_t>(params.size() - at));
    sum_over_ranks(*job_, r.stats);
    job_->finish_sums();
  }
  r.grad_norm = std::sqrt(sum_squares(params.grads(), params.size(), partials_.data()));
  r.lr = learning_rate(config_.lr_schedule, r.step, model_.config().d_model, config_.warmup, config_.lr_scale,
                       config_.last_update);
  if (!std::isfinite(r.stats.loss) || !std::isfinite(r.grad_norm)) {
    r.skipped = true;
    return r;
  }
  if (config_.clip_norm > 0 && r.grad_norm > config_.clip_norm)
    scale_values(params.grads(), params.size(), static_cast<float>(config_.clip_norm / r.grad_norm));
  adam_.update(params.values(), params.grads(), r.lr);
  shadow_fresh_ = false;
  return r;
}

LossStats Trainer::evaluate(const TokenBatch& batch) {
  refresh_shadow();
  arena_.reset();
  return model_.evaluate(batch, arena_);
}

void sum_over_ranks(Collective& job, LossStats& stats) {
  if (job.size() == 1) return;
  double sums[4] = {stats.loss, stats.nll, static_cast<double>(stats.tokens), static_cast<double>(stats.correct)};
  job.sum(sums, 4);
  stats = {sums[0], sums[1], static_cast<std::int64_t>(sums[2]), static_cast<std::int64_t>(sums[3])};
}

bool MemoryBatchStream::next(TokenBatch& out) {
  if (next_ >= batches_.size()) return false;
  out = batches_[next_++];
  return true;
}

namespace {

// Fills micro with up to n batches, moving to the next epoch when one ends;
// returns how many it got (fewer only when max_epochs ran out).
std::size_t gather(BatchStream& stream, std::vector<TokenBatch>& micro, std::size_t n,
                   const LoopLimits& limits, LoopState& state, int ranks) {
  std::size_t got = 0;
  while (got < n) {
    if (limits.max_epochs > 0 && state.epoch > limits.max_epochs) break;
    if (stream.next(micro[got])) {
      ++got;
      state.batch += ranks;  // every rank took one
      continue;
    }
    if (state.batch == 0) throw Error(fmt::format("epoch {} has no batches", state.epoch));
    ++state.epoch;
    state.batch = 0;
    stream.seek(state.epoch, 0);
  }
  return got;
}

}  // namespace

StopReason train_loop(Trainer& trainer, BatchStream& stream, const LoopLimits& limits,
                      LoopState& state, const AfterStep& after_step) {
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return state.elapsed + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<TokenBatch> micro(static_cast<std::size_t>(trainer.config().update_freq));
  auto finish = [&](StopReason reason) {
    state.elapsed = elapsed();
    return reason;
  };
  stream.seek(state.epoch, state.batch);
  Collective& job = trainer.job();
  bool requested = false;
  for (;;) {
    // Any rank's stop request or time limit stops every rank at the same step.
    double stop[2] = {requested ? 1.0 : 0.0, limits.max_time > 0 && elapsed() >= limits.max_time ? 1.0 : 0.0};
    job.sum(stop, 2);
    if (stop[0] > 0) return finish(StopReason::kRequested);
    if (limits.max_steps > 0 && trainer.steps_done() >= limits.max_steps)
      return finish(StopReason::kMaxSteps);
    if (stop[1] > 0) return finish(StopReason::kMaxTime);
    std::size_t got = gather(stream, micro, micro.size(), limits, state, job.size());
    if (got == 0) return finish(StopReason::kMaxEpochs);
    StepResult r = trainer.step(std::span<const TokenBatch>(micro.data(), got));
    if (r.skipped) {
      if (job.rank() == 0) warn(fmt::format("step {}: non-finite loss or gradient, update skipped", r.step));
      if (++state.bad_steps_in_row > limits.max_bad_steps)
        throw Error(fmt::format("step {}: {} updates in a row had a non-finite loss or gradient",
                                r.step, state.bad_steps_in_row));
    } else {
      state.bad_steps_in_row = 0;
    }
    LoopState now = state;
    now.elapsed = elapsed();
    requested = after_step && !after_step(r, now);
  }
}

}  // namespace tfm
