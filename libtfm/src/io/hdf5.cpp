#include "tfm/io/hdf5.h"

#include <algorithm>

#include <fmt/format.h>

#include "tfm/core/error.h"
#include "hdf5_detail.h"

namespace tfm::hdf5 {

namespace detail {

// The most specific message on HDF5's error stack ("truncated file: eof = 96, ..."),
// read right after a failed call, before another call clears it.
std::string hdf5_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* error, void* data) -> herr_t {
        auto* out = static_cast<std::string*>(data);
        if (n == 0 && error->desc) *out = error->desc;
        return 0;
      },
      &reason);
  // A failed system call's message spans lines and names internals ("file
  // write failed: time = ...\n, filename = ..., error message = 'File too
  // large', buf = ..."): its first words and the system's message remain.
  const std::string system_marker = "error message = '";
  if (const std::size_t at = reason.find(system_marker); at != std::string::npos) {
    const std::size_t begin = at + system_marker.size();
    reason = reason.substr(0, reason.find(": time =")) + ": " + reason.substr(begin, reason.find('\'', begin) - begin);
  }
  std::replace(reason.begin(), reason.end(), '\n', ' ');
  return reason.empty() ? "HDF5 error" : reason;
}

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw IoError(file, fmt::format("{}: {}", what, hdf5_reason()));
}

hid_t check_id(hid_t id, const std::string& file, const std::string& what) {
  if (id < 0) fail(file, what);
  return id;
}

void check(herr_t status, const std::string& file, const std::string& what) {
  if (status < 0) fail(file, what);
}

void keep_metadata_compact(hid_t group_creation) {
  // Attributes and links stay in the group's object header, which carries a
  // checksum, instead of moving to a fractal heap (none) past 8 of them.
  H5Pset_attr_phase_change(group_creation, 64, 56);
  H5Pset_link_phase_change(group_creation, 4096, 4000);
}

Handle open_attribute(const Object& object, const std::string& attribute) {
  if (!object.has_attribute(attribute))
    throw IoError(object.file(), fmt::format("'{}' has no attribute '{}'", object.name(), attribute));
  return Handle(check_id(H5Aopen(object.id(), attribute.c_str(), H5P_DEFAULT), object.file(),
                         fmt::format("cannot open attribute '{}' of '{}'", attribute, object.name())),
                object.file(), attribute);
}

void write_attribute(Object& object, const std::string& attribute, hid_t type, const void* value) {
  if (object.has_attribute(attribute)) H5Adelete(object.id(), attribute.c_str());
  const std::string what = fmt::format("cannot write attribute '{}' of '{}'", attribute, object.name());
  Handle space(H5Screate(H5S_SCALAR), object.file(), "dataspace");
  Handle handle(check_id(H5Acreate2(object.id(), attribute.c_str(), type, space.id(), H5P_DEFAULT,
                                    H5P_DEFAULT),
                         object.file(), what),
                object.file(), attribute);
  check(H5Awrite(handle.id(), type, value), object.file(), what);
}

}  // namespace detail

namespace {

using detail::check;
using detail::check_id;
using detail::fail;
using detail::hdf5_reason;
using detail::open_attribute;
using detail::write_attribute;

template <class T>
hid_t native_type();
template <>
hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <>
hid_t native_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }
template <>
hid_t native_type<std::uint32_t>() { return H5T_NATIVE_UINT32; }
template <>
hid_t native_type<std::uint64_t>() { return H5T_NATIVE_UINT64; }
template <>
hid_t native_type<std::int64_t>() { return H5T_NATIVE_INT64; }

Handle simple_space(const Shape& shape, const std::string& file) {
  if (shape.empty()) return Handle(H5Screate(H5S_SCALAR), file, "dataspace");
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  return Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), file,
                "dataspace");
}

Shape space_shape(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return Shape(dims.begin(), dims.end());
}

