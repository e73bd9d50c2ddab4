#include "tfm/train/recipe.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {

namespace {

std::int64_t at_least_one(double x) { return std::max<std::int64_t>(1, std::llround(x)); }

double budget_epochs(std::int64_t budget_updates, std::int64_t per_epoch) {
  return static_cast<double>(budget_updates) / static_cast<double>(std::max<std::int64_t>(1, per_epoch));
}

// Adds the line for one setting: the given value, else the chosen one (when
// there is a budget), else the default.
template <class T>
void settle(std::vector<RecipeLine>& lines, const char* name, T& value, const std::optional<T>& given,
            bool choose, T chosen, const std::string& why_chosen, const std::string& why_default) {
  std::string origin = "default", reason = why_default;
  if (given) {
    value = *given, origin = "given", reason = "on the command line";
  } else if (choose) {
    value = chosen, origin = "chosen", reason = why_chosen;
  }
  lines.push_back({name, fmt::format("{}", value), origin, reason});
}

}  // namespace

double post_norm_peak_cap(const ModelConfig& model) {
  const std::int64_t layers = std::max(model.encoder_layers, model.decoder_layers);
  if (model.pre_norm || layers < 3) return 0;
  return layers == 3 ? kThreeLayerPostNormPeak : kDeepPostNormPeak;
}

SchedulePlan plan_schedule(const GivenSchedule& given, std::int64_t budget_updates, std::int64_t averaged,
                           const ModelConfig& model) {
  if (averaged < 1) throw UsageError("--keep-last must be at least 1");
  SchedulePlan plan;
  Schedule& s = plan.schedule;
  const bool budget = budget_updates > 0;
  const auto u = static_cast<double>(budget_updates);
  auto& lines = plan.lines;

  const double scale = given.lr_scale.value_or(1.0);
  std::int64_t warmup = std::clamp<std::int64_t>(std::llround(u / 4), 400, 4000);
  std::string why_warmup = fmt::format("a quarter of the {} updates the budget holds, 400 to 4000", budget_updates);
  const double peak_cap = post_norm_peak_cap(model);
  if (peak_cap > 0) {
    // peak = scale d^-0.5 w^-0.5 <= peak_cap  <=>  w >= scale^2 / (d peak_cap^2)
    const auto floor = static_cast<std::int64_t>(
        std::ceil(scale * scale / (static_cast<double>(model.d_model) * peak_cap * peak_cap)));
    if (warmup < floor) {
      warmup = floor;
      why_warmup += fmt::format(", raised to {} for a peak rate of at most {:g}: post-norm {} + {} layers stall at "
                                "higher peaks",
                                floor, peak_cap, model.encoder_layers, model.decoder_layers);
    }
  }
  settle(lines, "warmup", s.warmup, given.warmup, budget, warmup, why_warmup, "the paper's (no budget to plan from)");
  // The peak rate follows from the warm-up; at least 400 keeps it below
  // the rates at which the tiny model trained worse.
  settle(lines, "lr-scale", s.lr_scale, given.lr_scale, false, 1.0, "",
         "the paper's formula: the peak d_model^-0.5 warmup^-0.5 follows from the warm-up");
  s.lr_schedule = given.lr_schedule.value_or(LrSchedule::kInverseSqrt);
  lines.push_back({"lr-schedule", lr_schedule_name(s.lr_schedule), given.lr_schedule ? "given" : "default",
                   given.lr_schedule ? "on the command line" : "the paper's: the rate falls as step^-0.5"});
  s.updates = budget_updates;

  const bool choose_saving = budget && !given.save_every && !given.save_every_minutes;
  const double span = u / 4;
  settle(lines, "save-every", s.save_every, given.save_every, choose_saving,
         at_least_one(averaged > 1 ? span / static_cast<double>(averaged - 1) : span),
         fmt::format("the last {} checkpoints span the last quarter of training", averaged), "off");
  settle(lines, "save-every-minutes", s.save_every_minutes, given.save_every_minutes, choose_saving, 0.0,
         "checkpoints are spaced in updates", "the paper's");

  settle(lines, "valid-every", s.valid_every, given.valid_every, budget, at_least_one(u / 12),
         "a dozen validations over the budget", "every 1000 updates");
  return plan;
}

