// Strings, stored where HDF5 checksums them: a string attribute is a
// fixed-length string inside its (checksummed) object header; a list of
// strings is a uint8 dataset of NUL-ended strings in Fletcher-32 chunks.
//
// Files of earlier tfm versions (and h5py's) hold variable-length strings,
// which live in HDF5's global heap: no checksum covers it, and HDF5 1.10
// trusts the object sizes and indices it finds there (a damaged heap makes it
// copy out of bounds and crash). Those strings are read by a helper program,
// tfm-read-strings, so that damage is an error naming the file, never a crash
// of the tool. It is started with posix_spawn, not fork: tfm-train under
// mpirun may have memory registered with an InfiniBand adapter, and a fork's
// copy-on-write of such pages is undefined behaviour (posix_spawn shares the
// address space until exec, copying nothing).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "hdf5_detail.h"
#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/io/hdf5.h"

namespace tfm::hdf5 {

using detail::check;
using detail::open_attribute;

namespace {

// A NUL-padded UTF-8 string type of `size` bytes (HDF5 refuses size 0).
Handle fixed_string_type(std::size_t size, const std::string& file) {
  Handle type(H5Tcopy(H5T_C_S1), file, "string type");
  check(H5Tset_size(type.id(), std::max<std::size_t>(size, 1)), file, "cannot make a string type");
  H5Tset_strpad(type.id(), H5T_STR_NULLPAD);
  H5Tset_cset(type.id(), H5T_CSET_UTF8);
  return type;
}

// A variable-length UTF-8 string type (what earlier tfm versions and h5py write).
Handle variable_string_type(const std::string& file) {
  Handle type(H5Tcopy(H5T_C_S1), file, "string type");
  H5Tset_size(type.id(), H5T_VARIABLE);
  H5Tset_cset(type.id(), H5T_CSET_UTF8);
  return type;
}

// ---- variable-length strings, read by the helper program

constexpr const char* kHelperName = "tfm-read-strings";
// How long the helper may take: reading a vocabulary takes milliseconds, and
// a damaged heap can make HDF5 loop forever.
constexpr auto kHelperTimeLimit = std::chrono::seconds(10);
// A reply larger than this is damage read as data, not strings of ours.
constexpr std::size_t kMaxReply = std::size_t(1) << 30;

// What the error messages call reading `object` (or its `attribute`).
std::string reading(const std::string& object, const std::string& attribute) {
  return attribute.empty() ? fmt::format("cannot read '{}'", object)
                           : fmt::format("cannot read attribute '{}' of '{}'", attribute, object);
}

void append_size(std::string& out, std::uint64_t size) { out.append(reinterpret_cast<const char*>(&size), 8); }

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(written));
  }
}

// The helper's reading, in its own process: HDF5's variable-length string
// conversion, which a damaged heap can crash.
std::vector<std::string> read_variable_strings(const std::string& path, const std::string& object,
                                               const std::string& attribute) {
  const File file = File::open(path);
  const std::string what = reading(object, attribute);
  Handle memory = variable_string_type(path);
  if (!attribute.empty()) {
    Handle owner(H5Oopen(file.id(), object.c_str(), H5P_DEFAULT), path, object);
    Handle handle(H5Aopen(owner.id(), attribute.c_str(), H5P_DEFAULT), path, what);
    char* value = nullptr;
    check(H5Aread(handle.id(), memory.id(), &value), path, what);
    return {value ? value : ""};  // the helper ends next: HDF5's buffers go with it
  }
  const Dataset dataset = file.open_dataset(object);
  std::vector<char*> pointers(dataset.rows(), nullptr);
  check(H5Dread(dataset.id(), memory.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()), path, what);
  std::vector<std::string> strings;
  strings.reserve(pointers.size());
  for (char* p : pointers) strings.emplace_back(p ? p : "");
  return strings;
}

// Reads the helper's reply until it closes the pipe; false when it took longer
// than kHelperTimeLimit or sent too much.
bool read_reply(int fd, std::string& reply) {
  const auto deadline = std::chrono::steady_clock::now() + kHelperTimeLimit;
  char buffer[1 << 16];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd ready{fd, POLLIN, 0};
    const int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno == EINTR) continue;
    if (polled <= 0) return false;
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return true;
    reply.append(buffer, static_cast<std::size_t>(got));
    if (reply.size() > kMaxReply) return false;
  }
}

// The strings of a 'K' reply; false when it does not parse.
bool parse_strings(std::string_view reply, std::vector<std::string>& strings) {
  reply.remove_prefix(1);
  while (!reply.empty()) {
    std::uint64_t size = 0;
    if (reply.size() < 8) return false;
    std::memcpy(&size, reply.data(), 8);
    reply.remove_prefix(8);
    if (size > reply.size()) return false;
    strings.emplace_back(reply.substr(0, size));
    reply.remove_prefix(size);
  }
  return true;
}

