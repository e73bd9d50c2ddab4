// What every tool's main shares: option parsing with --help/--version, and the
// wrapper that maps exceptions to `tfm-<tool>: message` and exit codes
// (0 success, 1 bad input or runtime failure, 2 usage error, 128+N signal).
#pragma once

#include <functional>
#include <string>

#include <boost/program_options.hpp>

namespace tfm {

namespace po = boost::program_options;

// Exit codes shared by all tools.
enum ExitCode : int { kExitOk = 0, kExitFailure = 1, kExitUsage = 2 };

// A tool's identity, printed by --help and --version.
struct ToolInfo {
  std::string name;      // "tfm-tokenize"
  std::string synopsis;  // "[options] < input > output"
  std::string summary;   // one paragraph on what it does
  // More lines for --version (tools that compute: their kernels and GEMM).
  std::function<std::string()> version_details = nullptr;
};

// Parses argv against `options` plus --help and --version, storing into `vm`
// and running notifiers. Returns false when --help or --version was printed
// (the tool then exits 0). `moses_style` also accepts long options with one dash
// (`-no-escape`, `-threads 2`), as Moses scripts do; long options must then be
// spelled in full, so `-u` stays a short option. Throws UsageError.
bool parse_command_line(const ToolInfo& info, const po::options_description& options, int argc,
                        char** argv, po::variables_map& vm,
                        const po::positional_options_description* positional = nullptr,
                        bool moses_style = false);

// Prints `Usage: name synopsis`, the summary and the options to stdout.
void print_help(const ToolInfo& info, const po::options_description& options);

// Runs body(argc, argv) for the tool `name` (without the "tfm-" prefix it is
// added), catching every exception: prints `tfm-<name>: message` to stderr and
// returns the exit code. Also fails if stdout cannot be flushed at the end, so a
// full disk is never reported as success.
int run_tool(const std::string& name, int argc, char** argv,
             const std::function<int(int, char**)>& body);

// The running tool's name ("tfm-tokenize"), for messages.
const std::string& tool_name();

// Prints `tfm-<tool>: warning: message` to stderr.
void warn(const std::string& message);
// Prints `tfm-<tool>: message` to stderr.
void note(const std::string& message);

// Makes SIGINT and SIGTERM set a flag instead of killing the process, for
// tools that stop gracefully (training saves a checkpoint first).
void install_stop_handlers();
// install_stop_handlers(), and SIGINT and SIGTERM blocked in the calling
// thread and the threads it starts later: they are only picked up by
// stop_signal(), between units of work, and never interrupt a computation
// (for the training engine: on one development VM, a handler interrupting
// AVX-512 code now and then corrupted the oneDNN kernel's state; whether
// other machines do the same is unknown, and deferring costs nothing).
void defer_stop_signals();
// The signal that asked us to stop, or 0.
int stop_signal();

// Where the data files live (nonbreaking prefixes, presets): $TFM_DATA_DIR,
// else <exe>/../share/tfm, else the source tree's data/ next to build/bin,
// else the install prefix compiled in. Throws Error if none has `relative`.
std::string find_data_file(const std::string& relative);

// A helper program of libtfm (not a tool: not on PATH) by name:
// <exe>/../lib/tfm/<name> (the build tree's build/lib/tfm, or an install
// under any prefix), else the install prefix's lib/tfm compiled in. No
// environment variable is consulted. Throws Error when neither is executable.
std::string find_helper_program(const std::string& name);

}  // namespace tfm