Handle creation_properties(const Shape& shape, const Storage& storage, const std::string& file) {
  Handle plist(H5Pcreate(H5P_DATASET_CREATE), file, "property list");
  H5Pset_obj_track_times(plist.id(), 0);  // same input, same bytes
  if (storage.chunk_rows == 0 || shape.empty() || shape[0] == 0) return plist;
  std::vector<hsize_t> chunk(shape.begin(), shape.end());
  chunk[0] = std::min<hsize_t>(storage.chunk_rows, shape[0]);
  for (auto& dim : chunk) dim = std::max<hsize_t>(dim, 1);
  check(H5Pset_chunk(plist.id(), static_cast<int>(chunk.size()), chunk.data()), file, "cannot chunk");
  if (storage.shuffle) H5Pset_shuffle(plist.id());
  if (storage.deflate > 0) check(H5Pset_deflate(plist.id(), storage.deflate), file, "cannot compress");
  if (storage.checksum) check(H5Pset_fletcher32(plist.id()), file, "cannot checksum");
  return plist;
}

// Link creation that makes missing intermediate groups ("src/tokens").
Handle link_properties(const std::string& file) {
  Handle plist(H5Pcreate(H5P_LINK_CREATE), file, "property list");
  H5Pset_create_intermediate_group(plist.id(), 1);
  return plist;
}

// Reads a numeric attribute converted to `type`, after checking its class.
void read_numeric_attribute(const Object& object, const std::string& attribute, AttributeType want,
                            hid_t type, void* value) {
  if (object.attribute_type(attribute) != want)
    throw IoError(object.file(), fmt::format("attribute '{}' of '{}' is not {}", attribute, object.name(),
                                             want == AttributeType::kInt ? "an integer" : "a number"));
  Handle handle = open_attribute(object, attribute);
  check(H5Aread(handle.id(), type, value), object.file(),
        fmt::format("cannot read attribute '{}' of '{}'", attribute, object.name()));
}

// A chunk's stored size and filter mask come from the chunk index, which
// files of the 1.8 format do not checksum, and HDF5 trusts them: it allocates
// the stored size before reading (a damaged size asked for gigabytes), its
// Fletcher-32 filter reads the checksum at size - 4 (far out of bounds below
// 4 bytes), and a mask that skips decompression makes it copy a whole chunk's
// bytes out of the smaller compressed buffer. All found by fuzzing. So the
// chunks a read will touch are checked first.
struct ChunkFilters {
  std::vector<H5Z_filter_t> ids;  // in pipeline order: bit i of a chunk's mask skips ids[i]
  hsize_t logical_bytes = 0;      // one whole chunk, unfiltered
};

void check_chunk(hid_t dataset, const std::vector<hsize_t>& offset, const ChunkFilters& filters, hsize_t file_size,
                 const std::string& file, const std::string& what) {
  unsigned skipped = 0;
  haddr_t address = 0;
  hsize_t stored = 0;
  check(H5Dget_chunk_info_by_coord(dataset, offset.data(), &skipped, &address, &stored), file, what);
  if (stored == 0) return;  // not written: HDF5 gives the fill value
  const auto damaged = [&](const std::string& why) {
    return IoError(file, fmt::format("{}: its chunk at row {} {}: the file is damaged", what,
                                     offset.empty() ? 0 : offset[0], why));
  };
  if (stored > file_size)
    throw damaged(fmt::format("claims {} bytes, more than the whole file ({} bytes)", stored, file_size));
  constexpr hsize_t kChecksumBytes = 4;
  hsize_t checksum_bytes = 0;
  bool any_skipped = false;
  for (std::size_t i = 0; i < filters.ids.size(); ++i) {
    const bool skip = i < 32 && (skipped >> i & 1u);
    any_skipped = any_skipped || skip;
    if (filters.ids[i] == H5Z_FILTER_FLETCHER32 && !skip) checksum_bytes = kChecksumBytes;
  }
  if (stored < checksum_bytes)
    throw damaged(fmt::format("holds {} bytes, too few for its checksum", stored));
  // A filter is skipped only where it did not help (an optional one that
  // failed): then the chunk is stored whole.
  if (any_skipped && stored < filters.logical_bytes + checksum_bytes)
    throw damaged(fmt::format("skips a filter but holds {} bytes, fewer than the chunk's {}", stored,
                              filters.logical_bytes + checksum_bytes));
}

