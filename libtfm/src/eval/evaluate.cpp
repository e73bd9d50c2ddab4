#include "tfm/eval/evaluate.h"

#include <algorithm>
#include <tuple>
#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/utf8.h"
#include "tfm/eval/report.h"

namespace tfm {
namespace {

// Calls add(line) for each universal-newline line of `path`.
template <typename Add>
void for_each_line(const std::string& path, Add add) {
  LineReader reader(path);
  std::string_view line;
  while (reader.next(line)) {
    if (const std::size_t bad = find_invalid_utf8(line); bad != std::string_view::npos)
      throw InputError(display_name(path), reader.line_number(),
                       fmt::format("invalid UTF-8 at byte {}", bad + 1));
    if (line.ends_with('\r')) line.remove_suffix(1);
    std::size_t start = 0, cr;
    while ((cr = line.find('\r', start)) != std::string_view::npos) {
      add(line.substr(start, cr - start), reader.line_number());
      start = cr + 1;
    }
    add(line.substr(start), reader.line_number());
  }
}

std::vector<std::string_view> split_tabs(std::string_view line, std::size_t max_fields) {
  std::vector<std::string_view> fields;
  std::size_t start = 0, tab;
  while (fields.size() + 1 < max_fields && (tab = line.find('\t', start)) != std::string_view::npos) {
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
  fields.push_back(line.substr(start));
  return fields;
}

}  // namespace

Lines read_segments(const std::string& path) {
  Lines lines;
  for_each_line(path, [&](std::string_view line, std::size_t) { lines.emplace_back(python_rstrip(line)); });
  return lines;
}

RefSets read_references(const std::vector<std::string>& paths, int num_refs) {
  if (num_refs <= 1) {
    RefSets refs;
    for (const auto& path : paths) refs.push_back(read_segments(path));
    return refs;
  }
  if (paths.size() != 1)
    throw UsageError("--num-refs takes tab-separated references from a single file");
  RefSets refs(static_cast<std::size_t>(num_refs));
  for_each_line(paths[0], [&](std::string_view line, std::size_t number) {
    const auto fields = split_tabs(python_rstrip(line), std::size_t(num_refs));
    if (fields.size() != std::size_t(num_refs))
      throw InputError(display_name(paths[0]), number,
                       fmt::format("expected {} tab-separated references, found {}", num_refs, fields.size()));
    for (std::size_t r = 0; r < fields.size(); ++r) refs[r].emplace_back(fields[r]);
  });
  return refs;
}

std::vector<Lines> read_tab_systems(const std::string& path) {
  std::vector<Lines> systems;
  for_each_line(path, [&](std::string_view line, std::size_t number) {
    const auto fields = split_tabs(python_rstrip(line), std::string_view::npos);
    if (systems.empty()) systems.resize(fields.size());
    if (fields.size() != systems.size())
      throw InputError(display_name(path), number,
                       fmt::format("{} tab-separated systems, but the first line has {}", fields.size(),
                                   systems.size()));
    for (std::size_t s = 0; s < fields.size(); ++s) systems[s].emplace_back(python_rstrip(fields[s]));
  });
  return systems;
}

Systems read_systems(const std::vector<std::string>& inputs, bool paired) {
  Systems systems;
  if (inputs.empty()) {
    systems.hyps = read_tab_systems("-");
    for (std::size_t i = 0; i < systems.hyps.size(); ++i) {
      systems.names.push_back(paired ? (i == 0 ? "Baseline" : fmt::format("System {}", i)) : fmt::format("System {}", i + 1));
      systems.paths.push_back("-");
    }
    return systems;
  }
  for (const auto& path : inputs) {
    if (std::find(systems.paths.begin(), systems.paths.end(), path) != systems.paths.end()) {
      if (paired && path == systems.paths[0]) continue;  // the baseline again
      throw Error(fmt::format("'{}' already used to name a system", path));
    }
    systems.hyps.push_back(read_segments(path));
    systems.names.push_back(path);
    systems.paths.push_back(path);
  }
  if (paired) systems.names[0] = "Baseline: " + systems.names[0];
  return systems;
}

void check_line_counts(const Lines& hyps, const std::string& hyp_name, const RefSets& refs,
                       const std::vector<std::string>& ref_names) {
  for (std::size_t r = 0; r < refs.size(); ++r)
    if (refs[r].size() != hyps.size())
      throw InputError(display_name(hyp_name), 0,
                       fmt::format("has {} lines but reference {} has {}", hyps.size(),
                                   r < ref_names.size() ? display_name(ref_names[r]) : std::to_string(r + 1),
                                   refs[r].size()));
}

std::vector<std::unique_ptr<Metric>> make_metrics(const EvalOptions& options, const RefSets& refs, bool sorted) {
  std::vector<std::unique_ptr<Metric>> metrics;
  for (const auto& name : options.metrics) {
    std::unique_ptr<Metric> metric;
    if (name == "bleu") metric = std::make_unique<Bleu>(options.bleu, refs);
    else if (name == "chrf") metric = std::make_unique<Chrf>(options.chrf, refs);
    else if (name == "ter") metric = std::make_unique<Ter>(options.ter, refs);
    else throw UsageError(fmt::format("unknown metric '{}' (bleu, chrf or ter)", name));
    // sacrebleu keeps one metric per name: a repeated name counts once.
    const auto same = [&](const auto& m) { return m->id() == metric->id(); };
    if (std::none_of(metrics.begin(), metrics.end(), same)) metrics.push_back(std::move(metric));
  }
  if (sorted)
    std::sort(metrics.begin(), metrics.end(), [](const auto& a, const auto& b) { return a->id() < b->id(); });
  return metrics;
}

namespace {

void warn_if_tokenized(const Metric& metric, const Lines& hyps, const EvalOptions& options, EvalOutput& output) {
  if (metric.id() != "BLEU" || options.force || count_tokenized_periods(hyps) < 100) return;
  output.warnings.push_back("That's 100 lines that end in a tokenized period ('.')");
  output.warnings.push_back("It looks like you forgot to detokenize your test data, which may hurt your score.");
  output.warnings.push_back(
      "If you insist your data is detokenized, or don't care, you can suppress this message with --force.");
}

}  // namespace

EvalOutput evaluate_systems(const std::vector<Lines>& systems, const std::vector<std::string>& names,
                            const RefSets& refs, const EvalOptions& options) {
  if (options.confidence) throw UsageError("use paired tests (--paired-bs, --paired-ar) for several systems");
  EvalOutput output;
  // sacrebleu orders the metrics by name, but as given for a paired test.
  const auto metrics = make_metrics(options, refs, !options.paired);
  std::vector<std::string> metric_names;
  for (const auto& metric : metrics) metric_names.push_back(metric->score_from_stats(std::vector<double>(metric->stats_size()).data()).name);
  for (const auto& hyps : systems)
    for (const auto& metric : metrics) warn_if_tokenized(*metric, hyps, options, output);
  SystemsTextInfo info{{}, options.paired, 0, options.width};
  std::vector<std::vector<PairedResult>> results;
  if (!options.paired) {
    std::vector<std::vector<std::string>> cells;
    for (const auto& hyps : systems) {
      cells.emplace_back();
      results.emplace_back();
      for (const auto& metric : metrics) {
        results.back().push_back({metric->corpus_score(hyps).score, {}, {}, {}});
        cells.back().push_back(format_fixed(results.back().back().score, options.width));
      }
    }
    if (options.json) output.text = format_systems_json(names, metric_names, cells);
  } else {
    const bool bootstrap = *options.paired == PairedTestKind::kBootstrap;
    info.samples = bootstrap ? options.paired_bs_n : options.paired_ar_n;
    std::vector<const Metric*> pointers;
    for (const auto& metric : metrics) pointers.push_back(metric.get());
    results = paired_test(systems, pointers, {*options.paired, info.samples, options.seed});
    if (options.json) output.text = format_paired_json(names, metric_names, results);
  }
  if (options.json) return output;
  for (const auto& metric : metrics) {
    Signature signature = metric->signature();
    if (options.paired) {
      signature.set("seed", "rs", options.seed ? std::to_string(*options.seed) : "none");
      if (*options.paired == PairedTestKind::kBootstrap) signature.set("bs", "bs", std::to_string(info.samples));
      else signature.set("ar", "ar", std::to_string(info.samples));
    }
    info.signatures.push_back(signature.format(options.short_signature));
  }
  output.text = format_systems_text(names, metric_names, results, info);
  return output;
}

EvalOutput evaluate_system(const Lines& hyps, const RefSets& refs, const EvalOptions& options) {
  EvalOutput output;
  const auto metrics = make_metrics(options, refs);
  if (options.sentence_level) {
    if (options.confidence) throw UsageError("statistical tests are unavailable in sentence-level mode");
    if (metrics.size() != 1) throw UsageError("only one metric can be used in sentence-level mode");
    const std::string sig = metrics[0]->signature().format(options.short_signature);
    for (const Score& score : metrics[0]->sentence_scores(hyps))
      output.text += format_score(score, options.width, options.score_only, sig, false) + "\n";
    return output;
  }
  std::vector<std::string> results;
  for (const auto& metric : metrics) {
    warn_if_tokenized(*metric, hyps, options, output);
    Signature signature = metric->signature();
    const std::vector<double> stats = metric->segment_stats(hyps);
    Score score = metric->score_from_stats(metric->sum_stats(stats).data());
    if (options.confidence) {
      std::tie(score.mean, score.ci) = bootstrap_confidence(*metric, stats, options.confidence_n, options.seed);
      signature.set("bs", "bs", std::to_string(options.confidence_n));
      signature.set("seed", "rs", options.seed ? std::to_string(*options.seed) : "none");
    }
    const std::string sig = signature.format(options.short_signature && !options.json);
    results.push_back(format_score(score, options.width, options.score_only, sig, options.json));
  }
  output.text = join_results(std::move(results), options.json, options.color);
  return output;
}

}  // namespace tfm
