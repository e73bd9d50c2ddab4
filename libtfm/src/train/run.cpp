#include "tfm/train/run.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/core/progress.h"
#include "tfm/data/batch_file.h"
#include "tfm/model/model_file.h"
#include "tfm/tensor/isa.h"
#include "tfm/train/checkpoint.h"
#include "tfm/train/run_folder.h"

namespace tfm {

namespace fs = std::filesystem;

static_assert(std::is_trivially_copyable_v<TrainingState>, "TrainingState is broadcast as bytes");

namespace {

// A batch file's sentence pairs as model input; an error names the file and
// the batch as well as the sentence.
void to_token_batch(const SentencePairBatch& pairs, const ModelConfig& config, const std::string& path,
                    TokenBatch& out) {
  try {
    make_token_batch(pairs.source, pairs.target, config, out);
  } catch (const InputError& e) {
    throw InputError(path, 0, fmt::format("batch {}: {}", pairs.index, e.what()));
  }
}

// BatchReader (one shard of `ranks`) as a BatchStream: epoch e is shuffled
// from (seed, e); positions count the batches of all ranks.
class ReaderStream : public BatchStream {
 public:
  ReaderStream(BatchReader& reader, const ModelConfig& config, std::uint64_t seed, std::string path, int ranks)
      : reader_(reader), config_(config), seed_(seed), path_(std::move(path)), ranks_(ranks) {}
  void seek(std::int64_t epoch, std::int64_t batch) override {
    reader_.start_epoch(seed_, static_cast<std::uint64_t>(epoch));
    // A run resumed with another number of ranks goes on from the next whole round.
    reader_.seek(static_cast<std::size_t>((batch + ranks_ - 1) / ranks_));
  }
  bool next(TokenBatch& out) override {
    if (!reader_.next(pairs_)) return false;
    to_token_batch(pairs_, config_, path_, out);
    return true;
  }

 private:
  BatchReader& reader_;
  const ModelConfig& config_;
  std::uint64_t seed_;
  std::string path_;
  std::int64_t ranks_;
  SentencePairBatch pairs_;
};

// Appends TSV lines, writing the header when the file is new or empty.
class TsvLog {
 public:
  TsvLog(const std::string& path, const std::string& header) : path_(path) {
    bool fresh = !fs::exists(path) || fs::file_size(path) == 0;
    out_.open(path, std::ios::app);
    if (!out_) throw IoError(path, "cannot open for writing", errno);
    if (fresh) write(header);
  }
  void write(const std::string& line) {
    out_ << line << '\n';
    out_.flush();
    if (!out_) throw IoError(path_, "cannot write", errno);
  }

 private:
  std::string path_;
  std::ofstream out_;
};

// Averages of the steps since the last log line.
struct Window {
  LossStats stats;
  std::int64_t steps = 0;
  double start = 0, end = 0;  // elapsed seconds
  std::int64_t last_step = 0, last_epoch = 0;
  double last_lr = 0;
};

class Run {
 public:
  Run(ModelConfig config, const TrainerConfig& tc, const RunConfig& run, Collective& job);
  int train();

 private:
  bool lead() const { return job_.rank() == 0; }
  void open_run_dir();
  void share_start();
  void agree_isa_level();
  void check_ranks_agree();
  void validate_now(std::int64_t step, const LoopState& loop);
  void save(const LoopState& loop);
  bool after_step(const StepResult& r, const LoopState& loop);
  void log_window();
  void start_schedule();
  void measure_schedule(const StepResult& r, const LoopState& loop);
  void settle_schedule(std::int64_t budget, const std::string& origin, const std::string& how);
  void respace_schedule(std::int64_t budget, const std::string& how);
  void apply_schedule(const Schedule& s);
  bool settle_rdrop(std::int64_t budget, const std::string& origin);
  void settle_dropout(std::int64_t budget, const std::string& origin);
  std::int64_t updates_per_epoch();

