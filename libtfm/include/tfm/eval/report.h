// sacrebleu 2.x's output formats, byte for byte: a score as JSON (indent 1,
// keys in sacrebleu's order, the score rounded to `width` decimals and
// printed as Python prints a float) or as a text line, and the way several
// metrics' results are joined (a JSON list, or text lines aligned on '=').
#pragma once

#include <string>
#include <vector>

#include "tfm/eval/metric.h"
#include "tfm/eval/significance.h"

namespace tfm {

// Python's repr() of a float: the shortest string that reads back the same,
// "1.0" not "1", exponent form below 1e-4 and from 1e16 ("1e-05", "1e+16").
std::string python_float_repr(double value);

// JSON string literal as Python's json.dumps writes it (with ensure_ascii,
// non-ASCII characters as \uXXXX escapes, surrogate pairs above U+FFFF).
std::string json_quote(const std::string& text, bool ensure_ascii = false);

// sacrebleu's Score.format: the score alone when `score_only`, else JSON when
// `json`, else "NAME|signature = score verbose". `signature` is the formatted
// signature (long form for JSON). Adds μ ± CI when score.mean > 0.
std::string format_score(const Score& score, int width, bool score_only,
                         const std::string& signature, bool json);

// sacrebleu's print_single_results: joins the formatted results of several
// metrics (a JSON list, or text lines right-aligned on their first '='); the
// result ends with a newline. `color` puts the confidence part in cyan.
std::string join_results(std::vector<std::string> results, bool json, bool color);

// sacrebleu's multi-system JSON (json.dumps(..., indent=4)): per system its
// name and, per metric name, the score formatted to the width (`cells`,
// [system][metric]) ...
std::string format_systems_json(const std::vector<std::string>& names,
                                const std::vector<std::string>& metric_names,
                                const std::vector<std::vector<std::string>>& cells);
// ... or, after a paired test, an object with score, p_value, mean and ci
// (full precision; null where unset).
std::string format_paired_json(const std::vector<std::string>& names,
                               const std::vector<std::string>& metric_names,
                               const std::vector<std::vector<PairedResult>>& results);

// What the multi-system text report needs besides the scores.
struct SystemsTextInfo {
  std::vector<std::string> signatures;  // one per metric, as printed
  std::optional<PairedTestKind> paired;
  std::size_t samples = 0;  // resamples or trials of the paired test
  int width = 1;
};

// sacrebleu's multi-system text report: a tabulate "fancy_grid" table (system
// names right-aligned, scores centred; paired results add the mean ± CI and a
// p-value line, "*" when p <= 0.05), the paired test's explanation and the
// metric signatures. Without colours (sacrebleu's vanish in a pipe too).
std::string format_systems_text(const std::vector<std::string>& names,
                                const std::vector<std::string>& metric_names,
                                const std::vector<std::vector<PairedResult>>& results,
                                const SystemsTextInfo& info);

}  // namespace tfm
