// Reads IDX files, the format of LeCun's MNIST distribution: a big-endian header (two
// zero bytes, a type byte, a dimension count, one 32-bit size per dimension) followed by
// the values. Only unsigned bytes (type 0x08) are supported, which is what MNIST uses.
// No torch here: the reader is plain C++ and tested on its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace orch_datasets::idx {

struct Array {
  std::vector<std::int64_t> dims;   // e.g. {60000, 28, 28}
  std::vector<std::uint8_t> bytes;  // product(dims) values, row-major
};

// Reads `path`, which must hold `rank` dimensions. Throws std::runtime_error naming the
// file, what is wrong with it and what to do.
Array read(const std::string& path, int rank);

// The path of the IDX file `name` (e.g. "train-images-idx3-ubyte") in `dir`, also
// accepting the dotted spelling ("train-images.idx3-ubyte"). Throws std::runtime_error
// when neither exists, with a hint when only a .gz copy is there.
std::string find(const std::string& dir, const std::string& name);

}  // namespace orch_datasets::idx
