// sacrebleu's command-line behaviour as a library: reading hypotheses and
// references the way sacrebleu reads them, scoring one or several metrics,
// sentence by sentence or per corpus, and rendering the result as sacrebleu
// prints it. tools/tfm-bleu.cpp is a thin wrapper over this.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tfm/eval/bleu.h"
#include "tfm/eval/chrf.h"
#include "tfm/eval/significance.h"
#include "tfm/eval/ter.h"

namespace tfm {

// Segments of a text file ("-" = stdin) as sacrebleu reads them: universal
// newlines (\n, \r\n and a lone \r end a line) and trailing whitespace
// stripped. Throws IoError if unreadable, InputError (file:line) on invalid UTF-8.
Lines read_segments(const std::string& path);

// Reference sets: one per file, or, with num_refs > 1, that many tab-separated
// fields per line of a single file (InputError if a line has another count).
RefSets read_references(const std::vector<std::string>& paths, int num_refs);

// Systems given as tab-separated columns of one stream (sacrebleu's stdin
// mode): the first line decides how many; InputError if a line differs.
std::vector<Lines> read_tab_systems(const std::string& path);

// Hypothesis systems and the names sacrebleu gives them: one per file of
// `inputs` (named by path), or tab-separated columns of stdin when `inputs` is
// empty ("System 1", ...). With `paired`, the first is the baseline ("Baseline"
// or "Baseline: path") and a later copy of its file is skipped. Throws Error
// when two files share a name.
struct Systems {
  std::vector<Lines> hyps;
  std::vector<std::string> names, paths;  // paths: "-" for stdin
};
Systems read_systems(const std::vector<std::string>& inputs, bool paired);

// Throws InputError naming both files and their line counts unless every
// reference set has as many lines as `hyps`.
void check_line_counts(const Lines& hyps, const std::string& hyp_name, const RefSets& refs,
                       const std::vector<std::string>& ref_names);

struct EvalOptions {
  std::vector<std::string> metrics = {"bleu"};  // bleu, chrf, ter
  BleuConfig bleu;
  bool force = false;  // no warning when BLEU's input looks tokenized
  ChrfConfig chrf;
  TerConfig ter;
  bool sentence_level = false;
  int width = 1;
  bool score_only = false;
  bool short_signature = false;
  bool json = true;
  bool color = false;  // terminal colours in text output
  // Several systems: compare each with the first one (none, or one of these).
  std::optional<PairedTestKind> paired;
  std::size_t paired_bs_n = 1000, paired_ar_n = 10000;
  std::optional<std::uint64_t> seed = 12345;  // $SACREBLEU_SEED in sacrebleu
  // One system: bootstrap confidence intervals with this many resamples.
  bool confidence = false;
  std::size_t confidence_n = 1000;
};

// The metrics of `options` (a repeated name counts once), sorted by id (BLEU,
// CHRF, TER) as sacrebleu prints one system's scores, or in the order given,
// as it prints several systems'. Throws UsageError for an unknown name.
std::vector<std::unique_ptr<Metric>> make_metrics(const EvalOptions& options, const RefSets& refs,
                                                  bool sorted = true);

// What a run prints: `text` on stdout, `warnings` on stderr.
struct EvalOutput {
  std::string text;
  std::vector<std::string> warnings;
};

// One system: corpus scores of every metric (or, with sentence_level, one
// line per segment for the single metric).
EvalOutput evaluate_system(const Lines& hyps, const RefSets& refs, const EvalOptions& options);

// Several systems (names as sacrebleu shows them, the baseline first when
// options.paired): each system's scores, or the paired test's results, as
// sacrebleu's JSON list or text table. UsageError with options.confidence.
EvalOutput evaluate_systems(const std::vector<Lines>& systems, const std::vector<std::string>& names,
                            const RefSets& refs, const EvalOptions& options);

}  // namespace tfm
