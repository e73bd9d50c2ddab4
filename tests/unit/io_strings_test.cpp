// Strings in HDF5 files: checksummed as tfm writes them now, and the
// variable-length strings of earlier versions' files, whose global heap has
// no checksum (damage there crashed HDF5 1.10 in tfm-batch --info).
#include <doctest/doctest.h>

#include <hdf5.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "tfm/core/error.h"
#include "tfm/io/hdf5.h"

using namespace tfm;
using tfm::test::TempDir;
using tfm::test::error_of;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const std::vector<std::string> kTokens{"<pad>", "<unk>", "<s>", "</s>", "Grüße", "", "日本語", "a@@"};

// A file laid out as tfm 0.1 wrote them before strings were checksummed,
// through the C API: a variable-length string attribute 'format', the
// vocabulary as variable-length strings (chunked, shuffled, deflated) and a
// one-string contiguous /state.
void write_legacy_file(const std::string& path) {
  hdf5::silence_errors();
  const hid_t access = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(access, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access);
  REQUIRE(file >= 0);
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const hid_t scalar = H5Screate(H5S_SCALAR);
  const char* format = "tfm-batches";
  const hid_t attribute = H5Acreate2(file, "format", type, scalar, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(H5Awrite(attribute, type, &format) >= 0);
  const hsize_t rows = kTokens.size(), chunk = 4;
  const hid_t space = H5Screate_simple(1, &rows, nullptr);
  const hid_t creation = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(creation, 1, &chunk);
  H5Pset_shuffle(creation);
  H5Pset_deflate(creation, 4);
  const hid_t vocab = H5Dcreate2(file, "vocab", type, space, H5P_DEFAULT, creation, H5P_DEFAULT);
  std::vector<const char*> pointers;
  for (const auto& token : kTokens) pointers.push_back(token.c_str());
  REQUIRE(H5Dwrite(vocab, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) >= 0);
  const hsize_t one = 1;
  const hid_t state_space = H5Screate_simple(1, &one, nullptr);
  const hid_t state = H5Dcreate2(file, "state", type, state_space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const char* state_text = "22 serialization::archive 19 0 0 12";
  REQUIRE(H5Dwrite(state, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &state_text) >= 0);
  for (const hid_t id : {state, vocab}) H5Dclose(id);
  for (const hid_t id : {state_space, space, scalar}) H5Sclose(id);
  for (const hid_t id : {creation, access}) H5Pclose(id);
  H5Aclose(attribute);
  H5Tclose(type);
  REQUIRE(H5Fclose(file) >= 0);
}

// Every string of the file read as the tools do; "" or a one-line error naming it.
std::string read_everything(const std::string& path) {
  return error_of([&] {
    auto file = hdf5::File::open(path);
    hdf5::describe(file);
    file.read_strings("vocab");
    file.read_strings("state");
  });
}

// Counted by a pthread_atfork handler: fork() runs those, posix_spawn does not.
std::atomic<int> forks{0};

}  // namespace

TEST_CASE("hdf5 strings are checksummed: damage is an error, not other text") {
  TempDir dir("tfm_io_strings_test_");
  const std::string path = dir.file("strings.h5");
  {
    auto file = hdf5::File::create(path);
    file.write_string_attribute("format", "tfm-batches-unique-marker");
    file.write_strings("vocab", kTokens, hdf5::compressed(1 << 14, 4));
    file.write_strings("state", {"serialization::archive 19 0 0 12 uncompressed"});
    file.write_strings("none", {});
    file.commit();
  }
  {
    auto file = hdf5::File::open(path);
    CHECK(file.read_string_attribute("format") == "tfm-batches-unique-marker");
    CHECK(file.read_strings("vocab") == kTokens);
    CHECK(file.read_strings("state") == std::vector<std::string>{"serialization::archive 19 0 0 12 uncompressed"});
    CHECK(file.read_strings("none").empty());
    CHECK(file.open_dataset("vocab").type() == hdf5::DataType::kUInt8);
  }
  // Neither HDF5 nor we can store a NUL inside a string: refused, not cut.
  CHECK(error_of([&] { hdf5::File::create(dir.file("nul.h5")).write_strings("v", {std::string("a\0b", 3)}); })
            .find("a NUL byte in string 0") != std::string::npos);
  CHECK(error_of([&] { hdf5::File::create(dir.file("nul.h5")).write_string_attribute("a", std::string("a\0b", 3)); })
            .find("a NUL byte") != std::string::npos);

  const std::string bytes = read_bytes(path);
  for (const std::string& inside : {std::string("marker"), std::string("uncompressed")}) {
    const std::size_t at = bytes.find(inside);
    REQUIRE(at != std::string::npos);
    std::string damaged = bytes;
    damaged[at] ^= 0x20;
    const std::string copy = dir.write("damaged.h5", damaged);
    const std::string error = read_everything(copy);
    CAPTURE(inside);
    CHECK(error.starts_with(copy + ": "));
    CHECK(error.find('\n') == std::string::npos);
  }
}

TEST_CASE("hdf5 reads the variable-length strings of earlier files, without fork") {
  TempDir dir("tfm_io_strings_test_");
  const std::string path = dir.file("legacy.h5");
  write_legacy_file(path);
  static const bool registered = pthread_atfork([] { ++forks; }, nullptr, nullptr) == 0;
  REQUIRE(registered);
  const int forks_before = forks;
  auto file = hdf5::File::open(path);
  CHECK(hdf5::format_of(file) == "tfm-batches");
  CHECK(file.read_strings("vocab") == kTokens);
  CHECK(file.read_strings("state") == std::vector<std::string>{"22 serialization::archive 19 0 0 12"});
  CHECK(hdf5::describe(file).find("  format: tfm-batches\n") != std::string::npos);
  // No copy of this process (under mpirun its pages may be registered with
  // an InfiniBand adapter): the helper program is started with posix_spawn.
  CHECK(forks == forks_before);
}

// HDF5 1.10 trusts the sizes and indices in a global heap collection: these
// damages made it copy out of bounds (a segmentation fault in tfm-batch --info).
TEST_CASE("hdf5 survives a damaged global heap of variable-length strings") {
  TempDir dir("tfm_io_strings_test_");
  const std::string path = dir.file("legacy.h5");
  write_legacy_file(path);
  const std::string bytes = read_bytes(path);
  const std::size_t heap = bytes.find("GCOL");
  REQUIRE(heap != std::string::npos);
  // The collection: signature, version, 3 reserved, 8-byte size; then each
  // object: 2-byte index, 2-byte references, 4 reserved, 8-byte size, data.
  const std::size_t first_object = heap + 16;
  auto damage = [&](std::size_t offset, std::uint64_t value, std::size_t width) {
    std::string damaged = bytes;
    std::memcpy(damaged.data() + offset, &value, width);
    return dir.write("damaged.h5", damaged);
  };
  // Sizes far beyond the collection: the crashes seen.
  for (const std::uint64_t size : {std::uint64_t{1} << 40, std::uint64_t{1} << 20}) {
    const std::string copy = damage(first_object + 8, size, 8);
    const std::string error = read_everything(copy);
    CAPTURE(size);
    CAPTURE(error);
    CHECK(error.starts_with(copy + ": cannot read attribute 'format' of '/': "));
    CHECK(error.find('\n') == std::string::npos);
  }
  // Then every byte of the headers of the collection and its first two
  // objects ('format', 11 bytes, and the first token), flipped: a one-line
  // error naming the file, or strings (damaged text is still text).
  std::vector<std::size_t> offsets;
  for (std::size_t offset = heap; offset < first_object + 16; ++offset) offsets.push_back(offset);
  for (std::size_t offset = first_object + 32; offset < first_object + 48; ++offset) offsets.push_back(offset);
  for (const std::size_t offset : offsets) {
    std::string damaged = bytes;
    damaged[offset] = static_cast<char>(damaged[offset] ^ 0xff);
    const std::string copy = dir.write("flipped.h5", damaged);
    const std::string error = read_everything(copy);
    CAPTURE(offset - heap);
    CAPTURE(error);
    if (!error.empty()) {
      CHECK(error.starts_with(copy + ": "));
      CHECK(error.find('\n') == std::string::npos);
    }
  }
}
