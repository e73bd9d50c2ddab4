// tfm-bpe: byte pair encoding as subword-nmt 0.3.8 does it, same flags and
// byte-identical output. One executable, four subcommands:
//   tfm-bpe learn [-s N] [-i FILE...] [-o CODES] [--write-vocabulary VOCAB...]
//   tfm-bpe apply -c CODES [options] < tokenized > segmented
//   tfm-bpe vocab < text > vocabulary
//   tfm-bpe undo < segmented > tokenized
#include <algorithm>
#include <iostream>
#include <optional>
#include <random>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/parallel.h"
#include "tfm/core/utf8.h"
#include "tfm/text/bpe_apply.h"
#include "tfm/text/bpe_learn.h"

namespace {

using namespace tfm;

struct Options {
  std::vector<std::string> inputs{"-"}, vocab_outputs;
  std::string output = "-", codes, vocabulary, separator = "@@";
  BpeLearnConfig learn;
  BpeApplyConfig apply;
  bool dict_input = false, verbose = false, unbuffered = false;
  long merges = -1, vocabulary_threshold = -1;
  int threads = 1;
  std::optional<std::uint64_t> seed;
};

struct Subcommand {
  const char* name;
  const char* synopsis;
  const char* summary;
  void (*declare)(po::options_description&, Options&);
  void (*run)(Options&);
};

// learn and vocab count words on all cores by default (the counts do not
// depend on it); apply uses one thread unless told.
void declare_common(po::options_description& d, Options& o, bool many_inputs, bool all_cores) {
  auto* inputs = po::value(&o.inputs)->value_name("FILE");
  if (all_cores) o.threads = 0;
  d.add_options()("input,i", many_inputs ? inputs->multitoken() : inputs, "input text (default: stdin)")(
      "output,o", po::value(&o.output)->value_name("FILE"), "output file (default: stdout)")(
      "threads", po::value(&o.threads)->value_name("N"),
      all_cores ? "threads (default 0: all cores)" : "threads (default 1; 0 or -1: all cores)")(
      "num-workers", po::value(&o.threads)->value_name("N"), "same as --threads (subword-nmt's name)");
}

void declare_learn(po::options_description& d, Options& o) {
  declare_common(d, o, true, true);
  d.add_options()("symbols,s", po::value(&o.learn.symbols)->default_value(o.learn.symbols)->value_name("N"), "merges to learn")(
      "min-frequency", po::value(&o.learn.min_frequency)->default_value(2)->value_name("FREQ"),
      "stop when no pair occurs FREQ times")("dict-input", po::bool_switch(&o.dict_input),
                                             "input is 'word count' lines")(
      "total-symbols,t", po::bool_switch(&o.learn.total_symbols), "subtract the number of characters from -s")(
      "write-vocabulary", po::value(&o.vocab_outputs)->multitoken()->value_name("FILE"),
      "per input, write the vocabulary of its segmented text")(
      "separator", po::value(&o.separator)->default_value("@@")->value_name("STR"), "separator for the vocabularies")(
      "verbose,v", po::bool_switch(&o.verbose), "print each merge on stderr")(
      "progress", po::bool_switch(&o.learn.progress), "show progress even when stderr is not a terminal");
}

void declare_apply(po::options_description& d, Options& o) {
  declare_common(d, o, false, false);
  d.add_options()("codes,c", po::value(&o.codes)->required()->value_name("FILE"), "BPE codes (from learn)")(
      "merges,m", po::value(&o.merges)->value_name("N"), "use only the first N merges (default: all)")(
      "separator,s", po::value(&o.apply.separator)->default_value("@@")->value_name("STR"),
      "appended to non-final units")("vocabulary", po::value(&o.vocabulary)->value_name("FILE"),
                                     "undo merges that produce units not in this vocabulary")(
      "vocabulary-threshold", po::value(&o.vocabulary_threshold)->value_name("N"),
      "units rarer than N count as out of vocabulary")(
      "glossaries", po::value(&o.apply.glossaries)->multitoken()->value_name("WORD"),
      "words or regexes never split")("dropout", po::value(&o.apply.dropout)->default_value(0.0)->value_name("P"),
                                      "BPE-dropout: skip each merge with probability P")(
      "seed", po::value<std::uint64_t>()->notifier([&o](std::uint64_t s) { o.seed = s; })->value_name("S"),
      "random seed for --dropout")("unbuffered,b", po::bool_switch(&o.unbuffered), "flush every line");
}

void declare_vocab(po::options_description& d, Options& o) { declare_common(d, o, false, true); }

void declare_undo(po::options_description& d, Options& o) {
  d.add_options()("input,i", po::value(&o.inputs)->value_name("FILE"), "input text (default: stdin)")(
      "output,o", po::value(&o.output)->value_name("FILE"), "output file (default: stdout)")(
      "separator,s", po::value(&o.separator)->default_value("@@")->value_name("STR"), "separator to remove")(
      "unbuffered,b", po::bool_switch(&o.unbuffered), "flush every line");
}

// subword-nmt leaves a last line without '\n' without one.
bool keep_missing_newline(std::string_view) { return false; }

int thread_count(int threads) { return threads > 0 ? threads : available_threads(); }

void write_file(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  file.write(text);
  file.commit();
}

// Runs a line filter from `input` into `path` (atomically; "-": stdout).
void filter_to(const std::string& path, const std::string& input, const LineFilterOptions& options,
               const LineTransform& transform) {
  LineReader reader(input);
  AtomicFile file(path);
  filter_lines(reader, file, options, transform);
  file.commit();
}

void run_learn(Options& o) {
  if (o.learn.min_frequency < 1) throw UsageError("--min-frequency must be at least 1");
  if (!o.vocab_outputs.empty() && o.vocab_outputs.size() != o.inputs.size())
    throw UsageError("--write-vocabulary needs one file per --input file");
  if (!o.vocab_outputs.empty() && std::count(o.inputs.begin(), o.inputs.end(), "-"))
    throw UsageError("--write-vocabulary reads its inputs twice: give files, not stdin");
  WordCounts counts;
  for (const auto& input : o.inputs)
    counts.merge(o.dict_input ? read_word_counts(input) : count_words(input, thread_count(o.threads)));
  const auto verbose = [](long i, const std::string& l, const std::string& r, std::int64_t f) {
    std::cerr << "pair " << i << ": " << l << ' ' << r << " -> " << l << r << " (frequency " << f << ")\n";
  };
  const BpeLearnResult result = learn_bpe(counts, o.learn, o.verbose ? MergeObserver(verbose) : nullptr);
  if (o.learn.total_symbols)
    note("reduced the number of merges by " + std::to_string(result.internal_chars + result.final_chars) + " (" +
         std::to_string(result.internal_chars) + " word-internal, " + std::to_string(result.final_chars) +
         " word-final characters)");
  if (result.stopped_early)
    note("no pair has frequency >= " + std::to_string(o.learn.min_frequency) + "; stopping after " +
         std::to_string(result.merges.size()) + " merges");
  std::string codes(kBpeCodesHeader);
  for (const auto& merge : result.merges) codes += format_merge(merge);
  // The codes appear last: a vocabulary that cannot be written never leaves
  // codes behind that look like a finished run.
  AtomicFile codes_file(o.output);
  codes_file.write(codes);
  if (!o.vocab_outputs.empty()) {
    const BpeApplier applier(BpeCodes{2, result.merges}, BpeApplyConfig{o.separator, {}, 0, 0, false});
    for (std::size_t f = 0; f < o.vocab_outputs.size(); ++f)
      write_file(o.vocab_outputs[f], format_vocabulary(count_segmented_words(applier, o.inputs[f])));
  }
  codes_file.commit();
}

void run_apply(Options& o) {
  if (o.apply.separator.empty()) throw UsageError("--separator must not be empty");
  o.apply.seed = o.seed ? *o.seed : std::random_device{}();
  o.apply.concurrent = thread_count(o.threads) > 1;
  const BpeApplier applier(read_bpe_codes(o.codes, o.merges), o.apply,
                           o.vocabulary.empty() ? std::unordered_set<std::string>{}
                                                : read_bpe_vocabulary(o.vocabulary, o.vocabulary_threshold));
  const std::string name = display_name(o.inputs.at(0));
  filter_to(o.output, o.inputs.at(0), {thread_count(o.threads), 4096, o.unbuffered, keep_missing_newline},
            [&](std::string_view line, std::size_t number, std::string& out) {
              if (!is_valid_utf8(line)) throw InputError(name, number, "invalid UTF-8");
              try {
                applier.apply_line(line, number, out);
              } catch (const Error& e) {  // a glossary that gave up on this line
                throw InputError(name, number, e.what());
              }
            });
}

void run_vocab(Options& o) {
  write_file(o.output, format_vocabulary(count_words(o.inputs.at(0), thread_count(o.threads))));
}

void run_undo(Options& o) {
  if (o.separator.empty()) throw UsageError("--separator must not be empty");
  filter_to(o.output, o.inputs.at(0), {1, 4096, o.unbuffered, keep_missing_newline},
            [&](std::string_view line, std::size_t, std::string& out) { undo_bpe(line, o.separator, out); });
}

const Subcommand kSubcommands[] = {
    {"learn", "[options] [-i FILE...] > codes", "Learns BPE merges (subword-nmt learn-bpe, learn-joint-bpe-and-vocab).",
     declare_learn, run_learn},
    {"apply", "-c CODES [options] < tokenized > segmented", "Segments text with BPE codes (subword-nmt apply-bpe).",
     declare_apply, run_apply},
    {"vocab", "[options] < text > vocabulary", "Writes 'word count' lines by frequency (subword-nmt get-vocab).",
     declare_vocab, run_vocab},
    {"undo", "[options] < segmented > tokenized", "Joins BPE units back into words (sed -E 's/(@@ )|(@@ ?$)//g').",
     declare_undo, run_undo},
};

void print_overview() {
  std::cout << "Usage: tfm-bpe learn|apply|vocab|undo [options]\n\n"
               "Byte pair encoding, identical to subword-nmt 0.3.8. 'tfm-bpe SUBCOMMAND --help' shows one.\n";
  for (const auto& sub : kSubcommands) {
    Options o;
    po::options_description d(std::string("Options of tfm-bpe ") + sub.name);
    sub.declare(d, o);
    std::cout << "\ntfm-bpe " << sub.name << ' ' << sub.synopsis << "\n  " << sub.summary << "\n" << d;
  }
  std::cout << "\n  -h [ --help ]         print this help and exit\n  --version             print the version and exit\n";
}

int run(int argc, char** argv) {
  const std::string first = argc > 1 ? argv[1] : "";
  if (first == "-h" || first == "--help") return print_overview(), 0;
  if (first == "--version") return std::cout << "tfm-bpe (tfm) " << TFM_VERSION << '\n', 0;
  for (const auto& sub : kSubcommands) {
    if (first != sub.name) continue;
    Options o;
    po::options_description d("Options");
    sub.declare(d, o);
    po::variables_map vm;
    if (!parse_command_line({std::string("tfm-bpe ") + sub.name, sub.synopsis, sub.summary}, d, argc - 1, argv + 1, vm))
      return 0;
    sub.run(o);
    return 0;
  }
  throw UsageError(first.empty() ? "missing subcommand: learn, apply, vocab or undo (try 'tfm-bpe --help')"
                                 : "unknown subcommand '" + first + "' (try 'tfm-bpe --help')");
}

}  // namespace

int main(int argc, char** argv) { return tfm::run_tool("bpe", argc, argv, run); }
