// tfm-bleu: sacrebleu-compatible BLEU, chrF and TER of hypotheses against
// references, with the same flags and byte-identical output as sacrebleu 2.x.
//
//   tfm-bleu [options] REF... [-i HYP...] < HYP
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/eval/evaluate.h"

namespace {

using namespace tfm;

struct Options {
  std::vector<std::string> refs, inputs;
  int num_refs = 1;
  std::string encoding = "utf-8", smooth = "exp", tokenize, format = "json", langpair;
  std::vector<std::string> metrics = {"bleu"};
  double smooth_value = -1;
  bool quiet = false, no_color = false, paired_bs = false, paired_ar = false;
  int paired_jobs = 1;
  EvalOptions eval;
};

// sacrebleu's single-dash long flags, rewritten before parsing.
const std::map<std::string, std::string> kAliases = {
    {"-tok", "--tokenize"},      {"-lc", "--lowercase"},        {"-sv", "--smooth-value"},
    {"-nr", "--num-refs"},       {"-sl", "--sentence-level"},   {"-cc", "--chrf-char-order"},
    {"-cw", "--chrf-word-order"}, {"-sh", "--short"},           {"-nc", "--no-color"},
    {"-V", "--version"},         {"-pbs", "--paired-bs"},       {"-par", "--paired-ar"},
    {"-pbsn", "--paired-bs-n"},  {"-parn", "--paired-ar-n"},   {"-ci", "--confidence"},
    {"-cin", "--confidence-n"}};

po::options_description describe(Options& o) {
  po::options_description d("Options");
  auto& e = o.eval;
  d.add_options()
      ("input,i", po::value(&o.inputs)->multitoken(), "hypotheses from these files instead of standard input")
      ("refs,r", po::value(&o.refs)->multitoken(), "reference files (also accepted as arguments)")
      ("num-refs", po::value(&o.num_refs)->default_value(1), "split each reference line on tabs into this many references (-nr)")
      ("encoding,e", po::value(&o.encoding)->default_value(o.encoding), "input encoding (only utf-8)")
      ("metrics,m", po::value(&o.metrics)->multitoken(), "metrics: bleu, chrf, ter (default bleu)")
      ("sentence-level", po::bool_switch(&e.sentence_level), "one score per line (-sl)")
      ("smooth-method,s", po::value(&o.smooth)->default_value(o.smooth), "BLEU smoothing: exp, floor, add-k, none")
      ("smooth-value", po::value(&o.smooth_value), "floor/add-k value (defaults 0.1, 1) (-sv)")
      ("tokenize", po::value(&o.tokenize), "BLEU tokenizer: 13a (default), intl, zh, char, none (-tok)")
      ("lowercase", po::bool_switch(&e.bleu.lowercase), "case-insensitive BLEU (-lc)")
      ("force", po::bool_switch(&e.force), "no warning when the input looks tokenized")
      ("language-pair,l", po::value(&o.langpair), "SRC-TGT: target zh selects the zh tokenizer")
      ("chrf-char-order", po::value(&e.chrf.char_order)->default_value(e.chrf.char_order), "chrF character n-gram order (-cc)")
      ("chrf-word-order", po::value(&e.chrf.word_order)->default_value(e.chrf.word_order), "chrF word n-gram order; 2 = chrF++ (-cw)")
      ("chrf-beta", po::value(&e.chrf.beta)->default_value(e.chrf.beta), "chrF recall weight")
      ("chrf-whitespace", po::bool_switch(&e.chrf.whitespace), "keep whitespace in character n-grams")
      ("chrf-lowercase", po::bool_switch(&e.chrf.lowercase), "case-insensitive chrF")
      ("chrf-eps-smoothing", po::bool_switch(&e.chrf.eps_smoothing), "epsilon smoothing (chrF++.py, NLTK, Moses)")
      ("ter-case-sensitive", po::bool_switch(&e.ter.case_sensitive), "case-sensitive TER")
      ("ter-asian-support", po::bool_switch(&e.ter.asian_support), "split CJK characters (with --ter-normalized)")
      ("ter-no-punct", po::bool_switch(&e.ter.no_punct), "remove punctuation for TER")
      ("ter-normalized", po::bool_switch(&e.ter.normalized), "tercom normalization and tokenization")
      ("confidence", po::bool_switch(&e.confidence), "bootstrap 95% confidence interval of one system's score (-ci)")
      ("confidence-n", po::value(&e.confidence_n)->default_value(e.confidence_n), "bootstrap resamples for --confidence (-cin)")
      ("paired-bs", po::bool_switch(&o.paired_bs), "paired bootstrap resampling test against the first -i system (-pbs)")
      ("paired-ar", po::bool_switch(&o.paired_ar), "paired approximate randomization test (-par)")
      ("paired-bs-n", po::value(&e.paired_bs_n)->default_value(e.paired_bs_n), "bootstrap resamples (-pbsn)")
      ("paired-ar-n", po::value(&e.paired_ar_n)->default_value(e.paired_ar_n), "randomization trials (-parn)")
      ("paired-jobs,j", po::value(&o.paired_jobs)->default_value(1), "accepted for sacrebleu; tfm-bleu picks its threads itself")
      ("quiet,q", po::bool_switch(&o.quiet), "no warnings")
      ("short", po::bool_switch(&e.short_signature), "short signature in text output (-sh)")
      ("score-only,b", po::bool_switch(&e.score_only), "print the score only")
      ("width,w", po::value(&e.width)->default_value(e.width), "decimals of the scores")
      ("no-color", po::bool_switch(&o.no_color), "no terminal colours (-nc)")
      ("format,f", po::value(&o.format)->default_value(o.format), "json or text ($SACREBLEU_FORMAT overrides)");
  return d;
}

std::vector<char*> rewrite_aliases(int argc, char** argv, std::vector<std::string>& storage) {
  std::vector<char*> args(argv, argv + argc);
  storage.reserve(std::size_t(argc));
  for (auto& arg : args)
    if (const auto alias = kAliases.find(arg); alias != kAliases.end()) arg = storage.emplace_back(alias->second).data();
  return args;
}

void finish_options(Options& o) {
  auto& e = o.eval;
  if (const char* env = std::getenv("SACREBLEU_FORMAT")) {
    std::string value = env;
    for (char& c : value) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (value == "json" || value == "text") o.format = value;
  }
  if (o.format != "json" && o.format != "text") throw UsageError("--format must be json or text");
  e.json = o.format == "json";
  e.metrics = o.metrics;
  e.bleu.smooth = parse_bleu_smooth(o.smooth);
  if (o.smooth_value >= 0) e.bleu.smooth_value = o.smooth_value;
  // sacrebleu picks the tokenizer from the target language: zh, else 13a
  // (ja-mecab and ko-mecab, which need MeCab, are not provided).
  const std::string target = o.langpair.substr(o.langpair.find('-') + 1);
  if (o.tokenize.empty() && (target == "ja" || target == "ko"))
    throw UsageError("the " + target + "-mecab tokenizer is not supported; choose one with --tokenize");
  e.bleu.tokenizer = parse_bleu_tokenizer(o.tokenize.empty() ? (target == "zh" ? "zh" : "13a") : o.tokenize);
  e.bleu.effective_order = e.sentence_level;
  e.color = !o.no_color && !std::getenv("NO_COLOR") && isatty(STDOUT_FILENO);
  std::string enc = o.encoding;
  for (char& c : enc) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (enc != "utf-8" && enc != "utf8") throw UsageError("only UTF-8 input is supported (--encoding)");
  if (o.refs.empty()) throw UsageError("no reference file given (try 'tfm-bleu --help')");
  if (o.paired_bs && o.paired_ar) throw UsageError("--paired-bs and --paired-ar exclude each other");
  if (o.paired_bs || o.paired_ar) e.paired = o.paired_bs ? PairedTestKind::kBootstrap : PairedTestKind::kRandomization;
  if (const char* seed = std::getenv("SACREBLEU_SEED")) {
    const std::string value = seed;
    if (value == "none" || value == "None") e.seed.reset();  // sacrebleu: no fixed seed
    else if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos || value.size() > 19)
      throw UsageError("SACREBLEU_SEED must be a non-negative integer or 'none'");
    else e.seed = std::stoull(value);
  }
}

