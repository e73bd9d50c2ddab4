#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "test_util.h"
#include "tfm/core/error.h"
#include "tfm/io/hdf5.h"

using namespace tfm;
using tfm::test::TempDir;
using tfm::test::error_of;
namespace fs = std::filesystem;

TEST_CASE("hdf5 round-trips every dataset type, attributes and groups") {
  TempDir dir("tfm_io_test_");
  const std::string path = dir.file("all.h5");
  const std::vector<float> floats{0.5f, -1.25f, 3e-8f, 1e30f, 0.0f, 7.0f};
  const std::vector<std::uint32_t> u32{0, 1, 4294967295u};
  const std::vector<std::uint64_t> u64{0, 1ull << 40, 18446744073709551615ull};
  const std::vector<std::int64_t> i64{-9223372036854775807ll, 0, 42};
  const std::vector<std::uint8_t> bytes{0, 255, 10, 0, 13};  // a binary blob, NULs included
  const std::vector<std::string> strings{"<pad>", "", "Grüße", "日本語 🙂", "a@@"};
  {
    auto file = hdf5::File::create(path);
    hdf5::write_format(file, "tfm-test", 3);
    file.write("params/w", floats, {2, 3});
    file.write("u32", u32);
    file.write("deep/er/u64", u64, {}, hdf5::compressed(2, 6));
    file.write("i64", i64);
    file.write("state", bytes, {}, hdf5::compressed());
    file.write_strings("vocab", strings, hdf5::compressed(2));
    auto group = file.create_group("config");
    group.write_int_attribute("layers", -6);
    group.write_double_attribute("dropout", 0.1);
    group.write_string_attribute("name", "base ✓");
    group.write_int_attribute("layers", 12);  // replaces
    file.commit();
  }
  auto file = hdf5::File::open(path);
  hdf5::check_format(file, "tfm-test", 3);
  CHECK(file.read<float>("params/w") == floats);
  CHECK(file.shape("/params/w") == hdf5::Shape{2, 3});
  CHECK(file.open_dataset("params/w").type() == hdf5::DataType::kFloat32);
  CHECK(file.read<std::uint32_t>("u32") == u32);
  CHECK(file.read<std::uint64_t>("deep/er/u64") == u64);
  CHECK(file.open_dataset("deep/er/u64").type() == hdf5::DataType::kUInt64);
  CHECK(file.read<std::int64_t>("i64") == i64);
  CHECK(file.read<std::uint8_t>("state") == bytes);
  CHECK(file.open_dataset("state").type() == hdf5::DataType::kUInt8);
  CHECK(file.read_strings("vocab") == strings);
  CHECK(file.members() == std::vector<std::string>{"config", "deep", "i64", "params", "state", "u32", "vocab"});
  CHECK(file.is_group("deep/er"));
  CHECK_FALSE(file.is_group("u32"));
  CHECK_FALSE(file.contains("deep/nothing/here"));
  auto config = file.open_group("config");
  CHECK(config.name() == "/config");
  CHECK(config.read_int_attribute("layers") == 12);
  CHECK(config.read_double_attribute("dropout") == 0.1);
  CHECK(config.read_double_attribute("layers") == 12.0);
  CHECK(config.read_string_attribute("name") == "base ✓");
  CHECK(config.attribute_names() == std::vector<std::string>{"dropout", "layers", "name"});
  CHECK(config.attribute_text("layers") == "12");
  CHECK_THROWS_AS(config.read_int_attribute("name"), IoError);
  CHECK_THROWS_AS(config.read_int_attribute("missing"), IoError);
  const auto entries = hdf5::list_datasets(file);
  REQUIRE(entries.size() == 6);
  CHECK(entries[0].name == "/deep/er/u64");
  CHECK(entries[2].shape == hdf5::Shape{2, 3});
  CHECK(hdf5::shape_text(entries[2].shape) == "[2, 3]");
}

