#include "arrays/mapped_array.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <sstream>
#include <xtensor/xnpy.hpp>

namespace orch_datasets {
namespace {

std::uint64_t little_endian(const char* bytes, int count) {
  std::uint64_t value = 0;
  for (int i = count - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

// The largest .npy header NumPy writes is far below this; a longer one is not mapped.
constexpr std::size_t kMaxHeader = 1 << 20;

}  // namespace

std::shared_ptr<FileMapping> FileMapping::map(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat info {};
  void* data = MAP_FAILED;
  if (::fstat(fd, &info) == 0 && info.st_size > 0) {
    // Private and writable: a plugin that writes into a tensor gets its own page, never
    // the file's.
    data = ::mmap(nullptr, static_cast<std::size_t>(info.st_size), PROT_READ | PROT_WRITE,
                  MAP_PRIVATE, fd, 0);
  }
  ::close(fd);
  if (data == MAP_FAILED) return nullptr;
  return std::shared_ptr<FileMapping>(
      new FileMapping(data, static_cast<std::size_t>(info.st_size)));
}

FileMapping::~FileMapping() { ::munmap(data_, size_); }

std::map<std::string, std::pair<std::size_t, std::size_t>> stored_zip_members(
    const FileMapping& file) {
  std::map<std::string, std::pair<std::size_t, std::size_t>> members;
  const char* bytes = file.data();
  std::size_t at = 0;
  // Local file headers follow one another from the start: signature, fields, name, extra.
  while (at + 30 <= file.size() && little_endian(bytes + at, 4) == 0x04034b50) {
    const auto flags = little_endian(bytes + at + 6, 2);
    const auto method = little_endian(bytes + at + 8, 2);
    std::uint64_t compressed = little_endian(bytes + at + 18, 4);
    std::uint64_t uncompressed = little_endian(bytes + at + 22, 4);
    const std::size_t name_length = little_endian(bytes + at + 26, 2);
    const std::size_t extra_length = little_endian(bytes + at + 28, 2);
    const std::size_t extra = at + 30 + name_length;
    const std::size_t data = extra + extra_length;
    if (data > file.size()) break;
    // Zip64 (NumPy writes every member so): the sizes are in extra field 0x0001, the
    // uncompressed one first, each present only when its header field is 0xFFFFFFFF.
    for (std::size_t field = extra; field + 4 <= data;) {
      const auto id = little_endian(bytes + field, 2);
      const std::size_t length = little_endian(bytes + field + 2, 2);
      std::size_t value = field + 4;
      if (id == 0x0001) {
        if (uncompressed == 0xFFFFFFFF && value + 8 <= data) {
          uncompressed = little_endian(bytes + value, 8);
          value += 8;
        }
        if (compressed == 0xFFFFFFFF && value + 8 <= data)
          compressed = little_endian(bytes + value, 8);
      }
      field += 4 + length;
    }
    // Sizes written after the data (flag bit 3) leave nothing to find the next header by.
    if ((flags & 0x8) != 0 && compressed == 0) break;
    if (compressed > file.size() - data) break;
    if (method == 0 && compressed == uncompressed) {
      members[std::string(bytes + at + 30, name_length)] = {data, compressed};
    }
    at = data + compressed;
  }
  return members;
}

std::optional<torch::Tensor> mapped_npy(const std::shared_ptr<FileMapping>& file,
                                        std::size_t offset, std::size_t size) {
  if (offset > file->size() || size > file->size() - offset) return std::nullopt;
  std::istringstream stream(std::string(file->data() + offset, std::min(size, kMaxHeader)));
  std::string typestring;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
  try {
    unsigned char major = 0, minor = 0;
    xt::detail::read_magic(stream, &major, &minor);
    const std::string header = major == 1   ? xt::detail::read_header_1_0(stream)
                               : major == 2 ? xt::detail::read_header_2_0(stream)
                                            : std::string();
    if (header.empty() || !stream) return std::nullopt;
    xt::detail::parse_header(header, typestring, &fortran_order, shape);
  } catch (const std::exception&) {
    return std::nullopt;  // the copying reader says what is wrong with it
  }
  torch::ScalarType dtype;
  if (typestring == "<f4") {
    dtype = torch::kFloat;
  } else if (typestring == "<i8") {
    dtype = torch::kLong;
  } else {
    return std::nullopt;
  }
  std::size_t elements = 1;
  for (std::size_t extent : shape) elements *= extent;
  const std::size_t data = offset + static_cast<std::size_t>(stream.tellg());
  const std::size_t element_size = torch::elementSize(dtype);
  const char* start = file->data() + data;
  if (fortran_order || shape.empty() || data + elements * element_size > offset + size ||
      reinterpret_cast<std::uintptr_t>(start) % element_size != 0) {
    return std::nullopt;
  }
  std::vector<std::int64_t> sizes(shape.begin(), shape.end());
  // The tensor holds the mapping: unmapped when the last tensor over it is gone.
  return torch::from_blob(
      const_cast<char*>(start), sizes, [file](void*) {}, torch::TensorOptions().dtype(dtype));
}

}  // namespace orch_datasets