int run(int argc, char** argv) {
  Options o;
  const auto options = describe(o);
  po::positional_options_description positional;
  positional.add("refs", -1);
  po::variables_map vm;
  std::vector<std::string> storage;
  auto args = rewrite_aliases(argc, argv, storage);
  const ToolInfo info{"tfm-bleu", "[options] REF... [-i HYP...] < HYP",
                      "Scores hypotheses against references with BLEU, chrF or TER exactly as sacrebleu 2.x "
                      "does, with its flags and output."};
  if (!parse_command_line(info, options, int(args.size()), args.data(), vm, &positional)) return 0;
  finish_options(o);

  const RefSets refs = read_references(o.refs, o.num_refs);
  const Systems systems = read_systems(o.inputs, o.eval.paired.has_value());
  if (systems.hyps.empty()) throw InputError("-", 0, "no hypotheses");
  for (std::size_t i = 0; i < systems.hyps.size(); ++i) {
    if (systems.hyps[i].empty()) throw InputError(display_name(systems.paths[i]), 0, "no hypotheses");
    check_line_counts(systems.hyps[i], systems.paths[i], refs, o.refs);
  }
  if (o.eval.paired && systems.hyps.size() < 2)
    throw UsageError("paired tests need several systems given to --input (-i)");
  if (o.eval.sentence_level && systems.hyps.size() > 1)
    throw UsageError("only one system can be evaluated in sentence-level mode");
  const EvalOutput out = systems.hyps.size() == 1 ? evaluate_system(systems.hyps[0], refs, o.eval)
                                                  : evaluate_systems(systems.hyps, systems.names, refs, o.eval);
  if (!o.quiet)
    for (const auto& w : out.warnings) warn(w);
  std::cout << out.text;
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return tfm::run_tool("bleu", argc, argv, run); }
