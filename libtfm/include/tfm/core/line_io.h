// Line-oriented input (LineReader) and crash-safe output (AtomicFile). An
// AtomicFile is also the sink the library's streaming functions write to
// (filter_lines, Translator::translate_stream): the tool opens it, on a file
// or on standard output ("-"), and commits it when the run succeeded.
#pragma once

#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

// Reads lines from a file or standard input ("-") with a large buffer. Lines are
// returned without their '\n' (a '\r' before it is kept: callers decide). Lines
// of any length are supported. Throws IoError when the file cannot be read.
class LineReader {
 public:
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next line into `line` (valid until the next call); false at end of input.
  bool next(std::string_view& line);
  // All whole lines now buffered, each with its '\n' (a last line that lacks
  // one comes alone); false at end of input. Faster than next() for readers
  // that treat '\n' as one more separator.
  bool next_lines(std::string_view& lines);
  // 1-based number of the line last returned.
  std::size_t line_number() const { return line_number_; }
  // Whether the line last returned ended with '\n' (false only for a last line
  // that lacks one).
  bool had_newline() const { return had_newline_; }
  const std::string& path() const { return path_; }

 private:
  bool fill();
  std::string path_;
  int fd_;
  bool owns_fd_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  std::size_t line_number_ = 0;
  bool had_newline_ = true;
};

// Reads a whole file (or stdin) into lines; convenience for small inputs.
std::vector<std::string> read_lines(const std::string& path);

// Writes to a file that appears under its final name only when commit() is
// called: data goes to a temporary file in the same folder, which commit()
// fsyncs and renames over `path`. Destroyed without commit(), the temporary is
// removed, so a failed run never leaves a partial file that looks complete.
// "-" writes to standard output directly.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Throw IoError naming the file ("<stdout>" for "-") when writing fails.
  void write(std::string_view data);
  void flush();
  FILE* stream() { return file_; }
  void commit();
  const std::string& path() const { return path_; }
  // The temporary file's name (for writers that must open it themselves, HDF5).
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string path_, temp_path_;
  FILE* file_ = nullptr;
  bool committed_ = false;
};

// Publishes `temp_path` as `path`: fsync, rename, fsync of the folder. When
// `path` is a device or FIFO (/dev/null, a named pipe), copies the data into
// it and removes the temporary instead of renaming over it.
void commit_file(const std::string& temp_path, const std::string& path);

// A unique temporary name next to `path` (same file system, so rename works):
// ".<file name>.tmp<digits>".
std::string temp_name_for(const std::string& path);
// The file name that a temp_name_for name (without its folder) stands for
// (".ckpt-5.h5.tmp123" → "ckpt-5.h5"), or "" for any other name.
std::string temp_name_target(std::string_view file_name);

}  // namespace tfm
