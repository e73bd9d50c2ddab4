// tfm-detokenize: joins tokenized text back into running text, a drop-in for
// Moses' detokenizer.perl (same flags, same output byte for byte).
//
//   tfm-detokenize [-l LANG] [-u] [-penn] [-b] [-q] [--threads N] [FILE] > text
#include <string>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/parallel.h"
#include "tfm/text/detokenizer.h"

namespace {

struct Options {
  tfm::DetokenizerConfig detokenizer;
  tfm::LineFilterOptions filter;
  bool quiet = false;
  bool replace_invalid = false;
  std::string input = "-";
};

tfm::po::options_description describe_options(Options& o) {
  namespace po = tfm::po;
  po::options_description options("Options");
  options.add_options()
      ("language,l", po::value(&o.detokenizer.language)->default_value(o.detokenizer.language),
       "language rules: cs, en, fi, fr, it (ko: keep CJK words apart; others: generic)")
      ("uppercase-first,u", po::bool_switch(&o.detokenizer.uppercase_first),
       "upper-case the first letter of each line")
      ("penn", po::bool_switch(&o.detokenizer.penn),
       "input uses Penn Treebank tokens (-LRB-, ``, ca n't); English only")
      ("unbuffered,b", po::bool_switch(&o.filter.unbuffered), "write each line as soon as it is read")
      ("threads", po::value(&o.filter.threads)->default_value(o.filter.threads),
       "worker threads (same output for any number)")
      ("replace-invalid", po::bool_switch(&o.replace_invalid),
       "replace invalid UTF-8 with U+FFFD instead of failing")
      ("quiet,q", po::bool_switch(&o.quiet), "no warning for a language without rules")
      ("input", po::value(&o.input), "input file (default: standard input)");
  return options;
}

int run(int argc, char** argv) {
  Options o;
  const auto options = describe_options(o);
  tfm::po::positional_options_description positional;
  positional.add("input", 1);
  tfm::po::variables_map vm;
  const tfm::ToolInfo info{"tfm-detokenize", "[options] [FILE] > output",
                           "Joins tokens back into text as Moses' detokenizer.perl does: un-escapes what\n"
                           "tfm-tokenize escaped and attaches punctuation, quotes and contractions."};
  if (!tfm::parse_command_line(info, options, argc, argv, vm, &positional, true)) return tfm::kExitOk;
  if (o.filter.threads < 1) throw tfm::UsageError("--threads must be at least 1");
  const tfm::Detokenizer detokenizer(o.detokenizer);
  if (!o.quiet && !tfm::Detokenizer::has_builtin_rules(o.detokenizer.language))
    tfm::warn("no built-in rules for language " + o.detokenizer.language + ", using the generic ones");
  tfm::LineReader reader(o.input);
  tfm::AtomicFile output("-");
  tfm::detokenize_lines(reader, output, detokenizer, o.filter, o.replace_invalid);
  output.commit();
  return tfm::kExitOk;
}

}  // namespace

int main(int argc, char** argv) { return tfm::run_tool("detokenize", argc, argv, run); }
