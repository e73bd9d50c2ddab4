// What the libFuzzer harnesses share: splitting an input into fields, files
// in a private temporary folder, HDF5's free lists sized for many files an
// input, and the check every harness makes on errors:
// a reader of outside data may only throw tfm::Error with a one-line message
// (what the tools print); anything else (a raw Boost or std exception, an
// HDF5 error stack, a crash) is a finding.
#pragma once

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/model/config.h"

namespace tfm_fuzz {

// The input as fields separated by NUL bytes ("a\0b" → "a", "b"); at most
// `max_fields`, the last one keeping any further NULs.
inline std::vector<std::string_view> split_fields(std::string_view data, std::size_t max_fields) {
  std::vector<std::string_view> fields;
  while (fields.size() + 1 < max_fields) {
    std::size_t nul = data.find('\0');
    if (nul == std::string_view::npos) break;
    fields.push_back(data.substr(0, nul));
    data.remove_prefix(nul + 1);
  }
  fields.push_back(data);
  return fields;
}

// A folder of our own under $TMPDIR, removed at exit (so harnesses can run
// side by side, and beside `make test`).
inline const std::string& work_dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/tfm-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    static const std::string removed_at_exit = pattern;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(removed_at_exit, ec);
    });
    return pattern;
  }();
  return dir;
}

// HDF5 keeps the fixed-size objects it frees on free lists for reuse, 64 KiB
// a type by default. A file's metadata cache is larger (its hash table alone
// is 512 KiB): each file opened allocated a fresh one (under ASan a fresh
// mapping, page-faulted in as HDF5 clears it) and each close unmapped it.
// With 16 MiB a type (64 MiB in all), harnesses that open a dozen files an
// input reuse them; HDF5 reads the files as before. The lists of blocks of
// other sizes keep their defaults (turning them off cost more mallocs).
inline void keep_hdf5_metadata_caches() {
  constexpr int kMiB = 1 << 20;
  if (H5set_free_list_limits(64 * kMiB, 16 * kMiB, 4 * kMiB, kMiB / 4, 16 * kMiB, kMiB) < 0) {
    std::fputs("H5set_free_list_limits failed\n", stderr);
    std::abort();
  }
}

// Writes `data` to work_dir()/name and returns the path.
inline std::string write_file(const std::string& name, std::string_view data) {
  std::string path = work_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out.flush()) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "FINDING: %s\n", what.c_str());
  std::abort();
}

// Runs `body`; a tfm::Error must carry a one-line message that names
// `must_name` (the file, when the reader was given one); any other exception
// is a finding.
template <class Body>
void expect_clean(Body&& body, const std::string& must_name = "") {
  try {
    body();
  } catch (const tfm::Error& e) {
    const std::string_view message = e.what();
    if (message.empty() || message.find('\n') != std::string_view::npos)
      finding("error message is not one line: '" + std::string(message) + "'");
    if (!must_name.empty() && message.find(must_name) == std::string_view::npos)
      finding("error message does not name " + must_name + ": " + std::string(message));
  } catch (const std::exception& e) {
    finding(std::string("exception that is not a tfm::Error: ") + e.what());
  }
}

// Applies patches to a copy of a valid file: the input is a series of
// (3-byte offset, 1-byte length, that many bytes) records written over the
// file at offset mod size; a first byte with bit 0 set also truncates the
// file at the first record's offset. Models a copied, truncated or edited file.
inline std::string patch_file(std::string file, std::string_view data) {
  if (data.empty() || file.empty()) return file;
  const bool truncate = static_cast<unsigned char>(data[0]) & 1;
  data.remove_prefix(1);
  bool first = true;
  while (data.size() >= 4) {
    const auto byte = [&](std::size_t i) { return std::size_t(static_cast<unsigned char>(data[i])); };
    std::size_t offset = (byte(0) | byte(1) << 8 | byte(2) << 16) % file.size();
    std::size_t length = std::min(byte(3), data.size() - 4);
    if (first && truncate) file.resize(offset);
    first = false;
    for (std::size_t i = 0; i < length && offset + i < file.size(); ++i) file[offset + i] = data[4 + i];
    data.remove_prefix(4 + length);
    if (file.empty()) break;
  }
  return file;
}

// A model small enough that writing and reading it costs little per input.
inline tfm::ModelConfig tiny_model_config(std::int64_t vocab_size) {
  tfm::ModelConfig config;
  config.vocab_size = vocab_size;
  config.d_model = 8;
  config.heads = 2;
  config.ffn = 8;
  config.encoder_layers = config.decoder_layers = 1;
  config.max_positions = 16;
  return config;
}

}  // namespace tfm_fuzz
