// tfm-read-strings FILE OBJECT ATTRIBUTE: libtfm's helper for the
// variable-length strings of earlier files, which HDF5 1.10 may crash on
// when their global heap is damaged (see io/hdf5_strings.cpp). Reads those
// of dataset OBJECT of FILE, or of its attribute ATTRIBUTE when that is not
// empty, and writes them to standard output for the library that started it.
// Installed in <prefix>/lib/tfm, not on PATH: people never run it.
#include <unistd.h>

#include "tfm/io/hdf5.h"

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  tfm::hdf5::reply_with_variable_strings(STDOUT_FILENO, argv[1], argv[2], argv[3]);
  return 0;
}
