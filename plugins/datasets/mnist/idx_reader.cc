#include "mnist/idx_reader.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>

namespace orch_datasets::idx {
namespace {

namespace fs = std::filesystem;

constexpr std::uint8_t kUnsignedByte = 0x08;
constexpr const char* kFetchHint = "run scripts/fetch-mnist.sh";

std::int64_t big_endian_u32(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
  return (std::int64_t{bytes[offset]} << 24) | (std::int64_t{bytes[offset + 1]} << 16) |
         (std::int64_t{bytes[offset + 2]} << 8) | std::int64_t{bytes[offset + 3]};
}

std::string type_name(std::uint8_t type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "short";
    case 0x0C:
      return "int";
    case 0x0D:
      return "float";
    case 0x0E:
      return "double";
  }
  return "unknown type " + std::to_string(type);
}

// "train-images-idx3-ubyte" -> "train-images.idx3-ubyte"
std::string dotted(const std::string& name) {
  auto dash = name.find("-idx");
  if (dash == std::string::npos) return name;
  return name.substr(0, dash) + "." + name.substr(dash + 1);
}

}  // namespace

Array read(const std::string& path, int rank) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(path + ": cannot open the file (" +
                             (fs::exists(path) ? "permission denied?" : "it does not exist") +
                             "); " + kFetchHint + " or set dataset.dir");
  }
  in.seekg(0, std::ios::end);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()))) {
    throw std::runtime_error(path + ": reading the file failed; check the disk and fetch it again");
  }
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
    throw std::runtime_error(path +
                             ": the file is gzip-compressed although its name does not "
                             "end in .gz; decompress it: mv " +
                             path + " " + path + ".gz && gunzip " + path + ".gz");
  }
  if (bytes.size() < 4) {
    throw std::runtime_error(path + ": " + std::to_string(bytes.size()) +
                             " bytes, too short for an IDX header; the file is truncated, "
                             "fetch it again (" +
                             kFetchHint + ")");
  }
  if (bytes[0] != 0 || bytes[1] != 0) {
    throw std::runtime_error(path +
                             ": not an IDX file (its first two bytes are not zero); "
                             "point dataset.dir at the MNIST IDX files (" +
                             kFetchHint + ")");
  }
  if (bytes[2] != kUnsignedByte) {
    throw std::runtime_error(path + ": IDX values of type " + type_name(bytes[2]) +
                             " are not supported, only unsigned bytes (type 0x08) as in MNIST");
  }
  if (bytes[3] != rank) {
    throw std::runtime_error(path + ": " + std::to_string(bytes[3]) + " dimensions, expected " +
                             std::to_string(rank) + (rank == 1 ? " (labels)" : " (images)") +
                             "; is it the right file (images and labels swapped)?");
  }
  std::size_t header = 4 + 4 * static_cast<std::size_t>(rank);
  if (bytes.size() < header) {
    throw std::runtime_error(path + ": the file ends inside its header (" +
                             std::to_string(bytes.size()) +
                             " bytes); it is truncated, fetch it "
                             "again (" +
                             std::string(kFetchHint) + ")");
  }
  Array array;
  std::int64_t values = 1;
  for (int d = 0; d < rank; ++d) {
    array.dims.push_back(big_endian_u32(bytes, 4 + 4 * d));
    values *= array.dims.back();
  }
  std::int64_t expected = static_cast<std::int64_t>(header) + values;
  if (static_cast<std::int64_t>(bytes.size()) != expected) {
    std::string dims;
    for (auto d : array.dims) dims += (dims.empty() ? "" : " x ") + std::to_string(d);
    throw std::runtime_error(
        path + ": " + std::to_string(bytes.size()) + " bytes, but its header (" + dims +
        ") needs " + std::to_string(expected) + "; the file is " +
        (static_cast<std::int64_t>(bytes.size()) < expected ? "truncated"
                                                            : "longer than its header says") +
        ", fetch it again (" + kFetchHint + ")");
  }
  bytes.erase(bytes.begin(), bytes.begin() + header);
  array.bytes = std::move(bytes);
  return array;
}

std::string find(const std::string& dir, const std::string& name) {
  if (!fs::is_directory(dir)) {
    throw std::runtime_error("MNIST directory '" + dir + "' does not exist; " + kFetchHint + " " +
                             dir + " to create it, or set dataset.dir");
  }
  for (const std::string& candidate : {name, dotted(name)}) {
    auto path = fs::path(dir) / candidate;
    if (fs::exists(path)) return path.string();
  }
  for (const std::string& candidate : {name, dotted(name)}) {
    auto gz = fs::path(dir) / (candidate + ".gz");
    if (fs::exists(gz)) {
      throw std::runtime_error(gz.string() + " must be decompressed first: gunzip -k " +
                               gz.string());
    }
  }
  throw std::runtime_error("missing file " + name + " in " + dir + " (also looked for " +
                           dotted(name) + "); " + kFetchHint + " " + dir);
}

}  // namespace orch_datasets::idx
