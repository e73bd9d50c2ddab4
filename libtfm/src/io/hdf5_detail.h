// Error helpers shared by the io sources (not installed).
#pragma once

#include <hdf5.h>

#include "tfm/io/hdf5.h"

#include <string>

namespace tfm::hdf5::detail {

// The most specific message on HDF5's error stack, read right after a failed
// call ("truncated file: eof = 96, ...").
std::string hdf5_reason();
// Throws IoError "<file>: <what>: <HDF5's reason>".
[[noreturn]] void fail(const std::string& file, const std::string& what);
hid_t check_id(hid_t id, const std::string& file, const std::string& what);
void check(herr_t status, const std::string& file, const std::string& what);
// Sets a group (or file) creation property list to keep attributes and links
// in the checksummed object header.
void keep_metadata_compact(hid_t group_creation);
// An existing attribute of `object` (IoError naming it when there is none).
Handle open_attribute(const Object& object, const std::string& attribute);
// Creates (or replaces) a scalar attribute of `type` holding *value.
void write_attribute(Object& object, const std::string& attribute, hid_t type, const void* value);

}  // namespace tfm::hdf5::detail
