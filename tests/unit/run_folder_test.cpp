// The run folder: one tfm-train at a time, and the temporary files of killed
// runs removed, nothing else (e2e: tests/e2e/crash-safety.sh).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_util.h"
#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/train/run_folder.h"

using namespace tfm;
using tfm::test::TempDir;
using tfm::test::error_of;

TEST_CASE("temp_name_target names the file a temporary stands for") {
  const std::string temp = temp_name_for("run/ckpt-5.h5");
  CHECK(temp.starts_with("run/.ckpt-5.h5.tmp"));
  CHECK(temp_name_target(std::filesystem::path(temp).filename().string()) == "ckpt-5.h5");
  CHECK(temp_name_target(".recipe.tsv.tmp0") == "recipe.tsv");
  for (const char* other : {"ckpt-5.h5", ".ckpt-5.h5.tmp", ".ckpt-5.h5.tmpx", "ckpt-5.h5.tmp12", ".tmp12", ".x.tmp1a"})
    CHECK_MESSAGE(temp_name_target(other).empty(), other);
}

TEST_CASE("remove_stale_temporaries removes tfm-train's temporaries only") {
  TempDir dir("tfm_run_folder_test_");
  const std::vector<std::string> ours{".ckpt-12.h5.tmp345", ".recipe.tsv.tmp7"};
  const std::vector<std::string> others{"ckpt-12.h5",  ".average.h5.tmp3", ".ckpt-x.h5.tmp3", ".ckpt-1.h5.tmpz",
                                        "train.log", ".train.log.tmp5",  ".ckpt-.h5.tmp1"};
  for (const auto& name : ours) dir.write(name, "partial");
  for (const auto& name : others) dir.write(name, "kept");
  std::filesystem::create_directory(dir.path / ".ckpt-3.h5.tmp4");  // not a file: kept
  CHECK(remove_stale_temporaries(dir.path.string()) == ours);
  for (const auto& name : ours) CHECK_FALSE(std::filesystem::exists(dir.path / name));
  for (const auto& name : others) CHECK(std::filesystem::exists(dir.path / name));
  CHECK(remove_stale_temporaries(dir.path.string()).empty());
}

TEST_CASE("RunFolderLock admits one process at a time") {
  TempDir dir("tfm_run_folder_test_");
  const std::string run = dir.path.string();
  {
    RunFolderLock lock(run);
    // Another process is refused while this one holds the lock.
    const pid_t child = fork();
    if (child == 0) {
      const std::string error = error_of([&] { RunFolderLock again(run); });
      _exit(error == run + ": in use by another tfm-train (it holds .tfm-train.lock)" ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  RunFolderLock after(run);  // released with the first one
  CHECK(error_of([&] { RunFolderLock(dir.file("missing/run")); }).find("cannot create the run folder's lock") !=
        std::string::npos);
}