RdropPlan plan_rdrop(float weight, double min_epochs, std::int64_t budget_updates, std::int64_t per_epoch) {
  const double epochs = budget_epochs(budget_updates, per_epoch);
  const bool enough = epochs >= min_epochs;
  RdropPlan plan;
  plan.weight = enough ? weight : 0.0f;
  plan.line = {"rdrop", fmt::format("{:g}", plan.weight), "chosen",
               fmt::format("the {} updates the budget holds with R-Drop make {:.1f} epochs of {} updates, {} {:g} "
                           "(--rdrop-min-epochs): {}",
                           budget_updates, epochs, per_epoch, enough ? "at least" : "below", min_epochs,
                           enough ? "two dropout masks an update" : "without R-Drop, twice the updates")};
  return plan;
}

DropoutPlan plan_dropout(float dropout, double min_epochs, std::int64_t budget_updates, std::int64_t per_epoch) {
  const double epochs = budget_epochs(budget_updates, per_epoch);
  const bool enough = epochs >= min_epochs;
  DropoutPlan plan;
  plan.dropout = enough ? dropout : std::min(dropout, kShortBudgetDropout);
  plan.line = {"dropout", fmt::format("{:g}", plan.dropout), "chosen",
               fmt::format("the {} updates the budget holds make {:.1f} epochs of {} updates, {} {:g} "
                           "(--dropout-min-epochs): {}",
                           budget_updates, epochs, per_epoch, enough ? "at least" : "below", min_epochs,
                           enough ? fmt::format("--dropout {:g}", dropout)
                                  : fmt::format("at most {:g}: so few passes underfit more than they overfit",
                                                kShortBudgetDropout))};
  return plan;
}

std::int64_t updates_in_time(std::int64_t done, double elapsed, std::int64_t measured, double measured_seconds,
                             double max_time) {
  if (measured < 1 || measured_seconds <= 0) return done;
  double rate = static_cast<double>(measured) / measured_seconds;
  return done + std::max<std::int64_t>(0, std::llround(std::max(0.0, max_time - elapsed) * rate));
}

void save_recipe(const std::string& path, const std::vector<RecipeLine>& lines) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp);
    out << "setting\tvalue\torigin\treason\n";
    for (const auto& l : lines) out << l.name << '\t' << l.value << '\t' << l.origin << '\t' << l.reason << '\n';
    out.flush();
    if (!out) throw IoError(temp, "cannot write", errno);
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) throw IoError(path, "cannot rename the recipe into place", ec.value());
}

Schedule load_recipe(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path, "cannot open", errno);
  Schedule s;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    if (++number == 1) continue;  // header
    std::istringstream fields(line);
    std::string name, value;
    if (!std::getline(fields, name, '\t') || !std::getline(fields, value, '\t'))
      throw InputError(path, number, "expected setting<TAB>value<TAB>origin<TAB>reason");
    if (name == "lr-schedule") {
      try {
        s.lr_schedule = parse_lr_schedule(value);
      } catch (const UsageError&) {
        throw InputError(path, number, "lr-schedule '" + value + "' is neither inverse-sqrt nor linear");
      }
      continue;
    }
    double x = 0;
    try {
      std::size_t used = 0;
      x = std::stod(value, &used);
      if (used != value.size()) throw std::invalid_argument(value);
    } catch (const std::exception&) {
      throw InputError(path, number, "'" + value + "' is not a number");
    }
    if (name == "updates") s.updates = std::llround(x);
    else if (name == "warmup") s.warmup = std::llround(x);
    else if (name == "lr-scale") s.lr_scale = x;
    else if (name == "save-every") s.save_every = std::llround(x);
    else if (name == "save-every-minutes") s.save_every_minutes = x;
    else if (name == "valid-every") s.valid_every = std::llround(x);
    else if (name == "rdrop") s.rdrop = x;
    else if (name == "dropout") s.dropout = x;
  }
  return s;
}

}  // namespace tfm
