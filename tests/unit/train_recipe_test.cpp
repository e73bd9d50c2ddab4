// The schedule tfm-train chooses from its budget (train/recipe.h): the rules'
// values for short and long budgets, given settings winning, and the
// recipe file's round trip.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "tfm/core/error.h"
#include "tfm/model/config.h"
#include "tfm/train/recipe.h"

namespace tfm {

namespace {

const RecipeLine& line_of(const SchedulePlan& plan, const std::string& name) {
  for (const auto& l : plan.lines)
    if (l.name == name) return l;
  FAIL("no recipe line " << name);
  return plan.lines.front();
}

void check_schedule(const Schedule& got, const Schedule& want) {
  CHECK(got.warmup == want.warmup);
  CHECK(got.lr_scale == want.lr_scale);
  CHECK(got.save_every == want.save_every);
  CHECK(got.save_every_minutes == want.save_every_minutes);
  CHECK(got.valid_every == want.valid_every);
  CHECK(got.lr_schedule == want.lr_schedule);
  CHECK(got.updates == want.updates);
  CHECK(got.rdrop == want.rdrop);
  CHECK(got.dropout == want.dropout);
}

const ModelConfig kTiny = preset_config("tiny");  // 2 + 2 post-norm: no cap on the peak

// The plan's warm-up is `warmup`, the shortest whose peak d^-0.5 w^-0.5 is at most `cap`.
void check_shortest_warmup(const SchedulePlan& plan, const ModelConfig& model, std::int64_t warmup, double cap) {
  CHECK(plan.schedule.warmup == warmup);
  const auto d = static_cast<double>(model.d_model);
  CHECK(1 / std::sqrt(d * static_cast<double>(warmup)) <= cap);
  CHECK(1 / std::sqrt(d * static_cast<double>(warmup - 1)) > cap);
}

}  // namespace

TEST_CASE("without a budget the schedule is the paper's") {
  SchedulePlan plan = plan_schedule({}, 0, 5, kTiny);
  check_schedule(plan.schedule, {4000, 1.0, 0, 10, 1000, LrSchedule::kInverseSqrt, 0});
  REQUIRE(plan.lines.size() == 6);
  for (const auto& l : plan.lines) CHECK(l.origin == "default");
}

TEST_CASE("3,000 updates (an hour on Multi30k before the batches halved)") {
  SchedulePlan plan = plan_schedule({}, 3000, 5, kTiny);
  check_schedule(plan.schedule, {750, 1.0, 188, 0, 250, LrSchedule::kInverseSqrt, 3000});  // the last 5 span updates 2,248-3,000
  for (const auto& l : plan.lines)
    CHECK(l.origin == (l.name == "lr-scale" || l.name == "lr-schedule" ? "default" : "chosen"));
  CHECK(line_of(plan, "lr-schedule").value == "inverse-sqrt");
  CHECK(line_of(plan, "warmup").value == "750");
  CHECK(line_of(plan, "warmup").reason.find("3000 updates") != std::string::npos);
  plan = plan_schedule({}, 9000, 10, kTiny);  // the pipeline's 10: the last 10 span updates 6,750-9,000
  CHECK(plan.schedule.save_every == 250);
  CHECK(line_of(plan, "save-every").reason == "the last 10 checkpoints span the last quarter of training");
}

TEST_CASE("short budgets: warm-up at least 400, spacing at least 1") {
  SchedulePlan plan = plan_schedule({}, 200, 5, kTiny);
  check_schedule(plan.schedule, {400, 1.0, 13, 0, 17, LrSchedule::kInverseSqrt, 200});
  plan = plan_schedule({}, 3, 5, kTiny);
  CHECK(plan.schedule.save_every == 1);
  CHECK(plan.schedule.valid_every == 1);
  plan = plan_schedule({}, 1000, 1, kTiny);  // one checkpoint averaged: spacing of a quarter
  CHECK(plan.schedule.save_every == 250);
}

TEST_CASE("long budgets: the paper's warm-up of 4,000, checkpoints over the last quarter") {
  SchedulePlan plan = plan_schedule({}, 100000, 5, kTiny);
  check_schedule(plan.schedule, {4000, 1.0, 6250, 0, 8333, LrSchedule::kInverseSqrt, 100000});
  plan = plan_schedule({}, 100000, 20, kTiny);  // the paper's big model averaged 20
  CHECK(plan.schedule.save_every == 1316);
}

TEST_CASE("a given setting wins, and keeps its partners at their defaults") {
  GivenSchedule given;
  given.warmup = 800;
  given.save_every = 100;
  SchedulePlan plan = plan_schedule(given, 3000, 5, kTiny);
  CHECK(plan.schedule.warmup == 800);
  CHECK(line_of(plan, "warmup").origin == "given");
  CHECK(plan.schedule.lr_scale == 1.0);
  CHECK(line_of(plan, "lr-scale").origin == "default");
  CHECK(plan.schedule.save_every == 100);
  CHECK(plan.schedule.save_every_minutes == 10);  // the user chose the checkpoint spacing
  CHECK(line_of(plan, "save-every-minutes").origin == "default");
  CHECK(plan.schedule.valid_every == 250);
  CHECK(line_of(plan, "valid-every").origin == "chosen");

  GivenSchedule minutes;
  minutes.save_every_minutes = 0;
  minutes.lr_scale = 2;
  plan = plan_schedule(minutes, 200, 5, kTiny);
  CHECK(plan.schedule.save_every == 0);
  CHECK(plan.schedule.save_every_minutes == 0);
  CHECK(plan.schedule.lr_scale == 2.0);
  CHECK(line_of(plan, "lr-scale").origin == "given");
  CHECK(plan.schedule.warmup == 400);
  CHECK_THROWS_AS(plan_schedule({}, 100, 0, kTiny), UsageError);

  GivenSchedule linear;
  linear.lr_schedule = LrSchedule::kLinear;
  plan = plan_schedule(linear, 3000, 5, kTiny);
  check_schedule(plan.schedule, {750, 1.0, 188, 0, 250, LrSchedule::kLinear, 3000});
  CHECK(line_of(plan, "lr-schedule").value == "linear");
  CHECK(line_of(plan, "lr-schedule").origin == "given");
}

TEST_CASE("a post-norm model of 3 layers: the warm-up keeps the peak at most 2e-3; 2 layers have no cap") {
  const ModelConfig small = preset_config("small");  // 3 + 3 post-norm, width 256
  SchedulePlan plan = plan_schedule({}, 2605, 10, small);
  check_shortest_warmup(plan, small, 977, kThreeLayerPostNormPeak);  // 256^-0.5 977^-0.5 = 1.99949e-3
  CHECK(line_of(plan, "warmup").reason ==
        "a quarter of the 2605 updates the budget holds, 400 to 4000, raised to 977 for a peak rate of at most "
        "0.002: post-norm 3 + 3 layers stall at higher peaks");
  CHECK(plan_schedule({}, 5645, 10, small).schedule.warmup == 1411);  // Multi30k in an hour: a quarter
  ModelConfig shallow_decoder = small;
  shallow_decoder.decoder_layers = 1;  // the deeper side counts
  CHECK(plan_schedule({}, 2605, 10, shallow_decoder).schedule.warmup == 977);
  ModelConfig pre_norm = small;
  pre_norm.pre_norm = true;
  CHECK(post_norm_peak_cap(pre_norm) == 0);
  CHECK(plan_schedule({}, 2605, 10, pre_norm).schedule.warmup == 651);
  const ModelConfig tiny = preset_config("tiny");  // 2 + 2: 400 reaches 4.4e-3 at width 128
  CHECK(post_norm_peak_cap(tiny) == 0);
  CHECK(plan_schedule({}, 1600, 10, tiny).schedule.warmup == 400);
  CHECK(post_norm_peak_cap(preset_config("base")) == kDeepPostNormPeak);
}

TEST_CASE("a post-norm model deeper than 3 layers: the warm-up keeps the peak at most 1.4e-3") {
  const ModelConfig base = preset_config("base");  // 6 + 6 post-norm, width 512
  SchedulePlan plan = plan_schedule({}, 1600, 10, base);
  check_shortest_warmup(plan, base, 997, kDeepPostNormPeak);  // 512^-0.5 997^-0.5 = 1.39965e-3
  CHECK(line_of(plan, "warmup").origin == "chosen");
  CHECK(line_of(plan, "warmup").reason ==
        "a quarter of the 1600 updates the budget holds, 400 to 4000, raised to 997 for a peak rate of at most "
        "0.0014: post-norm 6 + 6 layers stall at higher peaks");
  CHECK(plan.schedule.save_every == 44);  // the spacing still follows the budget
  plan = plan_schedule({}, 5000, 10, base);  // a quarter is more than the floor
  CHECK(plan.schedule.warmup == 1250);
  CHECK(line_of(plan, "warmup").reason.find("raised") == std::string::npos);

  ModelConfig deep_narrow = preset_config("small");
  deep_narrow.encoder_layers = 6;  // one side deeper than 3 is enough
  CHECK(plan_schedule({}, 1600, 10, deep_narrow).schedule.warmup == 1993);  // 256^-0.5 1993^-0.5 <= 1.4e-3
  GivenSchedule halved;
  halved.lr_scale = 0.5;  // a given scale lowers the peak: a quarter of the warm-up does
  CHECK(plan_schedule(halved, 1600, 10, deep_narrow).schedule.warmup == 499);
  CHECK(plan_schedule(halved, 1600, 10, base).schedule.warmup == 400);

  ModelConfig pre_norm = base;
  pre_norm.pre_norm = true;
  CHECK(plan_schedule({}, 1600, 10, pre_norm).schedule.warmup == 400);
  GivenSchedule given;
  given.warmup = 400;  // a given warm-up wins
  CHECK(plan_schedule(given, 1600, 10, base).schedule.warmup == 400);
  CHECK(plan_schedule({}, 0, 10, base).schedule.warmup == 4000);  // no budget: the paper's
}

TEST_CASE("the updates a time budget holds, from the measured rate") {
  // 21 updates in 21 s, the last 20 in 10 s: 2 updates/s for the 3,579 s left.
  CHECK(updates_in_time(21, 21, 20, 10, 3600) == 21 + 7158);
  CHECK(updates_in_time(21, 21, 20, 10, 10) == 21);  // the time is over already
  CHECK(updates_in_time(5, 1, 0, 0, 3600) == 5);     // nothing measured
}

namespace {

// A recipe line chosen by one of the epoch rules.
void check_chosen(const RecipeLine& line, const std::string& name, const std::string& value, const std::string& reason) {
  CHECK(line.name == name);
  CHECK(line.value == value);
  CHECK(line.origin == "chosen");
  CHECK(line.reason == reason);
}

}  // namespace

TEST_CASE("R-Drop where the budget's updates with it make enough epochs, else off") {
  // Multi30k in an hour on a 2-core Zen 5: 6,114 updates of 235 an epoch, 26 epochs.
  RdropPlan kept = plan_rdrop(1, 20, 6114, 235);
  CHECK(kept.weight == 1);
  check_chosen(kept.line, "rdrop", "1",
               "the 6114 updates the budget holds with R-Drop make 26.0 epochs of 235 updates, at least 20 "
               "(--rdrop-min-epochs): two dropout masks an update");
  // One core of a Zen 3: 1,013 updates, 4.4 epochs.
  RdropPlan off = plan_rdrop(1, 20, 1013, 230);
  CHECK(off.weight == 0);
  check_chosen(off.line, "rdrop", "0",
               "the 1013 updates the budget holds with R-Drop make 4.4 epochs of 230 updates, below 20 "
               "(--rdrop-min-epochs): without R-Drop, twice the updates");
  CHECK(plan_rdrop(2.5f, 20, 4600, 230).weight == 2.5f);  // exactly 20 epochs: kept, with its weight
  CHECK(plan_rdrop(2.5f, 20, 4599, 230).weight == 0);
  CHECK(plan_rdrop(1, 20, 100, 0).weight == 1);  // no batches counted: an epoch of 1 update
}

TEST_CASE("dropout as given where the budget's updates make enough epochs, else at most 0.1") {
  // Multi30k in an hour on two Zen 3 cores, without R-Drop: 4,122 updates of 236 an epoch.
  DropoutPlan lowered = plan_dropout(0.2f, 25, 4122, 236);
  CHECK(lowered.dropout == 0.1f);
  check_chosen(lowered.line, "dropout", "0.1",
               "the 4122 updates the budget holds make 17.5 epochs of 236 updates, below 25 "
               "(--dropout-min-epochs): at most 0.1: so few passes underfit more than they overfit");
  // Two Zen 4 cores: 9,083 updates, 38.5 epochs.
  DropoutPlan kept = plan_dropout(0.2f, 25, 9083, 236);
  CHECK(kept.dropout == 0.2f);
  check_chosen(kept.line, "dropout", "0.2",
               "the 9083 updates the budget holds make 38.5 epochs of 236 updates, at least 25 "
               "(--dropout-min-epochs): --dropout 0.2");
  CHECK(plan_dropout(0.3f, 25, 5750, 230).dropout == 0.3f);  // exactly 25 epochs: kept
  CHECK(plan_dropout(0.3f, 25, 5749, 230).dropout == 0.1f);
  CHECK(plan_dropout(0.05f, 25, 100, 230).dropout == 0.05f);  // never raised
  CHECK(plan_dropout(0.2f, 25, 100, 0).dropout == 0.2f);  // no batches counted: an epoch of 1 update
}

TEST_CASE("the recipe file round-trips the schedule; a malformed one names file and line") {
  const std::string path = (std::filesystem::temp_directory_path() / "tfm-recipe-test.tsv").string();
  GivenSchedule linear;
  linear.lr_schedule = LrSchedule::kLinear;
  SchedulePlan plan = plan_schedule(linear, 3000, 5, kTiny);
  plan.lines.insert(plan.lines.begin(), {"updates", "3000", "measured", "1 updates/s"});
  save_recipe(path, plan.lines);
  check_schedule(load_recipe(path), {750, 1.0, 188, 0, 250, LrSchedule::kLinear, 3000});
  plan.lines.push_back(plan_rdrop(1, 20, 3000, 230).line);  // R-Drop's choice, kept on resume: 13 epochs, off
  save_recipe(path, plan.lines);
  check_schedule(load_recipe(path), {750, 1.0, 188, 0, 250, LrSchedule::kLinear, 3000, 0});
  plan.lines.push_back(plan_dropout(0.2f, 25, 3000, 230).line);  // the dropout's choice, kept on resume too
  save_recipe(path, plan.lines);
  check_schedule(load_recipe(path), {750, 1.0, 188, 0, 250, LrSchedule::kLinear, 3000, 0, 0.1});
  {
    std::ofstream out(path);
    out << "setting\tvalue\torigin\treason\nwarmup\tmany\tchosen\tx\n";
  }
  CHECK_THROWS_WITH_AS(load_recipe(path), doctest::Contains(":2:"), InputError);
  {
    std::ofstream out(path);
    out << "setting\tvalue\torigin\treason\nwarmup\t10\tgiven\tx\nlr-schedule\tcosine\tgiven\tx\n";
  }
  CHECK_THROWS_WITH_AS(load_recipe(path), doctest::Contains(":3: lr-schedule 'cosine'"), InputError);
  std::filesystem::remove(path);
  CHECK_THROWS_AS(load_recipe(path), IoError);
}

}  // namespace tfm
