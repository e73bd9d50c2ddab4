// tfm-average: averages the parameters of checkpoints (or model files)
// element-wise into one model file, as the paper does with its last 5 (base)
// or 20 (big) checkpoints.
//
//   tfm-average -o model.h5 run/ckpt-9000.h5 run/ckpt-10000.h5
//   tfm-average --last 5 -o model.h5 run/
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/model/average.h"
#include "tfm/model/model_file.h"
#include "tfm/tensor/isa.h"

namespace {

struct Options {
  std::vector<std::string> inputs;
  std::string output;
  std::int64_t last = 0;
  std::vector<double> weights;
};

tfm::po::options_description declare(Options& o) {
  namespace po = tfm::po;
  po::options_description options("Options");
  options.add_options()
      ("output,o", po::value(&o.output)->value_name("FILE"), "model file to write")
      ("last", po::value(&o.last)->value_name("N"),
       "average the N checkpoints of RUN_DIR with the highest step (read from the files)")
      ("weights", po::value(&o.weights)->multitoken()->value_name("W..."),
       "one weight per input, in input order (default: equal)")
      ("inputs", po::value(&o.inputs)->composing(), "checkpoint or model files, or the run folder with --last");
  return options;
}

int run(int argc, char** argv) {
  Options o;
  const tfm::ToolInfo info{"tfm-average", "-o FILE CHECKPOINT... | --last N -o FILE RUN_DIR",
                           "Averages the parameters of checkpoints or model files into one model file.",
                           tfm::compute_description};
  tfm::po::positional_options_description positional;
  positional.add("inputs", -1);
  tfm::po::variables_map vm;
  if (!tfm::parse_command_line(info, declare(o), argc, argv, vm, &positional)) return tfm::kExitOk;
  tfm::isa_level();  // a bad TFM_ISA fails here, before any work
  if (o.output.empty()) throw tfm::UsageError("-o FILE is required (try 'tfm-average --help')");
  if (o.output == "-") throw tfm::UsageError("-o must be a file (HDF5 cannot go to standard output)");
  if (vm.count("last")) {
    if (o.inputs.size() != 1) throw tfm::UsageError("--last N takes one run folder");
    if (o.last < 1) throw tfm::UsageError("--last must be at least 1");
    o.inputs = tfm::last_checkpoints(o.inputs.front(), o.last);
  }
  if (o.inputs.empty()) throw tfm::UsageError("no checkpoint to average");
  tfm::average_models(o.inputs, o.weights, o.output);
  tfm::note(fmt::format("averaged {} file(s) into {}", o.inputs.size(), o.output));
  return tfm::kExitOk;
}

}  // namespace

int main(int argc, char** argv) { return tfm::run_tool("average", argc, argv, run); }