TEST_CASE("hdf5 reads and writes row ranges of chunked, compressed datasets") {
  TempDir dir("tfm_io_test_");
  const std::string path = dir.file("rows.h5");
  std::vector<std::uint32_t> values(10000);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::uint32_t>(i * 7 % 1000);
  {
    auto file = hdf5::File::create(path);
    auto data = file.create_dataset<std::uint32_t>("tokens", {values.size()}, hdf5::compressed(512));
    // Written in uneven slices, as a streaming writer does.
    for (std::size_t begin = 0; begin < values.size(); begin += 3001) {
      const std::size_t count = std::min<std::size_t>(3001, values.size() - begin);
      data.write_rows(begin, std::span<const std::uint32_t>(values.data() + begin, count));
    }
    std::vector<float> matrix(4 * 3);
    for (std::size_t i = 0; i < matrix.size(); ++i) matrix[i] = static_cast<float>(i);
    file.write("matrix", matrix, {4, 3}, hdf5::compressed(1));
    file.write("empty", std::vector<std::uint64_t>{}, {}, hdf5::compressed());
    file.commit();
  }
  auto file = hdf5::File::open(path);
  auto tokens = file.open_dataset("tokens");
  CHECK(tokens.rows() == values.size());
  std::vector<std::uint32_t> part;
  tokens.read_rows(4990, 20, part);
  CHECK(part == std::vector<std::uint32_t>(values.begin() + 4990, values.begin() + 5010));
  tokens.read_rows(10000, 0, part);
  CHECK(part.empty());
  CHECK_THROWS_AS(tokens.read_rows(9990, 11, part), IoError);
  std::vector<float> rows;
  file.open_dataset("matrix").read_rows(1, 2, rows);
  CHECK(rows == std::vector<float>{3, 4, 5, 6, 7, 8});
  // Straight into a buffer of exactly the rows' size, nothing around it touched.
  std::vector<float> buffer(8, -1.0f);
  file.open_dataset("matrix").read_rows_into(2, 2, std::span<float>(buffer.data() + 1, 6));
  CHECK(buffer == std::vector<float>{-1, 6, 7, 8, 9, 10, 11, -1});
  CHECK_THROWS_AS(file.open_dataset("matrix").read_rows_into(2, 2, std::span<float>(buffer.data(), 5)), IoError);
  CHECK_THROWS_AS(file.open_dataset("matrix").read_rows_into(3, 2, std::span<float>(buffer.data(), 6)), IoError);
  CHECK(file.read<std::uint64_t>("empty").empty());
  CHECK(file.shape("empty") == hdf5::Shape{0});
}

TEST_CASE("hdf5 files appear only when committed") {
  TempDir dir("tfm_io_test_");
  const std::string path = dir.file("atomic.h5");
  {
    auto file = hdf5::File::create(path);
    file.write("x", std::vector<float>{1, 2});
    CHECK_FALSE(fs::exists(path));
  }
  CHECK(fs::is_empty(dir.path));  // no final file, no temporary left behind
  {
    auto file = hdf5::File::create(path);
    file.write("x", std::vector<float>{1, 2});
    file.commit();
  }
  CHECK(fs::exists(path));
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
  CHECK(hdf5::File::open(path).read<float>("x") == std::vector<float>{1, 2});
}

// Fuzzing found damaged object headers of the 1.6 format on which HDF5 1.10
// crashes (H5Aiterate2) or allocates gigabytes; our files use the 1.8 format,
// whose metadata is checksummed, with attributes and links kept in the
// (checksummed) object headers.
TEST_CASE("hdf5 metadata is checksummed: a damaged header is an error, not data") {
  TempDir dir("tfm_io_test_");
  const std::string path = dir.file("sums.h5");
  {
    auto file = hdf5::File::create(path);
    for (int i = 0; i < 20; ++i) file.write_int_attribute("attribute" + std::to_string(i), 1000 + i);
    file.write("x", std::vector<float>{1, 2});
    file.commit();
  }
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  REQUIRE(bytes.size() > 16);
  CHECK(bytes[8] >= 2);  // superblock version 2 or 3: checksummed
  // The twentieth attribute's name sits in the root group's object header.
  const std::size_t name = bytes.find("attribute19");
  REQUIRE(name != std::string::npos);
  for (const std::size_t offset : {std::size_t{12}, name + 3}) {
    std::string damaged = bytes;
    damaged[offset] ^= 0x10;
    const std::string copy = dir.write("damaged.h5", damaged);
    const std::string error = tfm::test::error_of([&] {
      auto file = hdf5::File::open(copy);
      file.attribute_names();
    });
    CAPTURE(offset);
    CHECK(error.starts_with(copy + ": "));
    CHECK(error.find('\n') == std::string::npos);
  }
}