// Starts the helper on (path, object, attribute) with its standard output
// the write end `reply_fd`, standard input and error /dev/null, no other
// descriptor of ours, default signal handling; returns its process id.
pid_t start_helper(const std::string& helper, int reply_fd, const std::string& path, const std::string& object,
                   const std::string& attribute) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  if (posix_spawn_file_actions_init(&actions) != 0) return -1;
  if (posix_spawnattr_init(&attributes) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return -1;
  }
  posix_spawn_file_actions_adddup2(&actions, reply_fd, STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> arguments{helper, path, object, attribute};
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t child = -1;
  const int error = posix_spawn(&child, helper.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  errno = error;
  return error == 0 ? child : -1;
}

// The variable-length strings of `object` (or of its `attribute`) of the
// file at `path`, read by the helper program; its crash or hang is an IoError
// "<path>: <what>: ...".
std::vector<std::string> read_with_helper(const std::string& path, const std::string& object,
                                          const std::string& attribute) {
  const std::string what = reading(object, attribute);
  std::string helper;
  try {
    helper = find_helper_program(kHelperName);
  } catch (const Error& e) {
    throw IoError(path, fmt::format("{}: {}", what, e.what()));
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw IoError(path, what + ": cannot create a pipe", errno);
  const pid_t child = start_helper(helper, pipe_fds[1], path, object, attribute);
  const int start_error = errno;
  ::close(pipe_fds[1]);
  if (child < 0) {
    ::close(pipe_fds[0]);
    throw IoError(path, fmt::format("{}: cannot start {}", what, helper), start_error);
  }
  std::string reply;
  const bool complete = read_reply(pipe_fds[0], reply);
  ::close(pipe_fds[0]);
  if (!complete) ::kill(child, SIGKILL);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  std::vector<std::string> strings;
  if (complete && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    if (reply.starts_with('E')) {
      // The helper's error names the file already when it is one of ours.
      std::string_view message = std::string_view(reply).substr(1);
      const std::string prefix = display_name(path) + ": ";
      if (message.starts_with(prefix)) throw IoError(path, std::string(message.substr(prefix.size())));
      throw IoError(path, fmt::format("{}: {}", what, message));
    }
    if (reply.starts_with('K') && parse_strings(reply, strings)) return strings;
  }
  const std::string how =
      !complete ? fmt::format("HDF5 took over {} s to read them", kHelperTimeLimit.count())
      : WIFSIGNALED(status) ? fmt::format("HDF5 crashed reading them (signal {})", WTERMSIG(status))
                            : "HDF5 failed reading them";
  throw IoError(path, fmt::format("{}: damaged variable-length strings: {}", what, how));
}

}  // namespace

// ---- attributes

void Object::write_string_attribute(const std::string& attribute, std::string_view value) {
  if (value.find('\0') != std::string_view::npos)
    throw IoError(file(), fmt::format("cannot write attribute '{}' of '{}': a NUL byte in its value", attribute,
                                      name()));
  Handle type = fixed_string_type(value.size(), file());
  std::string padded(value);
  padded.resize(std::max<std::size_t>(value.size(), 1), '\0');
  detail::write_attribute(*this, attribute, type.id(), padded.data());
}

std::string Object::read_string_attribute(const std::string& attribute) const {
  if (attribute_type(attribute) != AttributeType::kString)
    throw IoError(file(), fmt::format("attribute '{}' of '{}' is not a string", attribute, name()));
  Handle handle = open_attribute(*this, attribute);
  Handle type(H5Aget_type(handle.id()), file(), "attribute type");
  const std::string what = reading(name(), attribute);
  if (H5Tis_variable_str(type.id()) > 0) return read_with_helper(file(), name(), attribute).at(0);
  std::string text(H5Tget_size(type.id()), '\0');
  check(H5Aread(handle.id(), type.id(), text.data()), file(), what);
  text.resize(std::min(text.size(), text.find('\0')));
  return text;
}

// ---- lists of strings

Dataset Group::write_strings(const std::string& path, const std::vector<std::string>& strings,
                             const Storage& storage) {
  std::vector<std::uint8_t> bytes;
  for (const std::string& text : strings) {
    if (text.find('\0') != std::string::npos)
      throw IoError(file(), fmt::format("cannot write '{}': a NUL byte in string {}", full_name(path),
                                        &text - strings.data()));
    bytes.insert(bytes.end(), text.begin(), text.end());
    bytes.push_back(0);
  }
  Storage checksummed = storage;
  if (checksummed.chunk_rows == 0) checksummed.chunk_rows = 1 << 16;
  checksummed.checksum = true;
  return write<std::uint8_t>(path, bytes, {}, checksummed);
}

std::vector<std::string> Dataset::read_strings() const {
  const std::string what = reading(name(), "");
  const DataType stored = type();
  if (stored == DataType::kUInt8 && shape().size() == 1) {
    const std::vector<std::uint8_t> bytes = read<std::uint8_t>();
    if (!bytes.empty() && bytes.back() != 0) throw IoError(file(), what + ": its last string has no NUL end");
    std::vector<std::string> strings;
    for (auto begin = bytes.begin(); begin != bytes.end();) {
      const auto end = std::find(begin, bytes.end(), std::uint8_t(0));
      strings.emplace_back(begin, end);
      begin = end + 1;
    }
    return strings;
  }
  if (stored != DataType::kString) throw IoError(file(), what + ": not a list of strings");
  Handle type(H5Dget_type(id()), file(), "type of " + name());
  if (H5Tis_variable_str(type.id()) <= 0) throw IoError(file(), what + ": fixed-length strings");
  return read_with_helper(file(), name(), "");
}

void reply_with_variable_strings(int fd, const std::string& path, const std::string& object,
                                 const std::string& attribute) {
  std::string reply = "K";
  try {
    for (const std::string& text : read_variable_strings(path, object, attribute)) {
      append_size(reply, text.size());
      reply += text;
    }
  } catch (const std::exception& e) {
    reply = std::string("E") + e.what();
  }
  write_all(fd, reply);
}

}  // namespace tfm::hdf5