void check_chunks(hid_t dataset, const std::vector<hsize_t>& start, const std::vector<hsize_t>& counts,
                  const std::string& file, const std::string& what) {
  Handle creation(H5Dget_create_plist(dataset), file, "property list of a dataset");
  if (H5Pget_layout(creation.id()) != H5D_CHUNKED) return;
  const int rank = static_cast<int>(start.size());
  std::vector<hsize_t> chunk(start.size());
  if (H5Pget_chunk(creation.id(), rank, chunk.data()) != rank ||
      std::find(chunk.begin(), chunk.end(), hsize_t{0}) != chunk.end())
    throw IoError(file, what + ": its chunk shape does not match its shape (the file is damaged)");
  ChunkFilters filters;
  for (int i = 0, n = H5Pget_nfilters(creation.id()); i < n; ++i) {
    unsigned flags = 0;
    std::size_t values = 0;
    filters.ids.push_back(
        H5Pget_filter2(creation.id(), static_cast<unsigned>(i), &flags, &values, nullptr, 0, nullptr, nullptr));
  }
  Handle type(H5Dget_type(dataset), file, "type of a dataset");
  filters.logical_bytes = H5Tget_size(type.id());
  for (const hsize_t dim : chunk) filters.logical_bytes *= dim;
  Handle file_handle(H5Iget_file_id(dataset), file, "file of a dataset");
  hsize_t file_size = 0;
  check(H5Fget_filesize(file_handle.id(), &file_size), file, what);
  // Every chunk that the selection [start, start + counts) overlaps, as an
  // odometer over the chunk grid.
  std::vector<hsize_t> first(start.size()), last(start.size()), offset(start.size());
  for (std::size_t d = 0; d < start.size(); ++d) {
    if (counts[d] == 0) return;
    first[d] = start[d] / chunk[d];
    last[d] = (start[d] + counts[d] - 1) / chunk[d];
  }
  std::vector<hsize_t> index = first;
  while (true) {
    for (std::size_t d = 0; d < index.size(); ++d) offset[d] = index[d] * chunk[d];
    check_chunk(dataset, offset, filters, file_size, file, what);
    std::size_t d = index.size();
    while (d > 0 && index[d - 1] == last[d - 1]) {
      index[d - 1] = first[d - 1];
      --d;
    }
    if (d == 0) return;
    ++index[d - 1];
  }
}

std::string join_path(const std::string& base, const std::string& path) {
  if (path.starts_with('/')) return path;
  return base == "/" ? "/" + path : base + "/" + path;
}

}  // namespace

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

namespace {
// HDF5 closes every file still open at exit; one whose write failed (a full
// disk) makes it crash there (H5F__close_cb in 1.10). Our files are complete
// once committed, and an uncommitted one is dropped anyway: no cleanup at exit.
[[maybe_unused]] const bool kNoCleanupAtExit = H5dont_atexit() >= 0;
}  // namespace

Storage compressed(std::uint64_t chunk_rows, int level) { return Storage{chunk_rows, level, true, true}; }

// ---- Handle

Handle::Handle(hid_t id, std::string file, std::string name)
    : id_(id), file_(std::move(file)), name_(std::move(name)) {
  if (id_ < 0) fail(file_, fmt::format("cannot create {}", name_));
}

Handle::~Handle() { close(); }

Handle::Handle(Handle&& other) noexcept
    : id_(other.id_), file_(std::move(other.file_)), name_(std::move(other.name_)) {
  other.id_ = H5I_INVALID_HID;
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    close();
    id_ = other.id_;
    file_ = std::move(other.file_);
    name_ = std::move(other.name_);
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::close() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;  // already closed with its file
  }
  id_ = H5I_INVALID_HID;
}

