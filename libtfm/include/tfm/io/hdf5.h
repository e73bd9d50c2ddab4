// A thin RAII layer over the HDF5 C API, for every tfm file (batches, models,
// checkpoints): files written atomically, groups, scalar attributes, typed
// datasets (whole, or row ranges so large arrays are read a slice at a time).
//
// Every failure throws: IoError("<file>: <what> '<object>': <HDF5's reason>")
// for files that cannot be opened, read or written, InputError for a file that
// is readable but not what the caller expected (check_format). HDF5's own
// error-stack printing is switched off, so nothing is ever dumped on stderr.
//
// Handles are move-only and close themselves. A Group or Dataset keeps its
// file open; objects of a File created for writing must not outlive commit().
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tfm::hdf5 {

// Element types tfm stores; kOther is anything else found in a foreign file.
enum class DataType { kFloat32, kUInt8, kUInt32, kUInt64, kInt64, kString, kOther };
// Attribute value kinds.
enum class AttributeType { kString, kInt, kFloat, kOther };

// Dimensions of a dataset, outermost first; {} for a scalar.
using Shape = std::vector<std::uint64_t>;

// "float32", "uint8", "uint32", ..., "string", "other".
std::string_view type_name(DataType type);
// "[3, 4]" (or "[]" for a scalar).
std::string shape_text(const Shape& shape);

// How a new dataset is laid out on disk. Chunks span `chunk_rows` rows of
// dimension 0 (clamped to the row count); deflate needs chunking.
struct Storage {
  std::uint64_t chunk_rows = 0;  // 0 = contiguous, uncompressed
  int deflate = 0;               // zlib level 1-9, 0 = none
  bool shuffle = false;          // byte-shuffle filter before deflate (integers compress better)
  bool checksum = false;         // Fletcher-32 per chunk: corruption is an error, not wrong data
};

// Storage for large arrays: 16 Ki rows a chunk (small enough that reading a
// random row range decompresses little, large enough that compression is as
// good as with bigger chunks), byte-shuffled, deflate level 1 (fast),
// checksummed.
Storage compressed(std::uint64_t chunk_rows = 1 << 14, int level = 1);

// An open HDF5 identifier plus its file path and object name for messages.
// Closed by the destructor with the close function matching its kind.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, std::string file, std::string name);
  ~Handle();
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t id() const { return id_; }
  const std::string& file() const { return file_; }
  const std::string& name() const { return name_; }
  void close();

 private:
  hid_t id_ = H5I_INVALID_HID;
  std::string file_, name_;
};

// A group or dataset: both carry attributes.
class Object {
 public:
  const std::string& file() const { return handle_.file(); }
  const std::string& name() const { return handle_.name(); }  // absolute path, "/src/tokens"
  hid_t id() const { return handle_.id(); }

  bool has_attribute(const std::string& attribute) const;
  std::vector<std::string> attribute_names() const;  // in creation/name order
  AttributeType attribute_type(const std::string& attribute) const;
  // Scalar attributes; writing replaces an existing one of the same name. A
  // string is written fixed-length, inside the checksummed object header; one
  // holding a NUL byte is refused.
  void write_string_attribute(const std::string& attribute, std::string_view value);
  void write_int_attribute(const std::string& attribute, std::int64_t value);
  void write_double_attribute(const std::string& attribute, double value);
  // Reading converts between integer (or float) widths; a missing attribute or
  // one of another kind throws IoError naming it.
  std::string read_string_attribute(const std::string& attribute) const;
  std::int64_t read_int_attribute(const std::string& attribute) const;
  double read_double_attribute(const std::string& attribute) const;
  // The value as text whatever its kind ("tfm-batches", "42", "0.97"), for listings.
  std::string attribute_text(const std::string& attribute) const;

 protected:
  Object() = default;
  explicit Object(Handle handle) : handle_(std::move(handle)) {}
  Handle handle_;
};

// A dataset of any rank. A "row" is one index of dimension 0 (an element for
// 1-D data); row ranges are read and written with hyperslab selections.
class Dataset : public Object {
 public:
  explicit Dataset(Handle handle) : Object(std::move(handle)) {}
  Shape shape() const;
  DataType type() const;
  std::uint64_t rows() const;        // shape()[0] (1 for a scalar)
  std::uint64_t row_size() const;    // elements in one row

  // The whole dataset, flattened row-major. T is float, uint8_t (bytes, e.g. a
  // serialized archive), uint32_t, uint64_t or int64_t; HDF5 converts from
  // the stored type (an overflow throws).
  template <class T>
  std::vector<T> read() const;
  // Rows [begin, begin + count) flattened, into `out` (resized).
  template <class T>
  void read_rows(std::uint64_t begin, std::uint64_t count, std::vector<T>& out) const;
  // The same straight into `out`, which must hold exactly count × row_size()
  // elements (else IoError): no copy, no clearing first.
  template <class T>
  void read_rows_into(std::uint64_t begin, std::uint64_t count, std::span<T> out) const;
  // Writes `data` (a whole number of rows) at row `begin`.
  template <class T>
  void write_rows(std::uint64_t begin, std::span<const T> data);
  // A list of strings written by Group::write_strings, or a 1-D dataset of
  // variable-length strings (earlier tfm versions, h5py; read by the helper
  // program, see hdf5_strings.cpp: a damaged one is an IoError, not a crash).
  std::vector<std::string> read_strings() const;
};

