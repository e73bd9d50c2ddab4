// tfm-shortlist: builds a vocabulary shortlist for tfm-decode --shortlist
// from the training batches: the most frequent target tokens, and for each
// source token its best translations by an IBM model 1 lexical table.
//
//   tfm-shortlist --batches train.h5 -o shortlist.txt
#include <string>

#include <fmt/format.h>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/data/batch_file.h"
#include "tfm/data/lexical_table.h"

namespace {

struct Options {
  std::string batches, output = "-";
  tfm::ShortlistConfig shortlist;
};

tfm::po::options_description declare(Options& o) {
  namespace po = tfm::po;
  auto& s = o.shortlist;
  po::options_description options("Options");
  options.add_options()
      ("batches", po::value(&o.batches)->value_name("FILE"), "training batches (tfm-batch)")
      ("output,o", po::value(&o.output)->default_value(o.output)->value_name("FILE"), "shortlist to write")
      ("candidates", po::value(&s.candidates)->default_value(s.candidates)->value_name("N"),
       "best target tokens kept per source token")
      ("frequent", po::value(&s.frequent)->default_value(s.frequent)->value_name("K"),
       "most frequent target tokens, always allowed")
      ("iterations", po::value(&s.iterations)->default_value(s.iterations)->value_name("N"),
       "EM iterations of IBM model 1");
  return options;
}

int run(int argc, char** argv) {
  Options o;
  const tfm::ToolInfo info{"tfm-shortlist", "--batches FILE [-o FILE] [options]",
                           "Builds the vocabulary shortlist that tfm-decode reads to decode faster, from training batches: "
                           "the most frequent target tokens, and each source token's best translations by "
                           "IBM model 1."};
  tfm::po::variables_map vm;
  if (!tfm::parse_command_line(info, declare(o), argc, argv, vm)) return tfm::kExitOk;
  if (o.batches.empty()) throw tfm::UsageError("--batches FILE is required (try 'tfm-shortlist --help')");
  tfm::validate(o.shortlist);
  tfm::BatchReader reader(o.batches);
  const tfm::Shortlist shortlist = tfm::build_shortlist(reader, o.shortlist);
  shortlist.save(o.output, reader.source_vocabulary(), reader.target_vocabulary());
  std::size_t sources = 0;
  for (const auto& c : shortlist.candidates) sources += !c.empty();
  tfm::note(fmt::format("{} source tokens with candidates, {} frequent target tokens", sources,
                        shortlist.frequent.size()));
  return tfm::kExitOk;
}

}  // namespace

int main(int argc, char** argv) { return tfm::run_tool("shortlist", argc, argv, run); }