// ---- Object: attributes

bool Object::has_attribute(const std::string& attribute) const {
  return H5Aexists(id(), attribute.c_str()) > 0;
}

std::vector<std::string> Object::attribute_names() const {
  std::vector<std::string> names;
  H5Aiterate2(
      id(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
      },
      &names);
  return names;
}

AttributeType Object::attribute_type(const std::string& attribute) const {
  Handle handle = open_attribute(*this, attribute);
  Handle type(H5Aget_type(handle.id()), file(), "attribute type");
  switch (H5Tget_class(type.id())) {
    case H5T_STRING: return AttributeType::kString;
    case H5T_INTEGER: return AttributeType::kInt;
    case H5T_FLOAT: return AttributeType::kFloat;
    default: return AttributeType::kOther;
  }
}

void Object::write_int_attribute(const std::string& attribute, std::int64_t value) {
  write_attribute(*this, attribute, H5T_NATIVE_INT64, &value);
}

void Object::write_double_attribute(const std::string& attribute, double value) {
  write_attribute(*this, attribute, H5T_NATIVE_DOUBLE, &value);
}

std::int64_t Object::read_int_attribute(const std::string& attribute) const {
  std::int64_t value = 0;
  read_numeric_attribute(*this, attribute, AttributeType::kInt, H5T_NATIVE_INT64, &value);
  return value;
}

double Object::read_double_attribute(const std::string& attribute) const {
  double value = 0;
  AttributeType kind = attribute_type(attribute);
  read_numeric_attribute(*this, attribute, kind == AttributeType::kInt ? kind : AttributeType::kFloat,
                         H5T_NATIVE_DOUBLE, &value);
  return value;
}

std::string Object::attribute_text(const std::string& attribute) const {
  switch (attribute_type(attribute)) {
    case AttributeType::kString: return read_string_attribute(attribute);
    case AttributeType::kInt: return std::to_string(read_int_attribute(attribute));
    case AttributeType::kFloat: return fmt::format("{}", read_double_attribute(attribute));
    case AttributeType::kOther: break;
  }
  return "(value of another type)";
}

// ---- Dataset

Shape Dataset::shape() const {
  Handle space(H5Dget_space(id()), file(), "dataspace of " + name());
  return space_shape(space.id());
}

DataType Dataset::type() const {
  Handle type(H5Dget_type(id()), file(), "type of " + name());
  const hid_t t = type.id();
  switch (H5Tget_class(t)) {
    case H5T_STRING: return DataType::kString;
    case H5T_FLOAT: return H5Tget_size(t) == 4 ? DataType::kFloat32 : DataType::kOther;
    case H5T_INTEGER:
      if (H5Tget_size(t) == 1 && H5Tget_sign(t) == H5T_SGN_NONE) return DataType::kUInt8;
      if (H5Tget_size(t) == 4 && H5Tget_sign(t) == H5T_SGN_NONE) return DataType::kUInt32;
      if (H5Tget_size(t) == 8) return H5Tget_sign(t) == H5T_SGN_NONE ? DataType::kUInt64 : DataType::kInt64;
      return DataType::kOther;
    default: return DataType::kOther;
  }
}

std::uint64_t Dataset::rows() const {
  const Shape dims = shape();
  return dims.empty() ? 1 : dims[0];
}

std::uint64_t Dataset::row_size() const {
  const Shape dims = shape();
  std::uint64_t size = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) size *= dims[i];
  return size;
}

template <class T>
std::vector<T> Dataset::read() const {
  std::vector<T> out;
  read_rows(0, rows(), out);
  return out;
}

template <class T>
void Dataset::read_rows(std::uint64_t begin, std::uint64_t count, std::vector<T>& out) const {
  out.resize(count * row_size());
  read_rows_into(begin, count, std::span<T>(out));
}

