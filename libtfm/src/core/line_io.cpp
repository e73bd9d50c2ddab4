#include "tfm/core/line_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {

namespace {
constexpr std::size_t kReadChunk = 1 << 20;
}

LineReader::LineReader(const std::string& path) : path_(path) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
    owns_fd_ = false;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw IoError(path, "cannot open", errno);
    owns_fd_ = true;
  }
  buffer_.resize(kReadChunk);
}

LineReader::~LineReader() {
  if (owns_fd_) ::close(fd_);
}

bool LineReader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < kReadChunk / 2) buffer_.resize(buffer_.size() * 2);
  for (;;) {
    const ssize_t got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw IoError(path_, "read failed", errno);
    if (got == 0) eof_ = true;
    end_ += static_cast<std::size_t>(got);
    return got > 0;
  }
}

bool LineReader::next_lines(std::string_view& lines) {
  for (;;) {
    const std::string_view rest(buffer_.data() + begin_, end_ - begin_);
    if (const auto last = rest.rfind('\n'); last != std::string_view::npos) {
      lines = rest.substr(0, last + 1);
      begin_ += last + 1;
      line_number_ += static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n'));
      had_newline_ = true;
      return true;
    }
    if (!fill()) {
      if (begin_ == end_) return false;
      lines = std::string_view(buffer_.data() + begin_, end_ - begin_);
      begin_ = end_;
      had_newline_ = false;
      ++line_number_;
      return true;
    }
  }
}

bool LineReader::next(std::string_view& line) {
  std::size_t scanned = begin_;
  for (;;) {
    const void* nl = std::memchr(buffer_.data() + scanned, '\n', end_ - scanned);
    if (nl) {
      const auto at = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer_.data());
      line = std::string_view(buffer_.data() + begin_, at - begin_);
      begin_ = at + 1;
      had_newline_ = true;
      ++line_number_;
      return true;
    }
    const std::size_t offset = end_ - begin_;
    if (!fill()) {
      if (begin_ == end_) return false;
      line = std::string_view(buffer_.data() + begin_, end_ - begin_);
      begin_ = end_;
      had_newline_ = false;
      ++line_number_;
      return true;
    }
    scanned = begin_ + offset;
  }
}

std::vector<std::string> read_lines(const std::string& path) {
  LineReader reader(path);
  std::vector<std::string> lines;
  std::string_view line;
  while (reader.next(line)) lines.emplace_back(line);
  return lines;
}

std::string temp_name_for(const std::string& path) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto p = std::filesystem::path(path);
  return (p.parent_path() / fmt::format(".{}.tmp{}", p.filename().string(), rng() % 1000000)).string();
}

std::string temp_name_target(std::string_view file_name) {
  const std::size_t tmp = file_name.rfind(".tmp");
  if (!file_name.starts_with('.') || tmp == std::string_view::npos || tmp < 2 || tmp + 4 == file_name.size())
    return "";
  const std::string_view digits = file_name.substr(tmp + 4);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return "";
  return std::string(file_name.substr(1, tmp - 1));
}

namespace {

// A device or FIFO (-o /dev/null, a named pipe) is written into, never
// renamed over: as root, rename() would replace /dev/null by a regular file.
void copy_into_special(const std::string& temp_path, const std::string& path) {
  const int in = ::open(temp_path.c_str(), O_RDONLY | O_CLOEXEC);
  const int out = in < 0 ? -1 : ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  int err = errno;
  bool ok = in >= 0 && out >= 0;
  char buffer[1 << 16];
  for (ssize_t got; ok && (got = ::read(in, buffer, sizeof buffer)) != 0;) {
    for (ssize_t put = 0; ok && got > 0 && put < got;) {
      ssize_t n = ::write(out, buffer + put, static_cast<std::size_t>(got - put));
      ok = n > 0;
      put += n;
    }
    ok = ok && got > 0;
    err = errno;
  }
  if (in >= 0) ::close(in);
  if (out >= 0) ::close(out);
  std::remove(temp_path.c_str());
  if (!ok) throw IoError(path, "cannot write", err);
}

}  // namespace

void commit_file(const std::string& temp_path, const std::string& path) {
  const int fd = ::open(temp_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(temp_path, "cannot reopen", errno);
  const int synced = ::fsync(fd);
  const int sync_errno = errno;
  ::close(fd);
  if (synced != 0) throw IoError(path, "cannot write", sync_errno);
  struct stat target {};
  if (::stat(path.c_str(), &target) == 0 && !S_ISREG(target.st_mode) && !S_ISDIR(target.st_mode))
    return copy_into_special(temp_path, path);
  if (std::rename(temp_path.c_str(), path.c_str()) != 0) throw IoError(path, "cannot rename into place", errno);
  auto dir = std::filesystem::path(path).parent_path();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

AtomicFile::AtomicFile(const std::string& path) : path_(path) {
  if (path == "-") {
    file_ = stdout;
    return;
  }
  temp_path_ = temp_name_for(path);
  file_ = std::fopen(temp_path_.c_str(), "wbx");
  if (!file_) throw IoError(path, "cannot create", errno);
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
}

AtomicFile::~AtomicFile() {
  if (file_ && file_ != stdout) std::fclose(file_);
  if (!committed_ && !temp_path_.empty()) std::remove(temp_path_.c_str());
}

void AtomicFile::write(std::string_view data) {
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size())
    throw IoError(path_ == "-" ? "<stdout>" : path_, "write failed", errno);
}

void AtomicFile::flush() {
  if (std::fflush(file_) != 0) throw IoError(path_ == "-" ? "<stdout>" : path_, "write failed", errno);
}

void AtomicFile::commit() {
  if (file_ == stdout) {
    if (std::fflush(stdout) != 0) throw IoError("<stdout>", "write failed", errno);
    committed_ = true;
    return;
  }
  const bool ok = std::fflush(file_) == 0 && !std::ferror(file_);
  const int err = errno;
  std::fclose(file_);
  file_ = nullptr;
  if (!ok) throw IoError(path_, "write failed", err);
  commit_file(temp_path_, path_);
  committed_ = true;
}

}  // namespace tfm
