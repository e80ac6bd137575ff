// Arrays used straight from a memory mapping of their file instead of a copy: a .npy file,
// or a member np.savez stored uncompressed in a .npz. The mapping is copy-on-write and lives
// as long as any tensor over it, and every run that maps the same file shares its pages
// through the page cache, so -j N runs hold one copy of the data, not N, and start without
// reading it all first.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace orch_datasets {

class FileMapping {
 public:
  // The whole file; nothing when it cannot be mapped (the caller reads it instead).
  static std::shared_ptr<FileMapping> map(const std::string& path);
  ~FileMapping();
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;

  const char* data() const { return static_cast<const char*>(data_); }
  std::size_t size() const { return size_; }

 private:
  FileMapping(void* data, std::size_t size) : data_(data), size_(size) {}
  void* data_;
  std::size_t size_;
};

// Where the data of each uncompressed member of a zip archive (an .npz from np.savez) lies
// in the file, from its local headers: member name -> (offset, size). A member this cannot
// place (compressed, or sizes written after its data) is left out.
std::map<std::string, std::pair<std::size_t, std::size_t>> stored_zip_members(
    const FileMapping& file);

// The .npy array in bytes [offset, offset + size) of `file` as a tensor over the mapping,
// when it can be used as it is: C order, already float32 or int64 (what the dataset hands
// out), aligned for its type. Nothing otherwise: the caller copies and converts.
std::optional<torch::Tensor> mapped_npy(const std::shared_ptr<FileMapping>& file,
                                        std::size_t offset, std::size_t size);

}  // namespace orch_datasets
