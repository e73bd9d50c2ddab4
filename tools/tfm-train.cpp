// tfm-train: trains a Transformer on batches written by tfm-batch, with
// checkpoints, validation and exact resuming, in a run folder.
//
//   tfm-train --batches train.h5 --valid valid.h5 --preset base -o run/
//   mpirun -np 4 tfm-train ...        (data-parallel, one rank per process)
#include <string>

#include "tfm/core/cli.h"
#include "tfm/core/parallel.h"
#include "tfm/core/error.h"
#include "tfm/tensor/isa.h"
#include "tfm/model/config.h"
#include "tfm/tensor/engine_setup.h"
#include "tfm/train/run.h"
#include "tfm/train/trainer.h"

namespace {

struct Options {
  std::string preset = "base", max_time = "0";
  int threads = tfm::available_threads();
  std::string precision = "fp32";
  tfm::ModelConfig model;  // defaults shown in --help; the preset's apply unless given
  tfm::TrainerConfig trainer;
  tfm::RunConfig run;
};

tfm::po::options_description declare(Options& o) {
  namespace po = tfm::po;
  using I = std::int64_t;
  po::options_description data("Data and run folder");
  data.add_options()
      ("batches", po::value(&o.run.batches)->value_name("FILE"), "training batches (tfm-batch output)")
      ("valid", po::value(&o.run.valid)->value_name("FILE"), "validation batches, same vocabulary")
      ("output,o", po::value(&o.run.run_dir)->value_name("DIR"), "run folder: checkpoints and logs")
      ("resume", po::bool_switch(&o.run.resume), "continue from the newest checkpoint in the run folder");
  po::options_description model("Model (a preset, then any of its settings)");
  model.add_options()
      ("preset", po::value(&o.preset)->default_value(o.preset), "tiny, small, base or big")
      ("d-model", po::value<I>()->value_name("N"), "model width")
      ("heads", po::value<I>()->value_name("N"), "attention heads")
      ("ffn", po::value<I>()->value_name("N"), "feed-forward inner width")
      ("encoder-layers", po::value<I>()->value_name("N"), "encoder layers")
      ("decoder-layers", po::value<I>()->value_name("N"), "decoder layers")
      ("dropout", po::value<float>()->value_name("P"), "dropout on embeddings and sub-layer outputs")
      ("attention-dropout", po::value<float>()->value_name("P"), "dropout on attention weights")
      ("relu-dropout", po::value<float>()->value_name("P"), "dropout inside feed-forward layers")
      ("dropout-src", po::value<float>()->value_name("P"),
       "drop whole source words: a token's embedding zeroed, its position kept (default 0)")
      ("dropout-trg", po::value<float>()->value_name("P"), "drop whole target words (decoder inputs) alike (default 0)")
      ("label-smoothing", po::value<float>()->value_name("E"), "label smoothing (default 0.1)")
      ("pre-norm", po::bool_switch(&o.model.pre_norm), "layer norm before each sub-layer")
      ("max-positions", po::value<I>()->value_name("N"), "longest sentence + 1 (default 1024)");
  po::options_description train("Training");
  train.add_options()
      ("lr-scale", po::value<double>()->value_name("S"),
       "lr = scale * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5) (default: chosen from the budget, else 1)")
      ("warmup", po::value<I>()->value_name("N"), "warm-up steps (default: chosen from the budget, else 4000)")
      ("lr-schedule", po::value<std::string>()->value_name("NAME"),
       "after the warm-up: inverse-sqrt (the paper's, default) or linear (to zero at the budget's last update, "
       "where training ends; needs --max-steps, --max-epochs or --max-time)")
      ("adam-beta1", po::value(&o.trainer.adam.beta1)->default_value(o.trainer.adam.beta1), "Adam beta1")
      ("adam-beta2", po::value(&o.trainer.adam.beta2)->default_value(o.trainer.adam.beta2), "Adam beta2")
      ("adam-eps", po::value(&o.trainer.adam.eps)->default_value(o.trainer.adam.eps), "Adam epsilon")
      ("update-freq", po::value(&o.trainer.update_freq)->default_value(o.trainer.update_freq),
       "batches per update (gradient accumulation)")
      ("clip-norm", po::value(&o.trainer.clip_norm)->default_value(o.trainer.clip_norm),
       "clip the gradient norm to this (0: off)")
      ("rdrop", po::value(&o.trainer.rdrop)->default_value(o.trainer.rdrop),
       "R-Drop weight: each batch twice under two dropout masks, plus this times the symmetric KL "
       "divergence of the two predictions (0: off; about twice the time per update)")
      ("rdrop-min-epochs", po::value(&o.run.rdrop_min_epochs)->default_value(o.run.rdrop_min_epochs)->value_name("E"),
       "with --rdrop and --max-time: R-Drop only if the budget, at the rate of the first updates, holds at least "
       "E epochs with it; else off from there on (0: always)")
      ("dropout-min-epochs", po::value(&o.run.dropout_min_epochs)->default_value(o.run.dropout_min_epochs)->value_name("E"),
       "with --max-time and R-Drop off: --dropout only if the budget, at the rate of the first updates, holds at "
       "least E epochs; else at most 0.1 from there on (0: always)")
      ("seed", po::value(&o.trainer.seed)->default_value(o.trainer.seed), "initialization, dropout, batch order")
      ("threads", po::value(&o.threads)->default_value(o.threads), "threads (results identical for any)")
      ("precision", po::value(&o.precision)->default_value(o.precision),
       "matrix products in fp32, or bf16 (bf16 operands, fp32 sums, weights and Adam state; "
       "needs AVX512-BF16 or AMX)")
      ("max-steps", po::value(&o.run.limits.max_steps)->default_value(0), "stop after this many updates (0: no limit)")
      ("max-epochs", po::value(&o.run.limits.max_epochs)->default_value(0), "stop after this many epochs (0: no limit)")
      ("max-time", po::value(&o.max_time)->default_value(o.max_time), "stop after this long: 90s, 30m, 12h (0: no limit)")
      ("patience", po::value(&o.run.patience)->default_value(o.run.patience),
       "stop after this many validations without improvement (0: never)");
  po::options_description save("Validation, checkpoints, logs");
  save.add_options()
      ("valid-every", po::value<I>()->value_name("N"),
       "validate every N steps (default: chosen from the budget, else 1000)")
      ("save-every", po::value<I>()->value_name("N"),
       "checkpoint every N steps (0: off; default: chosen from the budget, else off)")
      ("save-every-minutes", po::value<double>()->value_name("M"),
       "checkpoint every M minutes (0: off; default: 0 with a budget, else 10)")
      ("keep-last", po::value(&o.run.keep_last)->default_value(o.run.keep_last), "keep the newest K checkpoints")
      ("log-every", po::value(&o.run.log_every)->default_value(o.run.log_every), "a train.log line every N steps")
      ("progress", po::bool_switch(&o.run.progress), "progress line on stderr even when not a terminal");
  po::options_description mpi("Several processes (under mpirun)");
  mpi.add_options()
      ("mpi-timeout", po::value(&o.run.mpi_timeout)->default_value(o.run.mpi_timeout)->value_name("SECONDS"),
       "abort the job when the other ranks do not answer for this long");
  po::options_description all;
  all.add(data).add(model).add(train).add(save).add(mpi);
  return all;
}

// The preset, then every model option given on the command line.
tfm::ModelConfig model_config(const Options& o, const tfm::po::variables_map& vm) {
  tfm::ModelConfig c = tfm::preset_config(o.preset);
  auto take = [&](const char* name, auto& field) {
    if (vm.count(name)) field = vm[name].as<std::remove_reference_t<decltype(field)>>();
  };
  take("d-model", c.d_model), take("heads", c.heads), take("ffn", c.ffn);
  take("encoder-layers", c.encoder_layers), take("decoder-layers", c.decoder_layers);
  take("dropout", c.dropout), take("attention-dropout", c.attention_dropout);
  take("relu-dropout", c.relu_dropout), take("label-smoothing", c.label_smoothing);
  take("dropout-src", c.source_word_dropout), take("dropout-trg", c.target_word_dropout);
  take("max-positions", c.max_positions);
  c.pre_norm = c.pre_norm || o.model.pre_norm;
  return c;
}

// The schedule settings given on the command line; tfm-train chooses the others (train/recipe.h).
tfm::GivenSchedule given_schedule(const tfm::po::variables_map& vm) {
  tfm::GivenSchedule g;
  auto take = [&](const char* name, auto& field) {
    if (vm.count(name)) field = vm[name].as<typename std::remove_reference_t<decltype(field)>::value_type>();
  };
  take("warmup", g.warmup), take("lr-scale", g.lr_scale), take("save-every", g.save_every);
  take("save-every-minutes", g.save_every_minutes), take("valid-every", g.valid_every);
  if (vm.count("lr-schedule")) g.lr_schedule = tfm::parse_lr_schedule(vm["lr-schedule"].as<std::string>());
  return g;
}

int run(int argc, char** argv) {
  Options o;
  const tfm::ToolInfo info{"tfm-train", "--batches FILE -o DIR [--valid FILE] [--preset NAME] [options]",
                           "Trains a Transformer (Vaswani et al., 2017) on tfm-batch batches, writing "
                           "checkpoints and logs to a run folder; --resume continues exactly.",
                           tfm::compute_description};
  tfm::po::variables_map vm;
  if (!tfm::parse_command_line(info, declare(o), argc, argv, vm)) return tfm::kExitOk;
  tfm::isa_level();  // a bad TFM_ISA fails here, before any work
  if (o.run.batches.empty() || o.run.run_dir.empty())
    throw tfm::UsageError("--batches and --output are required (try 'tfm-train --help')");
  o.run.limits.max_time = tfm::parse_duration(o.max_time);
  tfm::ModelConfig config = model_config(o, vm);
  if (!(o.run.rdrop_min_epochs >= 0)) throw tfm::UsageError("--rdrop-min-epochs must not be negative");
  if (!(o.run.dropout_min_epochs >= 0)) throw tfm::UsageError("--dropout-min-epochs must not be negative");
  o.run.choose_schedule = true;
  o.run.given_schedule = given_schedule(vm);
  const tfm::LoopLimits& limits = o.run.limits;
  if (o.run.given_schedule.lr_schedule == tfm::LrSchedule::kLinear && limits.max_steps <= 0 && limits.max_epochs <= 0 &&
      limits.max_time <= 0)
    throw tfm::UsageError("--lr-schedule linear falls to zero at the budget's end: give --max-steps, --max-epochs or --max-time");
  tfm::defer_stop_signals();  // before the engine threads start, so they inherit the mask
  tfm::apply_engine_settings({o.threads, o.precision}, false);
  return tfm::run_training(config, o.trainer, o.run);
}

}  // namespace

int main(int argc, char** argv) { return tfm::run_tool("train", argc, argv, run); }
