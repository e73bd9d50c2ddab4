// Files: created atomically or opened read-only; format attributes; listings
// and names of types and shapes for people.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

#include "hdf5_detail.h"
#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/io/hdf5.h"

namespace tfm::hdf5 {

using detail::check;
using detail::check_id;
using detail::fail;
using detail::hdf5_reason;

File::File(Handle file, Handle root, std::string path, std::string temp_path)
    : Group(std::move(root)), file_(std::move(file)), path_(std::move(path)), temp_path_(std::move(temp_path)) {}

File::File(File&& other) noexcept
    : Group(std::move(other.handle_)),
      file_(std::move(other.file_)),
      path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)) {
  other.temp_path_.clear();
}

File::~File() {
  handle_.close();
  file_.close();
  if (!temp_path_.empty()) std::remove(temp_path_.c_str());
}

File File::create(const std::string& path) {
  silence_errors();
  std::string temp = temp_name_for(path);
  // Claim the name like AtomicFile does, so concurrent writers never collide.
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(path, "cannot create", errno);
  ::close(fd);
  // Closing the file closes every object still open in it (STRONG), so the
  // data is complete on disk before commit() renames it.
  Handle access(H5Pcreate(H5P_FILE_ACCESS), path, "property list");
  H5Pset_fclose_degree(access.id(), H5F_CLOSE_STRONG);
  // The 1.8 file format and later: superblock, object headers (attributes
  // included), link tables and B-tree nodes carry checksums, so a file damaged
  // after writing fails to open or read with a checksum error instead of being
  // decoded. (Fuzzing found corrupt 1.6-format headers that make HDF5 1.10
  // crash in H5Aiterate2 or allocate gigabytes.) Readable by HDF5 >= 1.8, h5py.
  H5Pset_libver_bounds(access.id(), H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  Handle creation(H5Pcreate(H5P_FILE_CREATE), path, "property list");
  detail::keep_metadata_compact(creation.id());
  H5Pset_obj_track_times(creation.id(), 0);  // the root group's: same input, same bytes
  const hid_t id = H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, creation.id(), access.id());
  if (id < 0) {
    const std::string reason = hdf5_reason();
    std::remove(temp.c_str());
    throw IoError(path, "cannot create HDF5 file: " + reason);
  }
  Handle file(id, path, "/");
  Handle root(check_id(H5Gopen2(id, "/", H5P_DEFAULT), path, "cannot open '/'"), path, "/");
  return File(std::move(file), std::move(root), path, temp);
}

File File::open(const std::string& path) {
  silence_errors();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(path, "cannot open", errno);
  ::close(fd);
  if (H5Fis_hdf5(path.c_str()) <= 0) throw IoError(path, "not an HDF5 file");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) throw IoError(path, "cannot open HDF5 file (truncated or corrupt?): " + hdf5_reason());
  Handle file(id, path, "/");
  Handle root(check_id(H5Gopen2(id, "/", H5P_DEFAULT), path, "cannot open '/'"), path, "/");
  return File(std::move(file), std::move(root), path, "");
}

void File::commit() {
  if (temp_path_.empty()) throw IoError(path_, "commit of a file not open for writing");
  handle_.close();
  check(H5Fflush(file_.id(), H5F_SCOPE_GLOBAL), path_, "cannot write");
  const hid_t id = file_.id();
  if (H5Fclose(id) < 0) fail(path_, "cannot write");
  file_ = Handle();
  commit_file(temp_path_, path_);
  temp_path_.clear();
}

void write_format(File& file, std::string_view format, std::int64_t version) {
  file.write_string_attribute("format", format);
  file.write_int_attribute("format_version", version);
}

std::string format_of(const File& file) {
  if (!file.has_attribute("format") || file.attribute_type("format") != AttributeType::kString) return "";
  return file.read_string_attribute("format");
}

void check_format(const File& file, std::string_view format, std::int64_t version) {
  check_format(file, format_of(file), format, version);
}

void check_format(const File& file, std::string_view found, std::string_view format, std::int64_t version) {
  const std::string expected = fmt::format("expected a {} file (format_version {})", format, version);
  if (found.empty())
    throw InputError(file.path(), 0, expected + ", found an HDF5 file without a 'format' attribute");
  if (found != format) throw InputError(file.path(), 0, fmt::format("{}, found {}", expected, found));
  if (!file.has_attribute("format_version") || file.attribute_type("format_version") != AttributeType::kInt)
    throw InputError(file.path(), 0, expected + ", found no integer 'format_version'");
  const std::int64_t found_version = file.read_int_attribute("format_version");
  if (found_version != version)
    throw InputError(file.path(), 0, fmt::format("{}, found format_version {}", expected, found_version));
}

std::string_view type_name(DataType type) {
  switch (type) {
    case DataType::kFloat32: return "float32";
    case DataType::kUInt8: return "uint8";
    case DataType::kUInt32: return "uint32";
    case DataType::kUInt64: return "uint64";
    case DataType::kInt64: return "int64";
    case DataType::kString: return "string";
    case DataType::kOther: break;
  }
  return "other";
}

std::string shape_text(const Shape& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

namespace {
void describe_attributes(const Object& object, std::string& out) {
  const auto names = object.attribute_names();
  if (names.empty()) return;
  out += fmt::format("attributes of {}:\n", object.name());
  for (const auto& name : names) out += fmt::format("  {}: {}\n", name, object.attribute_text(name));
}

// Groups may link to an ancestor (a hard-link cycle: legal HDF5, and what a
// damaged file can look like); our files nest 3 deep, so a walk stops at 32.
constexpr int kMaxGroupDepth = 32;
void check_depth(const Group& group, int depth) {
  if (depth > kMaxGroupDepth)
    throw InputError(group.file(), 0,
                     fmt::format("groups nested more than {} deep at '{}' (a link cycle?)", kMaxGroupDepth, group.name()));
}

// Attributes of `group` and everything below it, then its datasets.
void describe_group(const Group& group, std::string& out, std::string& datasets, int depth = 0) {
  check_depth(group, depth);
  describe_attributes(group, out);
  for (const auto& member : group.members()) {
    if (group.is_group(member)) {
      describe_group(group.open_group(member), out, datasets, depth + 1);
    } else if (group.is_dataset(member)) {
      Dataset dataset = group.open_dataset(member);
      describe_attributes(dataset, out);
      datasets += fmt::format("  {:<24} {:<8} {}\n", dataset.name(), type_name(dataset.type()),
                              shape_text(dataset.shape()));
    }
  }
}

void collect_datasets(const Group& group, std::vector<DatasetEntry>& out, int depth = 0) {
  check_depth(group, depth);
  for (const auto& member : group.members()) {
    if (group.is_group(member)) {
      collect_datasets(group.open_group(member), out, depth + 1);
    } else if (group.is_dataset(member)) {
      Dataset dataset = group.open_dataset(member);
      out.push_back({dataset.name(), dataset.type(), dataset.shape()});
    }
  }
}
}  // namespace

std::string describe(const File& file) {
  std::string out = fmt::format("file: {}\n", file.path()), datasets;
  describe_group(file, out, datasets);
  return out + "datasets:\n" + datasets;
}

std::vector<DatasetEntry> list_datasets(const Group& group) {
  std::vector<DatasetEntry> entries;
  collect_datasets(group, entries);
  return entries;
}

}  // namespace tfm::hdf5