  RunConfig run_;  // a copy: the schedule's choice may change its spacing
  TrainerConfig tc_;
  Collective& job_;
  BatchReader reader_;
  std::unique_ptr<BatchReader> valid_;
  ModelConfig config_;
  std::unique_ptr<Transformer> model_;
  std::unique_ptr<Trainer> trainer_;
  TrainingState state_;
  std::unique_ptr<RunFolderLock> run_dir_lock_;  // the lead's, for the whole run
  std::unique_ptr<TsvLog> train_log_, valid_log_;
  std::unique_ptr<ProgressBar> progress_;
  Window window_;
  std::int64_t last_saved_ = -1;
  double last_save_time_ = 0;
  bool patience_out_ = false;
  // A time budget's schedule waits for the rate of the first updates.
  bool schedule_pending_ = false;
  std::int64_t known_updates_ = 0;  // from --max-steps or --max-epochs; 0 = none
  std::int64_t given_max_steps_ = 0;  // --max-steps as given (the linear schedule may stop sooner)
  std::int64_t first_step_ = -1;
  double first_elapsed_ = 0;
  std::int64_t respace_at_ = -1;  // the update that measures the rate again
  std::vector<RecipeLine> recipe_;
  std::optional<RecipeLine> rdrop_line_;  // R-Drop's choice, once made
  std::optional<RecipeLine> dropout_line_;  // the dropout's, once made
};

Run::Run(ModelConfig config, const TrainerConfig& tc, const RunConfig& run, Collective& job)
    : run_(run), tc_(tc), job_(job),
      reader_(run.batches, static_cast<std::size_t>(job.rank()), static_cast<std::size_t>(job.size())),
      config_(config) {
  if (!reader_.joint_vocabulary())
    throw InputError(run.batches, 0, "tfm-train needs a joint vocabulary (tfm-batch --joint)");
  config_.vocab_size = static_cast<std::int64_t>(reader_.vocabulary().size());
  if (!run.valid.empty()) {
    valid_ = std::make_unique<BatchReader>(run.valid);
    if (!valid_->joint_vocabulary() || !(valid_->vocabulary() == reader_.vocabulary()))
      throw InputError(run.valid, 0, "its vocabulary differs from that of " + run.batches);
  }
  model_ = std::make_unique<Transformer>(config_);
  trainer_ = std::make_unique<Trainer>(*model_, tc_, &job_);
  state_.seed = tc_.seed;
  if (lead()) open_run_dir();
  share_start();
  start_schedule();
}

// A resumed run keeps the schedule its recipe.tsv records; a budget in
// updates is planned now, a time budget after kMeasuredUpdates updates.
void Run::start_schedule() {
  if (!run_.choose_schedule) return;
  given_max_steps_ = run_.limits.max_steps;
  const std::string path = (fs::path(run_.run_dir) / "recipe.tsv").string();
  double kept = 0;
  Schedule schedule;
  if (lead() && run_.resume && fs::exists(path)) {
    schedule = load_recipe(path);
    kept = 1;
  }
  job_.broadcast(&kept, sizeof kept);
  if (kept > 0) {
    job_.broadcast(&schedule, sizeof schedule);
    GivenSchedule g = run_.given_schedule;
    if (!g.warmup) g.warmup = schedule.warmup;
    if (!g.lr_scale) g.lr_scale = schedule.lr_scale;
    if (!g.save_every) g.save_every = schedule.save_every;
    if (!g.save_every_minutes) g.save_every_minutes = schedule.save_every_minutes;
    if (!g.valid_every) g.valid_every = schedule.valid_every;
    if (!g.lr_schedule) g.lr_schedule = schedule.lr_schedule;
    Schedule kept_schedule = plan_schedule(g, 0, run_.keep_last, config_).schedule;
    kept_schedule.updates = schedule.updates;
    apply_schedule(kept_schedule);
    if (schedule.rdrop >= 0) trainer_->set_rdrop(static_cast<float>(schedule.rdrop));
    if (schedule.dropout >= 0) model_->set_dropout(static_cast<float>(schedule.dropout));
    return;
  }
  const LoopLimits& limits = run_.limits;
  known_updates_ = limits.max_steps;
  if (limits.max_epochs > 0) {
    std::int64_t by_epochs = limits.max_epochs * updates_per_epoch();
    known_updates_ = known_updates_ > 0 ? std::min(known_updates_, by_epochs) : by_epochs;
  }
  if (limits.max_time > 0) {
    schedule_pending_ = true;  // meanwhile the defaults, so the first updates' rate is tiny
    apply_schedule(plan_schedule(run_.given_schedule, 0, run_.keep_last, config_).schedule);
  } else {
    settle_schedule(known_updates_, known_updates_ > 0 ? "given" : "none",
                    known_updates_ > 0 ? "--max-steps or --max-epochs" : "no --max-steps, --max-epochs or --max-time");
  }
}

// Called after every update of a time budget until its schedule is final:
// the rate of kMeasuredUpdates updates after the first sets the schedule; at
// the update half-way through that estimate the rate so far re-spaces
// checkpoints and validations, as the first updates' rate is the least
// reliable (new batch shapes, the machine's load). Warm-up and peak stay.
void Run::measure_schedule(const StepResult& r, const LoopState& loop) {
  if (first_step_ < 0) {
    first_step_ = r.step, first_elapsed_ = loop.elapsed;
    return;
  }
  const bool first = schedule_pending_;
  if (first ? r.step - first_step_ < kMeasuredUpdates : r.step != respace_at_) return;
  const double seconds = loop.elapsed - first_elapsed_;
  double budget = static_cast<double>(
      updates_in_time(r.step, loop.elapsed, r.step - first_step_, seconds, run_.limits.max_time));
  if (known_updates_ > 0) budget = std::min(budget, static_cast<double>(known_updates_));
  job_.broadcast(&budget, sizeof budget);  // the ranks' clocks differ; rank 0's rate decides
  const auto updates = static_cast<std::int64_t>(budget);
  std::string how = fmt::format("{:.3g} updates/s over updates {}-{}",
                                static_cast<double>(r.step - first_step_) / seconds, first_step_ + 1, r.step);
  if (!first) return respace_schedule(updates, how);
  settle_schedule(updates, "measured", how);
  respace_at_ = std::max(r.step + 1, updates / 2);
}

std::int64_t Run::updates_per_epoch() {
  auto per_update = static_cast<std::size_t>(job_.size() * tc_.update_freq);
  return static_cast<std::int64_t>((reader_.total_batches() + per_update - 1) / per_update);
}

// R-Drop's choice (run_.rdrop_min_epochs) for a time budget, made once, at
// the first measured rate (a budget in updates is not halved by R-Drop).
// True when that turned R-Drop off: the rate was R-Drop's, so the schedule
// waits for the rate without it.
bool Run::settle_rdrop(std::int64_t budget, const std::string& origin) {
  if (rdrop_line_ || tc_.rdrop <= 0 || run_.rdrop_min_epochs <= 0 || origin != "measured") return false;
  RdropPlan plan = plan_rdrop(tc_.rdrop, run_.rdrop_min_epochs, budget, updates_per_epoch());
  rdrop_line_ = plan.line;
  trainer_->set_rdrop(plan.weight);
  if (plan.weight > 0) return false;
  if (lead()) note(fmt::format("update {}: rdrop 0 ({}); measuring the rate again", trainer_->steps_done(),
                               plan.line.reason));
  schedule_pending_ = true;
  first_step_ = -1;
  return true;
}

// The dropout's choice (run_.dropout_min_epochs) for a time budget without
// R-Drop, made once, at the rate the schedule is planned from. R-Drop's
// second mask regularizes too: with it, the given dropout stays (0.1 did
// worse than 0.2 there on Multi30k).
void Run::settle_dropout(std::int64_t budget, const std::string& origin) {
  if (dropout_line_ || trainer_->config().rdrop > 0 || run_.dropout_min_epochs <= 0 || origin != "measured") return;
  DropoutPlan plan = plan_dropout(config_.dropout, run_.dropout_min_epochs, budget, updates_per_epoch());
  dropout_line_ = plan.line;
  model_->set_dropout(plan.dropout);
}

void Run::settle_schedule(std::int64_t budget, const std::string& origin, const std::string& how) {
  if (settle_rdrop(budget, origin)) return;
  settle_dropout(budget, origin);
  schedule_pending_ = false;
  SchedulePlan plan = plan_schedule(run_.given_schedule, budget, run_.keep_last, config_);
  apply_schedule(plan.schedule);
  if (!lead()) return;
  plan.lines.insert(plan.lines.begin(), {"updates", fmt::format("{}", budget), origin, how});
  if (rdrop_line_) plan.lines.push_back(*rdrop_line_);
  if (dropout_line_) plan.lines.push_back(*dropout_line_);
  recipe_ = plan.lines;
  save_recipe((fs::path(run_.run_dir) / "recipe.tsv").string(), recipe_);
  for (const RecipeLine& l : recipe_) note(fmt::format("{} {} ({}: {})", l.name, l.value, l.origin, l.reason));
}

void Run::respace_schedule(std::int64_t budget, const std::string& how) {
  GivenSchedule kept = run_.given_schedule;
  kept.warmup = trainer_->config().warmup, kept.lr_scale = trainer_->config().lr_scale;
  SchedulePlan plan = plan_schedule(kept, budget, run_.keep_last, config_);
  apply_schedule(plan.schedule);
  if (!lead()) return;
  for (RecipeLine& line : recipe_) {
    if (line.name == "updates") line = {"updates", fmt::format("{}", budget), "measured", how + "; at first " + line.value};
    for (const RecipeLine& again : plan.lines)
      if (again.name == line.name && line.name != "warmup" && line.name != "lr-scale") line = again;
  }
  save_recipe((fs::path(run_.run_dir) / "recipe.tsv").string(), recipe_);
  note(fmt::format("update {}: {} updates in the budget ({}); save-every {}, valid-every {}", trainer_->steps_done(),
                   budget, how, plan.schedule.save_every, plan.schedule.valid_every));
}

void Run::apply_schedule(const Schedule& s) {
  trainer_->set_schedule(s.warmup, s.lr_scale, s.lr_schedule, s.updates);
  // Past the linear schedule's last update the rate is 0: training ends there
  // (train_loop reads run_.limits after every update).
  if (s.lr_schedule == LrSchedule::kLinear && s.updates > 0)
    run_.limits.max_steps = given_max_steps_ > 0 ? std::min(given_max_steps_, s.updates) : s.updates;
  run_.save_every = s.save_every;
  run_.save_every_minutes = s.save_every_minutes;
  run_.valid_every = s.valid_every;
}

// Ranks on different CPUs compute with the kernels of the highest level all
// of them have, so that the update gives the same bits on every rank.
void Run::agree_isa_level() {
  // Ranks that have each level, and a last 0 that ends the scan.
  std::vector<double> ranks_with(static_cast<std::size_t>(IsaLevel::kAvx512Bf16) + 2, 0.0);
  for (int l = 0; l <= static_cast<int>(isa_level()); ++l) ranks_with[static_cast<std::size_t>(l)] = 1;
  job_.sum(ranks_with.data(), ranks_with.size());
  int common = 0;
  while (ranks_with[static_cast<std::size_t>(common + 1)] == job_.size()) ++common;
  const auto level = static_cast<IsaLevel>(common);
  if (level != isa_level()) set_isa_level(level);
  if (lead() && ranks_with[static_cast<std::size_t>(common + 1)] > 0)
    note(fmt::format("the ranks compute with the {} kernels, the highest level all of them have", isa_name(level)));
}

// Every rank starts from rank 0's parameters, optimizer state and position.
void Run::share_start() {
  if (job_.size() == 1) return;
  agree_isa_level();
  ParamStore& params = model_->params();
  Adam& adam = trainer_->adam();
  // The same command on every host, but batch files could still differ.
  std::uint64_t vocabulary_hash = kFingerprintStart;
  for (const std::string& token : reader_.vocabulary().tokens())
    vocabulary_hash = fingerprint_bytes("\n", 1, fingerprint_bytes(token.data(), token.size(), vocabulary_hash));
  std::uint64_t mine[2] = {static_cast<std::uint64_t>(params.size()), vocabulary_hash};
  std::uint64_t lead_model[2] = {mine[0], mine[1]};
  job_.broadcast(lead_model, sizeof lead_model);
  if (lead_model[0] != mine[0] || lead_model[1] != mine[1])
    job_.abort(run_.batches + ": its vocabulary or the model options differ from those of rank 0", 1);
  job_.broadcast(&state_, sizeof state_);
  job_.broadcast(params.values(), static_cast<std::size_t>(params.size()) * sizeof(float));
  job_.broadcast(adam.m(), static_cast<std::size_t>(adam.size()) * sizeof(float));
  job_.broadcast(adam.v(), static_cast<std::size_t>(adam.size()) * sizeof(float));
  if (!lead()) {
    trainer_->set_steps_done(state_.step);
    adam.set_steps(state_.adam_steps);
    last_saved_ = state_.step;
  }
}

// Ranks that applied the same updates hold the same bits; anything else is a
// bug or a broken host, and training on would silently diverge.
void Run::check_ranks_agree() {
  if (job_.size() == 1) return;
  ParamStore& params = model_->params();
  std::uint64_t mine = fingerprint_bytes(params.values(), static_cast<std::size_t>(params.size()) * sizeof(float));
  std::uint64_t lead_hash = mine;
  job_.broadcast(&lead_hash, sizeof lead_hash);
  double differing = lead_hash == mine ? 0.0 : 1.0;
  job_.sum(&differing, 1);
  if (differing > 0)
    job_.abort(fmt::format("after step {} the parameters differ between ranks ({} of {} differ from rank 0)",
                           trainer_->steps_done(), differing, job_.size()),
               1);
}

void Run::open_run_dir() {
  std::error_code ec;
  fs::create_directories(run_.run_dir, ec);
  if (ec) throw IoError(run_.run_dir, "cannot create run folder", ec.value());
  run_dir_lock_ = std::make_unique<RunFolderLock>(run_.run_dir);
  if (const auto stale = remove_stale_temporaries(run_.run_dir); !stale.empty())
    note(fmt::format("removed {} temporary file(s) that an interrupted run left in {}", stale.size(), run_.run_dir));
  auto existing = list_checkpoints(run_.run_dir);
  if (!existing.empty() && !run_.resume)
    throw InputError(run_.run_dir, 0, "holds checkpoints already; use --resume to continue, or another folder");
  if (existing.empty()) {
    if (run_.resume) note("no checkpoint in " + run_.run_dir + ": starting from scratch");
    model_->params().initialize(tc_.seed);
  } else {
    const std::string& path = existing.back().path;
    if (!same_architecture(checkpoint_config(path), config_) ||
        !(checkpoint_vocabulary(path) == reader_.vocabulary()))
      throw InputError(path, 0, "checkpoint of another model or vocabulary than this run's");
    load_checkpoint(path, *model_, trainer_->adam(), state_);
    if (state_.seed != tc_.seed)
      throw UsageError(fmt::format("--seed {} differs from the seed of the run in {} ({})", tc_.seed,
                                   run_.run_dir, state_.seed));
    trainer_->set_steps_done(state_.step);
    last_saved_ = state_.step;
    note(fmt::format("resuming from {} (step {}, epoch {})", path, state_.step, state_.loop.epoch));
  }
  train_log_ = std::make_unique<TsvLog>((fs::path(run_.run_dir) / "train.log").string(),
                                        "step\tepoch\tlr\tloss\tppl\ttokens_per_s\telapsed");
  if (valid_)
    valid_log_ = std::make_unique<TsvLog>((fs::path(run_.run_dir) / "valid.log").string(),
                                          "step\tepoch\tloss\tnll\tppl\taccuracy");
}

void Run::validate_now(std::int64_t step, const LoopState& loop) {
  // The ranks share the validation batches and sum their statistics.
  LossStats total;
  SentencePairBatch pairs;
  TokenBatch batch;
  for (std::size_t index = static_cast<std::size_t>(job_.rank()); index < valid_->total_batches();
       index += static_cast<std::size_t>(job_.size())) {
    valid_->read(index, pairs);
    to_token_batch(pairs, config_, run_.valid, batch);
    total += trainer_->evaluate(batch);
  }
  sum_over_ranks(job_, total);
  check_ranks_agree();
  if (!lead()) return;
  double n = static_cast<double>(std::max<std::int64_t>(total.tokens, 1));
  double loss = total.loss / n, nll = total.nll / n;
  valid_log_->write(fmt::format("{}\t{}\t{:.4f}\t{:.4f}\t{:.2f}\t{:.4f}", step, loop.epoch, loss, nll,
                                std::exp(nll), static_cast<double>(total.correct) / n));
  note(fmt::format("step {} validation: loss {:.4f} ppl {:.2f}", step, loss, std::exp(nll)));
  if (loss < state_.best_valid_loss) {
    state_.best_valid_loss = loss;
    state_.validations_without_improvement = 0;
  } else if (run_.patience > 0 && ++state_.validations_without_improvement >= run_.patience) {
    note(fmt::format("no improvement in {} validations: stopping", run_.patience));
    patience_out_ = true;
  }
}

void Run::save(const LoopState& loop) {
  last_saved_ = trainer_->steps_done();
  last_save_time_ = loop.elapsed;
  if (!lead()) return;  // rank 0 alone writes the run folder
  state_.step = trainer_->steps_done();
  state_.adam_steps = trainer_->adam().steps();
  state_.loop = loop;
  save_checkpoint(checkpoint_path(run_.run_dir, state_.step), *model_, trainer_->adam(),
                  reader_.vocabulary(), state_);
  prune_checkpoints(run_.run_dir, run_.keep_last);
}

// A train.log line for the steps since the last one.
void Run::log_window() {
  double n = static_cast<double>(std::max<std::int64_t>(window_.stats.tokens, 1));
  train_log_->write(fmt::format("{}\t{}\t{:.6g}\t{:.4f}\t{:.2f}\t{:.0f}\t{:.1f}", window_.last_step,
                                window_.last_epoch, window_.last_lr, window_.stats.loss / n,
                                std::exp(window_.stats.nll / n), n / std::max(window_.end - window_.start, 1e-9),
                                window_.end));
  window_ = Window{{}, 0, window_.end, window_.end, 0, 0, 0};
}

bool Run::after_step(const StepResult& r, const LoopState& loop) {
  if (schedule_pending_ || r.step == respace_at_) measure_schedule(r, loop);
  if (valid_ && run_.valid_every > 0 && r.step % run_.valid_every == 0) validate_now(r.step, loop);
  if (!lead()) return !stop_signal();
  window_.stats += r.stats;
  ++window_.steps;
  double n = static_cast<double>(std::max<std::int64_t>(window_.stats.tokens, 1));
  double tokens_per_s = n / std::max(loop.elapsed - window_.start, 1e-9);
  std::string eta = run_.limits.max_steps > 0
                        ? format_duration((loop.elapsed - state_.loop.elapsed) / static_cast<double>(r.step - state_.step) *
                                          static_cast<double>(run_.limits.max_steps - r.step))
                        : "?";
  progress_->update(static_cast<std::uint64_t>(r.step),
                    fmt::format("epoch {} loss {:.3f} ppl {:.1f} lr {:.2e} {:.0f} tok/s ETA {}", loop.epoch,
                                window_.stats.loss / n, std::exp(window_.stats.nll / n), r.lr, tokens_per_s, eta));
  window_.last_step = r.step, window_.last_epoch = loop.epoch, window_.last_lr = r.lr, window_.end = loop.elapsed;
  if (window_.steps >= run_.log_every) log_window();
  bool by_steps = run_.save_every > 0 && r.step % run_.save_every == 0;
  bool by_time = run_.save_every_minutes > 0 && loop.elapsed - last_save_time_ >= run_.save_every_minutes * 60;
  if (by_steps || by_time || stop_signal() || patience_out_) save(loop);
  return !stop_signal() && !patience_out_;
}

int Run::train() {
  progress_ = std::make_unique<ProgressBar>("train", static_cast<std::uint64_t>(run_.limits.max_steps),
                                            run_.progress && lead());
  window_.start = state_.loop.elapsed;
  last_save_time_ = state_.loop.elapsed;
  ReaderStream stream(reader_, config_, tc_.seed, run_.batches, job_.size());
  LoopState loop = state_.loop;
  StopReason reason = train_loop(*trainer_, stream, run_.limits, loop,
                                 [&](const StepResult& r, const LoopState& now) { return after_step(r, now); });
  progress_->finish();
  if (schedule_pending_) settle_schedule(0, "none", "the time ran out before the update rate was measured");
  if (lead() && window_.steps > 0) log_window();  // the last steps, so the log ends where training did
  bool validated = run_.valid_every > 0 && trainer_->steps_done() % run_.valid_every == 0;
  if (valid_ && reason != StopReason::kRequested && !validated) validate_now(trainer_->steps_done(), loop);
  check_ranks_agree();
  if (last_saved_ != trainer_->steps_done()) save(loop);
  // No rank ends before rank 0's checkpoint is written: mpirun kills the
  // remaining ranks as soon as one exits with a signal's status.
  double written = 0;
  job_.sum(&written, 1);
  if (job_.size() > 1 && lead())
    note(fmt::format("parameters identical on all {} ranks after step {}", job_.size(), trainer_->steps_done()));
  if (stop_signal()) {
    if (lead())
      note(fmt::format("stopped by signal {} after step {}; checkpoint written", stop_signal(), trainer_->steps_done()));
    return 128 + stop_signal();
  }
  if (reason == StopReason::kRequested && !patience_out_ && lead())
    note(fmt::format("stopped after step {} at another rank's request; checkpoint written", trainer_->steps_done()));
  return 0;
}

}  // namespace

int run_training(ModelConfig model_config, const TrainerConfig& trainer_config, const RunConfig& run) {
  if (run.keep_last < 1) throw UsageError("--keep-last must be at least 1");
  std::unique_ptr<Collective> job = join_job(run.mpi_timeout);
  if (job->size() == 1) {
    Run r(model_config, trainer_config, run, *job);
    return r.train();
  }
  // One rank's error would leave the others waiting: end them all with it.
  try {
    Run r(model_config, trainer_config, run, *job);
    return r.train();
  } catch (const UsageError& e) {
    job->abort(e.what(), kExitUsage);
  } catch (const std::bad_alloc&) {
    job->abort("out of memory", kExitFailure);
  } catch (const std::exception& e) {
    job->abort(e.what(), kExitFailure);
  }
}

double parse_duration(const std::string& text) {
  std::size_t used = 0;
  double value = -1;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  std::string unit = text.substr(std::min(used, text.size()));
  double scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : -1;
  if (value < 0 || scale < 0 || !std::isfinite(value))
    throw UsageError("bad duration '" + text + "' (e.g. 90, 90s, 30m, 12h, 2d)");
  return value * scale;
}

}  // namespace tfm
