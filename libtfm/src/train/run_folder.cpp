#include "tfm/train/run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string_view>

#include "tfm/core/error.h"
#include "tfm/core/line_io.h"

namespace tfm {

namespace fs = std::filesystem;

RunFolderLock::RunFolderLock(const std::string& run_dir) {
  const std::string path = (fs::path(run_dir) / ".tfm-train.lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError(path, "cannot create the run folder's lock", errno);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    if (error == EWOULDBLOCK)
      throw InputError(run_dir, 0, "in use by another tfm-train (it holds .tfm-train.lock)");
    throw IoError(path, "cannot lock the run folder", error);
  }
}

RunFolderLock::~RunFolderLock() { ::close(fd_); }

namespace {

// Whether tfm-train writes a file of this name: "ckpt-<step>.h5" or "recipe.tsv".
bool written_by_training(std::string_view name) {
  if (name == "recipe.tsv") return true;
  if (!name.starts_with("ckpt-") || !name.ends_with(".h5")) return false;
  const std::string_view step = name.substr(5, name.size() - 8);
  return !step.empty() && std::all_of(step.begin(), step.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<std::string> remove_stale_temporaries(const std::string& run_dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (auto it = fs::directory_iterator(run_dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_error;
    if (!it->is_regular_file(type_error) || !written_by_training(temp_name_target(name))) continue;
    std::error_code remove_error;
    if (!fs::remove(it->path(), remove_error) && remove_error)
      throw IoError(it->path().string(), "cannot remove a temporary file of an interrupted run", remove_error.value());
    removed.push_back(name);
  }
  if (ec) throw IoError(run_dir, "cannot list the run folder", ec.value());
  std::sort(removed.begin(), removed.end());
  return removed;
}

}  // namespace tfm