// Fuzzing found damaged chunk sizes in a 1.8-format chunk index (a version 1
// B-tree, not checksummed) on which HDF5 allocated 4 GB before failing, or
// crashed in its checksum filter.
TEST_CASE("hdf5 refuses a chunk whose stored size cannot be right") {
  TempDir dir("tfm_io_test_");
  const std::string path = dir.file("chunks.h5");
  std::vector<std::uint64_t> values(1000);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = i * i;
  {
    auto file = hdf5::File::create(path);
    file.write("offsets", values, {}, hdf5::compressed(400));
    file.commit();
  }
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // A raw-data B-tree node: "TREE", type 1, level, entries (2 bytes), two
  // sibling addresses (8 bytes each), then the first key: the chunk's size.
  const std::size_t node = bytes.find("TREE\x01");
  REQUIRE(node != std::string::npos);
  const std::size_t first_size = node + 24;
  std::uint32_t stored = 0;
  std::memcpy(&stored, bytes.data() + first_size, 4);
  REQUIRE(stored > 0);
  REQUIRE(stored < bytes.size());
  std::string damaged = bytes;
  const std::uint32_t huge = 0xffffffffu;
  std::memcpy(damaged.data() + first_size, &huge, 4);
  const std::string copy = dir.write("damaged.h5", damaged);
  const auto file = hdf5::File::open(copy);
  const std::string want = fmt::format(
      "{}: cannot read '/offsets': its chunk at row 0 claims 4294967295 bytes, more than the whole file ({} bytes): "
      "the file is damaged",
      copy, damaged.size());
  CHECK(error_of([&] { file.read<std::uint64_t>("offsets"); }) == want);
  std::vector<std::uint64_t> last;
  CHECK(error_of([&] { file.open_dataset("offsets").read_rows(0, 1, last); }) == want);
  // Chunks the read does not touch are not looked at: the last rows still read.
  file.open_dataset("offsets").read_rows(999, 1, last);
  CHECK(last == std::vector<std::uint64_t>{999 * 999});
  // Below the 4 bytes of its Fletcher-32 checksum, HDF5 read out of bounds.
  for (const std::uint32_t tiny : {1u, 3u}) {
    std::memcpy(damaged.data() + first_size, &tiny, 4);
    const std::string short_copy = dir.write("short.h5", damaged);
    CAPTURE(tiny);
    CHECK(error_of([&] { hdf5::File::open(short_copy).read<std::uint64_t>("offsets"); }) ==
          fmt::format("{}: cannot read '/offsets': its chunk at row 0 holds {} bytes, too few for its checksum: the "
                      "file is damaged",
                      short_copy, tiny));
  }
  // A filter mask (the 4 bytes after the size) that skips decompression (the
  // second filter: shuffle, deflate, Fletcher-32) made HDF5 copy a whole
  // chunk out of the compressed bytes.
  damaged = bytes;
  const std::uint32_t skip_deflate = 2;
  std::memcpy(damaged.data() + first_size + 4, &skip_deflate, 4);
  const std::string skipping = dir.write("skipping.h5", damaged);
  CHECK(error_of([&] { hdf5::File::open(skipping).read<std::uint64_t>("offsets"); }) ==
        fmt::format("{}: cannot read '/offsets': its chunk at row 0 skips a filter but holds {} bytes, fewer than "
                    "the chunk's 3204: the file is damaged",
                    skipping, stored));
}

