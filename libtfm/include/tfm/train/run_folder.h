// A run folder belongs to one tfm-train at a time: the run holds a lock on
// it, and with the lock it may remove the temporary files that killed runs
// left there (a kill during a checkpoint write leaves ".ckpt-<step>.h5.tmp<n>").
#pragma once

#include <string>
#include <vector>

namespace tfm {

// An exclusive lock on `run_dir` (flock on <run_dir>/.tfm-train.lock, made if
// missing) for the life of the object; the system drops it when the process
// ends, even by SIGKILL. Throws InputError naming the folder while another
// process holds it, IoError when the lock file cannot be made.
class RunFolderLock {
 public:
  explicit RunFolderLock(const std::string& run_dir);
  ~RunFolderLock();
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

 private:
  int fd_ = -1;
};

// Removes the temporary files of checkpoints and of recipe.tsv in `run_dir`
// (names from line_io.h's temp_name_for: ".ckpt-<step>.h5.tmp<digits>",
// ".recipe.tsv.tmp<digits>"); nothing else, whatever its name. Only a run
// holding the RunFolderLock may call it: then no other run writes them.
// Returns the names removed.
std::vector<std::string> remove_stale_temporaries(const std::string& run_dir);

}  // namespace tfm