// A group; names passed to it are relative ("tokens", "src/tokens") or
// absolute ("/vocab"). Intermediate groups are created as needed.
class Group : public Object {
 public:
  explicit Group(Handle handle) : Object(std::move(handle)) {}

  bool contains(const std::string& path) const;  // a link of that name exists
  bool is_group(const std::string& path) const;
  bool is_dataset(const std::string& path) const;
  std::vector<std::string> members() const;  // direct children, by name
  Group open_group(const std::string& path) const;
  Group create_group(const std::string& path);
  Dataset open_dataset(const std::string& path) const;

  // A new dataset of `shape`, to be filled with Dataset::write_rows.
  template <class T>
  Dataset create_dataset(const std::string& path, const Shape& shape, const Storage& storage = {});
  // Creates and fills a dataset; `shape` defaults to {data.size()}.
  template <class T>
  Dataset write(const std::string& path, std::span<const T> data, Shape shape = {},
                const Storage& storage = {});
  template <class T>
  Dataset write(const std::string& path, const std::vector<T>& data, Shape shape = {},
                const Storage& storage = {}) {
    return write(path, std::span<const T>(data), std::move(shape), storage);
  }
  // A list of UTF-8 strings as a 1-D uint8 dataset, each string ended by a
  // NUL byte (a string holding one is refused), always chunked (64 KiB chunks
  // if `storage` is not) and checksummed. (HDF5's variable-length strings
  // live in the global heap, which no checksum covers.)
  Dataset write_strings(const std::string& path, const std::vector<std::string>& strings,
                        const Storage& storage = {});
  // Shorthands for open_dataset(path).read...().
  template <class T>
  std::vector<T> read(const std::string& path) const {
    return open_dataset(path).read<T>();
  }
  std::vector<std::string> read_strings(const std::string& path) const {
    return open_dataset(path).read_strings();
  }
  Shape shape(const std::string& path) const { return open_dataset(path).shape(); }

 protected:
  std::string full_name(const std::string& path) const;
  int kind(const std::string& path) const;  // H5I_GROUP, H5I_DATASET, ... or H5I_BADID
};

// An HDF5 file; the File itself is its root group "/".
//
// File::create writes to a temporary file beside `path`; commit() closes it and
// renames it into place, so a run that fails or is interrupted leaves no file
// (the destructor removes the temporary). File::open is read-only.
class File : public Group {
 public:
  static File create(const std::string& path);
  static File open(const std::string& path);
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&&) = delete;

  const std::string& path() const { return path_; }
  void commit();

 private:
  File(Handle file, Handle root, std::string path, std::string temp_path);
  Handle file_;
  std::string path_, temp_path_;  // temp_path_ empty: read-only or committed
};

// The root attribute `format` ("tfm-model", "tfm-batches", ...), or "" when
// the file has none or it is not a string: the one test of a file's kind.
std::string format_of(const File& file);

// Checks the root attributes `format` and `format_version`; throws InputError
// "<file>: expected a <format> file (format_version <v>), found <what>".
void check_format(const File& file, std::string_view format, std::int64_t version);
// The same with `format` already read by format_of() (each string read
// starts a helper process: a model's load reads it once).
void check_format(const File& file, std::string_view found, std::string_view format, std::int64_t version);

// Writes the root attributes `format` and `format_version`.
void write_format(File& file, std::string_view format, std::int64_t version);

// Every dataset under `group`, recursively: absolute name, type and shape.
struct DatasetEntry {
  std::string name;
  DataType type;
  Shape shape;
};
std::vector<DatasetEntry> list_datasets(const Group& group);

// A listing of a whole file for people (`tfm-batch --info`): its path, every
// object's attributes (name: value) and every dataset (name, type, shape).
std::string describe(const File& file);

// The work of libtfm's helper program tfm-read-strings, which
// Dataset::read_strings and Object::read_string_attribute start for the
// variable-length strings of earlier files (HDF5 may crash on them): reads
// those of dataset `object` of the file at `path`, or of its attribute
// `attribute` when that is not empty, and writes them to `fd` in the form
// the caller parses ("K" and each string as an 8-byte size and its bytes, or
// "E" and an error message).
void reply_with_variable_strings(int fd, const std::string& path, const std::string& object,
                                 const std::string& attribute);

// Turns off HDF5's automatic error printing (done by File::create/open; call it
// before using the raw C API elsewhere).
void silence_errors();

}  // namespace tfm::hdf5
