#include "tfm/core/cli.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {

namespace {

std::string g_tool_name = "tfm";
std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_deferred{false};

extern "C" void on_stop_signal(int signal_number) { g_stop_signal.store(signal_number); }

int report(const std::string& message, int code) {
  std::fflush(stdout);
  std::cerr << g_tool_name << ": " << message << std::endl;
  return code;
}

}  // namespace

const std::string& tool_name() { return g_tool_name; }

void warn(const std::string& message) { std::cerr << g_tool_name << ": warning: " << message << '\n'; }

void note(const std::string& message) { std::cerr << g_tool_name << ": " << message << '\n'; }

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void defer_stop_signals() {
  install_stop_handlers();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  g_deferred.store(true);
}

int stop_signal() {
  if (g_stop_signal.load() == 0 && g_deferred.load()) {
    // A signal blocked everywhere stays pending until taken here.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    timespec zero{};
    int signal_number = sigtimedwait(&set, nullptr, &zero);
    if (signal_number > 0) g_stop_signal.store(signal_number);
  }
  return g_stop_signal.load();
}

void print_help(const ToolInfo& info, const po::options_description& options) {
  std::cout << "Usage: " << info.name << ' ' << info.synopsis << "\n\n"
            << info.summary << "\n\n"
            << options << "  -h [ --help ]         print this help and exit\n"
            << "  --version             print the version and exit\n";
}

bool parse_command_line(const ToolInfo& info, const po::options_description& options, int argc,
                        char** argv, po::variables_map& vm,
                        const po::positional_options_description* positional, bool moses_style) {
  po::options_description all;
  all.add(options);
  all.add_options()("help,h", "print this help and exit")("version", "print the version and exit");
  int style = po::command_line_style::default_style;
  // With one-dash long options, guessing would make "-l" an abbreviation of
  // every long option starting with l; Moses matches whole names only.
  if (moses_style)
    style = (style | po::command_line_style::allow_long_disguise) & ~po::command_line_style::allow_guessing;
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(all).style(style);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      print_help(info, options);
      return false;
    }
    if (vm.count("version")) {
      std::cout << info.name << " (tfm) " << TFM_VERSION << '\n';
      if (info.version_details) std::cout << info.version_details() << '\n';
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(fmt::format("{} (try '{} --help')", e.what(), info.name));
  }
  return true;
}

int run_tool(const std::string& name, int argc, char** argv,
             const std::function<int(int, char**)>& body) {
  g_tool_name = name.starts_with("tfm-") ? name : "tfm-" + name;
  // A reader that stops early (`| head`) ends us quietly, as it ends cat or
  // sed, even when our parent ignored SIGPIPE (Python's subprocess, some
  // shells): the writes would otherwise fail with an EPIPE error message.
  std::signal(SIGPIPE, SIG_DFL);
  std::ios::sync_with_stdio(false);
  int code;
  try {
    code = body(argc, argv);
  } catch (const UsageError& e) {
    return report(e.what(), kExitUsage);
  } catch (const std::bad_alloc&) {
    return report("out of memory", kExitFailure);
  } catch (const std::exception& e) {
    return report(e.what(), kExitFailure);
  }
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout))
    return report(fmt::format("error writing to standard output: {}", std::strerror(errno)),
                  kExitFailure);
  return code;
}

namespace {

// The folder of this program's executable, or "" when /proc cannot say.
std::filesystem::path executable_folder() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

}  // namespace

std::string find_data_file(const std::string& relative) {
  namespace fs = std::filesystem;
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("TFM_DATA_DIR")) roots.emplace_back(env);
  if (const fs::path exe = executable_folder(); !exe.empty()) {
    roots.push_back(exe / ".." / "share" / "tfm");
    roots.push_back(exe / ".." / ".." / "data");
  }
  roots.emplace_back(TFM_DATA_DIR);
  std::error_code ec;
  for (const auto& root : roots) {
    const fs::path candidate = root / relative;
    if (fs::exists(candidate, ec)) return candidate.lexically_normal().string();
  }
  throw Error(fmt::format("data file '{}' not found (set TFM_DATA_DIR to tfm's data folder)", relative));
}

std::string find_helper_program(const std::string& name) {
  namespace fs = std::filesystem;
  std::vector<fs::path> folders;
  if (const fs::path exe = executable_folder(); !exe.empty()) folders.push_back(exe / ".." / "lib" / "tfm");
  folders.emplace_back(TFM_HELPER_DIR);
  std::string looked;
  for (const auto& folder : folders) {
    const std::string candidate = (folder / name).lexically_normal().string();
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    looked += (looked.empty() ? "" : ", ") + candidate;
  }
  throw Error(fmt::format("tfm's helper program {} is missing (looked for {}): reinstall libtfm (Debian package libtfm0, or make install)", name, looked));
}

}  // namespace tfm