template <class T>
void Dataset::read_rows_into(std::uint64_t begin, std::uint64_t count, std::span<T> out) const {
  const std::string what = fmt::format("cannot read '{}'", name());
  Shape dims = shape();
  if (dims.empty()) dims = {1};
  if (begin > dims[0] || count > dims[0] - begin)
    throw IoError(file(), fmt::format("{}: rows {}..{} outside its {} rows", what, begin, begin + count, dims[0]));
  Handle file_space(H5Dget_space(id()), file(), "dataspace of " + name());
  std::vector<hsize_t> start(dims.size(), 0), counts(dims.begin(), dims.end());
  start[0] = begin;
  counts[0] = count;
  if (shape().size() > 0)
    check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, counts.data(), nullptr),
          file(), what);
  Shape memory_shape(counts.begin(), counts.end());
  Handle memory_space = simple_space(memory_shape, file());
  if (out.size() != count * row_size())
    throw IoError(file(), fmt::format("{}: {} rows of {} values do not fill {}", what, count, row_size(), out.size()));
  if (out.empty()) return;
  check_chunks(id(), start, counts, file(), what);
  check(H5Dread(id(), native_type<T>(), memory_space.id(), file_space.id(), H5P_DEFAULT, out.data()), file(),
        what);
}

template <class T>
void Dataset::write_rows(std::uint64_t begin, std::span<const T> data) {
  const std::string what = fmt::format("cannot write '{}'", name());
  const Shape dims = shape();
  const std::uint64_t per_row = row_size();
  const std::uint64_t count = data.size() / per_row;
  if (dims.empty() || data.size() % per_row != 0 || begin > dims[0] || count > dims[0] - begin)
    throw IoError(file(), fmt::format("{}: {} values at row {} do not fit shape {}", what, data.size(), begin,
                                      shape_text(dims)));
  if (count == 0) return;
  Handle file_space(H5Dget_space(id()), file(), "dataspace of " + name());
  std::vector<hsize_t> start(dims.size(), 0), counts(dims.begin(), dims.end());
  start[0] = begin;
  counts[0] = count;
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, counts.data(), nullptr),
        file(), what);
  Handle memory_space = simple_space(Shape(counts.begin(), counts.end()), file());
  check(H5Dwrite(id(), native_type<T>(), memory_space.id(), file_space.id(), H5P_DEFAULT, data.data()), file(),
        what);
}

// ---- Group

std::string Group::full_name(const std::string& path) const { return join_path(name(), path); }

