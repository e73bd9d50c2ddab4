// tfm-decode: translates BPE-segmented source lines with one or more trained
// models (an ensemble averages log-probabilities) by beam search as fairseq
// does it (GNMT length penalty) or greedily, one output line per input line,
// in input order.
//
//   tfm-decode -m model.h5 --beam 4 --alpha 0.6 < test.bpe.de > test.bpe.en
#include <cstdio>
#include <string>
#include <vector>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/tensor/isa.h"
#include "tfm/core/line_io.h"
#include "tfm/decode/translator.h"
#include "tfm/tensor/engine_setup.h"

namespace {

struct Options {
  std::vector<std::string> models;
  std::string input = "-";
  tfm::DecodeOptions decode;
  int threads = 1;
  std::string precision = "fp32";
};

tfm::po::options_description declare(Options& o) {
  namespace po = tfm::po;
  auto& s = o.decode.search;
  po::options_description options("Options");
  options.add_options()
      ("model,m", po::value(&o.models)->value_name("FILE")->composing(),
       "model or checkpoint file; give several for an ensemble")
      ("input,i", po::value(&o.input)->default_value(o.input), "source text, one BPE-segmented sentence a line")
      ("beam", po::value(&s.beam)->default_value(s.beam), "beam size (1: greedy search)")
      ("alpha", po::value(&s.alpha)->default_value(s.alpha), "length penalty exponent: score / ((5 + |Y|) / 6)^alpha")
      ("max-len-a", po::value(&s.max_len_a)->default_value(s.max_len_a), "at most a x source tokens + b output tokens")
      ("max-len-b", po::value(&s.max_len_b)->default_value(s.max_len_b), "see --max-len-a")
      ("min-len", po::value(&s.min_len)->default_value(s.min_len), "output tokens before </s> may come")
      ("nbest", po::value(&s.nbest)->default_value(s.nbest), "write this many hypotheses a sentence, Moses n-best format")
      ("scores", po::bool_switch(&o.decode.scores), "append ' ||| log-probability' to each line")
      ("alignment", po::bool_switch(&o.decode.alignment), "append ' ||| ' and source-target pairs (most attended)")
      ("batch-size", po::value(&o.decode.batch_size)->default_value(o.decode.batch_size), "sentences a batch")
      ("max-tokens", po::value(&o.decode.max_tokens)->default_value(o.decode.max_tokens),
       "source tokens a batch, sentences x longest (0: no limit)")
      ("maxi-batch", po::value(&o.decode.maxi_batch)->default_value(o.decode.maxi_batch),
       "lines read and sorted by length together")
      ("unbuffered,b", po::bool_switch(&o.decode.unbuffered), "translate and flush line by line")
      ("strict", po::bool_switch(&o.decode.strict), "a line longer than the model allows is an error (else truncated)")
      ("shortlist", po::value(&o.decode.shortlist)->value_name("FILE"),
       "restrict each batch's output vocabulary to its source tokens' candidates in FILE (tfm-shortlist)")
      ("threads", po::value(&o.threads)->default_value(o.threads), "threads (results identical for any)")
      ("precision", po::value(&o.precision)->default_value(o.precision),
       "matrix products in fp32, bf16 (bf16 operands, fp32 sums; needs AVX512-BF16 or AMX), or int8 "
       "(weights and activations of linear layers in int8, scaled per row)");
  return options;
}

int run(int argc, char** argv) {
  Options o;
  const tfm::ToolInfo info{"tfm-decode", "-m MODEL [-m MODEL ...] [options] < source > hypotheses",
                           "Translates BPE-segmented lines with beam search (or greedy search), writing one "
                           "hypothesis line per input line in input order.",
                           tfm::compute_description};
  tfm::po::variables_map vm;
  if (!tfm::parse_command_line(info, declare(o), argc, argv, vm)) return tfm::kExitOk;
  tfm::isa_level();  // a bad TFM_ISA fails here, before any work
  if (o.models.empty()) throw tfm::UsageError("-m MODEL is required (try 'tfm-decode --help')");
  tfm::validate(o.decode);
  tfm::apply_engine_settings({o.threads, o.precision}, true);
  tfm::Translator translator(o.models, o.decode);
  tfm::LineReader reader(o.input);
  tfm::AtomicFile output("-");
  translator.translate_stream(reader, output);
  output.commit();
  return tfm::kExitOk;
}

}  // namespace

int main(int argc, char** argv) { return tfm::run_tool("decode", argc, argv, run); }
