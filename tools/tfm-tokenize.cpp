// tfm-tokenize: splits text into tokens exactly as Moses' tokenizer.perl does
// (same options, same output byte for byte), many times faster.
//
//   tfm-tokenize [-l LANG] [-a] [-no-escape] [-protected FILE] [-threads N] < text > tokens
#include <iostream>
#include <string>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/parallel.h"
#include "tfm/core/utf8.h"
#include "tfm/text/tokenizer.h"

namespace {

struct Options {
  tfm::TokenizerConfig tokenizer;
  std::string prefixes, protected_patterns, input = "-";
  tfm::LineFilterOptions filter;
  bool replace_invalid = false, quiet = false;
};

tfm::po::options_description describe(Options& o) {
  namespace po = tfm::po;
  po::options_description d("Options (one dash also works for long ones, as in Moses: -no-escape, -threads 4)");
  d.add_options()
      ("language,l", po::value(&o.tokenizer.language)->default_value(o.tokenizer.language),
       "language rules and nonbreaking prefixes (en, de, fr, it, cs, fi, ...)")
      ("aggressive-dash-splits,a", po::bool_switch(&o.tokenizer.aggressive_dash_splits),
       "split hyphens between letters or digits: a @-@ b")
      ("no-escape", po::bool_switch(), "do not escape & | < > ' \" [ ] as HTML entities")
      ("protected", po::value(&o.protected_patterns), "keep matches of these regexes (one a line) whole")
      ("prefixes", po::value(&o.prefixes), "nonbreaking prefix file in Moses' format (default: built-in list)")
      ("skip-xml,x", po::bool_switch(&o.tokenizer.skip_xml), "copy lines that look like <xml> unchanged")
      ("lower-case", po::bool_switch(&o.tokenizer.lower_case), "lower-case the output")
      ("replace-invalid", po::bool_switch(&o.replace_invalid), "replace invalid UTF-8 with U+FFFD (default: error)")
      ("threads", po::value(&o.filter.threads)->default_value(o.filter.threads), "worker threads (same output)")
      ("lines", po::value(&o.filter.chunk_lines)->default_value(o.filter.chunk_lines),
       "lines per thread in each batch (memory use; same output)")
      ("unbuffered,b", po::bool_switch(&o.filter.unbuffered), "answer line by line (for pipes)")
      ("quiet,q", po::bool_switch(&o.quiet), "no warning about languages without prefixes")
      ("input", po::value(&o.input)->default_value(o.input), "input file ('-': standard input)");
  return d;
}

tfm::NonbreakingPrefixes load_prefixes(const Options& o) {
  if (!o.prefixes.empty()) return tfm::NonbreakingPrefixes::load(o.prefixes);
  std::string path = tfm::NonbreakingPrefixes::builtin_path(o.tokenizer.language);
  if (path.empty()) {
    // tokenizer.perl falls back to English too.
    if (!o.quiet)
      tfm::warn("no nonbreaking prefixes for language '" + o.tokenizer.language + "', using English ones");
    path = tfm::NonbreakingPrefixes::builtin_path("en");
    if (path.empty()) throw tfm::Error("no nonbreaking prefix files found (set TFM_DATA_DIR)");
  }
  return tfm::NonbreakingPrefixes::load(path);
}

int run(int argc, char** argv) {
  Options o;
  const auto options = describe(o);
  tfm::po::positional_options_description positional;
  positional.add("input", 1);
  tfm::po::variables_map vm;
  const tfm::ToolInfo info{"tfm-tokenize", "[options] [input] > output",
                           "Tokenizes text like Moses' tokenizer.perl, byte for byte."};
  if (!tfm::parse_command_line(info, options, argc, argv, vm, &positional, true)) return tfm::kExitOk;
  o.tokenizer.escape = !vm["no-escape"].as<bool>();
  if (o.filter.threads < 1) throw tfm::UsageError("--threads must be at least 1");
  if (o.filter.chunk_lines < 1) throw tfm::UsageError("--lines must be at least 1");

  tfm::ProtectedPatterns patterns;
  if (!o.protected_patterns.empty()) patterns = tfm::ProtectedPatterns::load(o.protected_patterns);
  const tfm::Tokenizer tokenizer(o.tokenizer, load_prefixes(o), std::move(patterns));
  tfm::LineReader reader(o.input);
  o.filter.terminate_last_line = [&](std::string_view line) { return !tokenizer.is_verbatim(line); };
  const bool replace = o.replace_invalid;
  tfm::AtomicFile output("-");
  tfm::filter_lines(reader, output, o.filter, [&](std::string_view line, std::size_t number, std::string& out) {
    const bool valid = tfm::is_valid_utf8(line);
    if (!valid && !replace) throw tfm::InputError(o.input, number, "invalid UTF-8");
    try {
      if (valid) tokenizer.tokenize(line, out);
      else tokenizer.tokenize(tfm::replace_invalid_utf8(line), out);
    } catch (const tfm::Error& e) {  // a protected pattern that gave up on this line
      throw tfm::InputError(o.input, number, e.what());
    }
  });
  output.commit();
  return tfm::kExitOk;
}

}  // namespace

int main(int argc, char** argv) { return tfm::run_tool("tokenize", argc, argv, run); }
