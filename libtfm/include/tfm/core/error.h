// Errors thrown by libtfm. The library never exits and never writes to
// standard output: it returns results or writes to sinks its caller passes
// (filter_lines, Translator::translate_stream), and throws; tools catch these
// in run_tool() (cli.h) and turn them into `tfm-<tool>: message` plus an exit
// code: UsageError → 2, everything else → 1. Diagnostics go to stderr only
// through cli.h's warn()/note() and progress.h.
// The one exception: a rank of a data-parallel training job that cannot go on
// ends the whole job (Collective::abort in train/collective.h: message, then
// MPI_Abort and _Exit), because an exception on one rank cannot reach the
// others, which would wait for it forever. (Old unchecksummed strings are
// read by a helper program that io/hdf5_strings.cpp starts, so that a crash
// there cannot take the tool down; the helper writes only to the pipe it is
// given, and the caller's process never exits.)
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace tfm {

// Base of every error meant for the user: what() is the full one-line message.
// Text quoted from the input (a glossary given on the command line, a file
// name) may hold line breaks: they are shown escaped (\n, \r, \v, \f).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
};

// Bad command line: unknown option, missing argument, conflicting flags.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message) {}
};

// Bad content in an input: `<file>:<line>: message` (line 0 = whole file).
class InputError : public Error {
 public:
  InputError(const std::string& file, std::size_t line, const std::string& message);
  const std::string& file() const { return file_; }
  std::size_t line() const { return line_; }

 private:
  std::string file_;
  std::size_t line_;
};

// A failed system call on a path: `<path>: message: strerror(errno)`.
class IoError : public Error {
 public:
  IoError(const std::string& path, const std::string& message, int errno_value);
  IoError(const std::string& path, const std::string& message);
};

// Tensors or parameters whose shapes do not fit together.
class ShapeError : public Error {
 public:
  explicit ShapeError(const std::string& message) : Error(message) {}
};

// Display name of a path given on the command line: "-" is standard input.
std::string display_name(const std::string& path);

}  // namespace tfm