bool Group::contains(const std::string& path) const {
  // H5Lexists needs every parent to exist, so test each prefix in turn.
  std::size_t end = path.starts_with('/') ? 1 : 0;
  while (end != std::string::npos) {
    end = path.find('/', end + 1);
    const std::string prefix = path.substr(0, end);
    if (prefix == "/" || prefix.empty()) continue;
    if (H5Lexists(id(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

bool Group::is_group(const std::string& path) const { return kind(path) == H5I_GROUP; }

bool Group::is_dataset(const std::string& path) const { return kind(path) == H5I_DATASET; }

int Group::kind(const std::string& path) const {
  if (!contains(path)) return H5I_BADID;
  Handle object(H5Oopen(id(), path.c_str(), H5P_DEFAULT), file(), full_name(path));
  return H5Iget_type(object.id());
}

std::vector<std::string> Group::members() const {
  std::vector<std::string> names;
  check(H5Literate(
            id(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
            [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
              static_cast<std::vector<std::string>*>(data)->emplace_back(name);
              return 0;
            },
            &names),
        file(), fmt::format("cannot list '{}'", name()));
  return names;
}

Group Group::open_group(const std::string& path) const {
  if (!contains(path)) throw IoError(file(), fmt::format("no group '{}'", full_name(path)));
  return Group(Handle(check_id(H5Gopen2(id(), path.c_str(), H5P_DEFAULT), file(),
                               fmt::format("cannot open group '{}'", full_name(path))),
                      file(), full_name(path)));
}

namespace {

Handle group_creation_properties(const std::string& file) {
  Handle creation(H5Pcreate(H5P_GROUP_CREATE), file, "property list");
  H5Pset_obj_track_times(creation.id(), 0);
  detail::keep_metadata_compact(creation.id());
  return creation;
}

// Creates the missing groups above `path` ("src" for "src/tokens") with our
// properties: HDF5's own intermediate groups would record modification
// times in the 1.8 format, and the same input would not give the same bytes.
void create_parents(hid_t group, const std::string& path, const std::string& file) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string parent = path.substr(0, slash);
    if (H5Lexists(group, parent.c_str(), H5P_DEFAULT) > 0) continue;
    Handle creation = group_creation_properties(file);
    Handle(check_id(H5Gcreate2(group, parent.c_str(), H5P_DEFAULT, creation.id(), H5P_DEFAULT), file,
                    fmt::format("cannot create group '{}'", parent)),
           file, parent);
  }
}

}  // namespace

Group Group::create_group(const std::string& path) {
  create_parents(id(), path, file());
  Handle links = link_properties(file());
  Handle creation = group_creation_properties(file());
  return Group(Handle(check_id(H5Gcreate2(id(), path.c_str(), links.id(), creation.id(), H5P_DEFAULT), file(),
                               fmt::format("cannot create group '{}'", full_name(path))),
                      file(), full_name(path)));
}

Dataset Group::open_dataset(const std::string& path) const {
  if (!contains(path)) throw IoError(file(), fmt::format("no dataset '{}'", full_name(path)));
  return Dataset(Handle(check_id(H5Dopen2(id(), path.c_str(), H5P_DEFAULT), file(),
                                 fmt::format("cannot open dataset '{}'", full_name(path))),
                        file(), full_name(path)));
}

template <class T>
Dataset Group::create_dataset(const std::string& path, const Shape& shape, const Storage& storage) {
  Handle space = simple_space(shape, file());
  Handle creation = creation_properties(shape, storage, file());
  create_parents(id(), path, file());
  Handle links = link_properties(file());
  const hid_t dataset = H5Dcreate2(id(), path.c_str(), native_type<T>(), space.id(), links.id(), creation.id(),
                                   H5P_DEFAULT);
  return Dataset(Handle(check_id(dataset, file(), fmt::format("cannot create dataset '{}'", full_name(path))),
                        file(), full_name(path)));
}

template <class T>
Dataset Group::write(const std::string& path, std::span<const T> data, Shape shape, const Storage& storage) {
  if (shape.empty()) shape = {data.size()};
  std::uint64_t elements = 1;
  for (auto dim : shape) elements *= dim;
  if (elements != data.size())
    throw ShapeError(fmt::format("{}: {} values do not fill shape {} of '{}'", file(), data.size(),
                                 shape_text(shape), full_name(path)));
  Dataset dataset = create_dataset<T>(path, shape, storage);
  dataset.write_rows(0, data);
  return dataset;
}

#define TFM_HDF5_INSTANTIATE(T)                                                                        \
  template std::vector<T> Dataset::read<T>() const;                                                   \
  template void Dataset::read_rows<T>(std::uint64_t, std::uint64_t, std::vector<T>&) const;           \
  template void Dataset::read_rows_into<T>(std::uint64_t, std::uint64_t, std::span<T>) const;         \
  template void Dataset::write_rows<T>(std::uint64_t, std::span<const T>);                            \
  template Dataset Group::create_dataset<T>(const std::string&, const Shape&, const Storage&);        \
  template Dataset Group::write<T>(const std::string&, std::span<const T>, Shape, const Storage&);
TFM_HDF5_INSTANTIATE(float)
TFM_HDF5_INSTANTIATE(std::uint8_t)
TFM_HDF5_INSTANTIATE(std::uint32_t)
TFM_HDF5_INSTANTIATE(std::uint64_t)
TFM_HDF5_INSTANTIATE(std::int64_t)
#undef TFM_HDF5_INSTANTIATE

}  // namespace tfm::hdf5