// Fuzzing found a damaged file whose groups link back to an ancestor, which
// the listing walked deeper and deeper; a hard-link cycle is legal HDF5 too.
TEST_CASE("hdf5 listings stop at a group that contains its ancestor") {
  TempDir dir("tfm_io_test_");
  const std::string path = dir.file("cycle.h5");
  {
    auto file = hdf5::File::create(path);
    auto group = file.create_group("a/b");
    group.write("x", std::vector<float>{1});
    REQUIRE(H5Lcreate_hard(file.id(), "/a", group.id(), "loop", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    file.commit();
  }
  const auto file = hdf5::File::open(path);
  const std::string want = path + ": groups nested more than 32 deep at ";
  CHECK(tfm::test::error_of([&] { hdf5::describe(file); }).starts_with(want));
  CHECK(tfm::test::error_of([&] { hdf5::list_datasets(file); }).starts_with(want));
}

TEST_CASE("hdf5 errors are one line naming the file and object") {
  TempDir dir("tfm_io_test_");
  const std::string good = dir.file("good.h5");
  {
    auto file = hdf5::File::create(good);
    hdf5::write_format(file, "tfm-model", 1);
    std::vector<std::uint32_t> big(200000);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint32_t>(i * 2654435761u);
    file.write("big", big, {}, hdf5::compressed(4096));
    file.commit();
  }
  CHECK(error_of([&] { hdf5::File::open(dir.file("missing.h5")); })
            .find("missing.h5: cannot open: No such file or directory") != std::string::npos);

  const std::string text = dir.file("text.h5");
  std::ofstream(text) << "not hdf5\n";
  CHECK(error_of([&] { hdf5::File::open(text); }) == text + ": not an HDF5 file");

  const std::string truncated = dir.file("truncated.h5");
  fs::copy_file(good, truncated);
  fs::resize_file(truncated, fs::file_size(good) / 2);
  const std::string message = error_of([&] {
    auto file = hdf5::File::open(truncated);
    file.read<std::uint32_t>("big");
  });
  CHECK(message.starts_with(truncated + ": "));
  CHECK(message.find('\n') == std::string::npos);

  // Flipped bytes inside chunk data: caught by the checksum (or inflate).
  const std::string corrupt = dir.file("corrupt.h5");
  fs::copy_file(good, corrupt);
  {
    std::fstream bytes(corrupt, std::ios::in | std::ios::out | std::ios::binary);
    bytes.seekp(static_cast<std::streamoff>(fs::file_size(good) / 2));
    bytes.write("\x5a\xa5\x5a\xa5", 4);
  }
  const std::string corrupt_message = error_of([&] { hdf5::File::open(corrupt).read<std::uint32_t>("big"); });
  CHECK(corrupt_message.starts_with(corrupt + ": cannot read '/big': "));

  auto file = hdf5::File::open(good);
  CHECK(error_of([&] { hdf5::check_format(file, "tfm-batches", 1); }) ==
        good + ": expected a tfm-batches file (format_version 1), found tfm-model");
  CHECK(error_of([&] { hdf5::check_format(file, "tfm-model", 2); }) ==
        good + ": expected a tfm-model file (format_version 2), found format_version 1");
  CHECK(error_of([&] { file.open_dataset("params/nothing"); }) == good + ": no dataset '/params/nothing'");
  CHECK_THROWS_AS(hdf5::check_format(file, "tfm-batches", 1), InputError);
  CHECK(error_of([&] { file.read_strings("big"); }).find("'/big'") != std::string::npos);
}

TEST_CASE("hdf5 without format attributes is named as such") {
  TempDir dir("tfm_io_test_");
  const std::string path = dir.file("bare.h5");
  {
    auto file = hdf5::File::create(path);
    file.commit();
  }
  auto file = hdf5::File::open(path);
  CHECK(error_of([&] { hdf5::check_format(file, "tfm-batches", 1); }) ==
        path + ": expected a tfm-batches file (format_version 1), found an HDF5 file without a 'format' attribute");
}
