#include "arrays/array_file.h"

#include <torch/serialize.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <xtensor/xnpy.hpp>

#include "arrays/mapped_array.h"

namespace orch_datasets {
namespace {

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() &&
         text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the file (does it exist?)");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// NumPy's type string ("<f4", "|u1", ...) as a torch dtype; refuses what a tensor cannot
// hold (strings, objects, big-endian data) in words.
torch::ScalarType dtype_of(const std::string& type, const std::string& where) {
  const char order = type.empty() ? '?' : type[0];
  const std::string kind = type.size() > 1 ? type.substr(1) : "";
  if (order == '>') {
    throw std::runtime_error(
        where + ": big-endian data (" + type +
        ") is not supported; save it with arr.astype(arr.dtype.newbyteorder('<'))");
  }
  static const std::map<std::string, torch::ScalarType> kTypes = {
      {"f2", torch::kHalf}, {"f4", torch::kFloat}, {"f8", torch::kDouble},
      {"i1", torch::kChar}, {"i2", torch::kShort}, {"i4", torch::kInt},
      {"i8", torch::kLong}, {"u1", torch::kByte},  {"b1", torch::kBool}};
  auto it = kTypes.find(kind);
  if (it != kTypes.end()) return it->second;
  std::string what = kind.empty() ? "an unknown dtype" : "dtype " + type;
  if (!kind.empty() && (kind[0] == 'U' || kind[0] == 'S')) what = "strings (" + type + ")";
  if (!kind.empty() && kind[0] == 'O') what = "Python objects (" + type + ")";
  throw std::runtime_error(where + " holds " + what +
                           "; orch reads numbers: float16/32/64, int8/16/32/64, uint8 or bool "
                           "(convert it with arr.astype(np.float32) or np.int64)");
}

// float32 for real numbers and booleans, int64 for integers (class indices, token ids).
torch::Tensor normalised(torch::Tensor tensor) {
  if (tensor.is_floating_point() || tensor.scalar_type() == torch::kBool) {
    return tensor.to(torch::kFloat);
  }
  return tensor.to(torch::kLong);
}

std::map<std::string, torch::Tensor> read_npz(const std::string& path) {
  int error = 0;
  std::unique_ptr<zip_t, decltype(&zip_discard)> archive(zip_open(path.c_str(), ZIP_RDONLY, &error),
                                                         &zip_discard);
  if (!archive) {
    zip_error_t why;
    zip_error_init_with_code(&why, error);
    const std::string text = zip_error_strerror(&why);
    zip_error_fini(&why);
    throw std::runtime_error(path + ": not a NumPy .npz archive (" + text +
                             "); write one with np.savez(path, inputs=X, targets=y)");
  }
  // np.savez stores its members uncompressed: those are used from a mapping of the file.
  const std::shared_ptr<FileMapping> mapping = FileMapping::map(path);
  const auto stored = mapping ? stored_zip_members(*mapping)
                              : std::map<std::string, std::pair<std::size_t, std::size_t>>();
  std::map<std::string, torch::Tensor> arrays;
  const zip_int64_t entries = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < entries; ++i) {
    zip_stat_t stat;
    if (zip_stat_index(archive.get(), i, 0, &stat) != 0 || !(stat.valid & ZIP_STAT_SIZE)) continue;
    const std::string member = stat.name;
    if (!ends_with(member, ".npy")) continue;
    const std::string where = path + ", array '" + member.substr(0, member.size() - 4) + "'";
    if (auto place = stored.find(member);
        place != stored.end() && place->second.second == stat.size) {
      if (auto view = mapped_npy(mapping, place->second.first, place->second.second)) {
        arrays[member.substr(0, member.size() - 4)] = *view;
        continue;
      }
    }
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(zip_fopen_index(archive.get(), i, 0),
                                                            &zip_fclose);
    std::string bytes(stat.size, '\0');
    if (!file ||
        zip_fread(file.get(), bytes.data(), stat.size) != static_cast<zip_int64_t>(stat.size)) {
      throw std::runtime_error(where + ": cannot be read (" + zip_strerror(archive.get()) +
                               "); the archive is damaged or truncated: write it again");
    }
    arrays[member.substr(0, member.size() - 4)] = npy_tensor(bytes, where);
  }
  return arrays;
}

// torch.save({"inputs": x, "targets": y}, path)
std::map<std::string, torch::Tensor> read_torch_save(const std::string& path) {
  const std::string bytes = file_bytes(path);
  torch::IValue value;
  try {
    value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const std::exception& e) {
    const std::string why = e.what();
    throw std::runtime_error(path + ": LibTorch cannot read it (" + why.substr(0, why.find('\n')) +
                             "); orch reads a dict of tensors saved as torch.save({\"inputs\": x, "
                             "\"targets\": y}, path)");
  }
  if (!value.isGenericDict()) {
    throw std::runtime_error(path + " holds a " + value.tagKind() +
                             ", not a dict of tensors; save torch.save({\"inputs\": x, "
                             "\"targets\": y}, path)");
  }
  std::map<std::string, torch::Tensor> arrays;
  for (const auto& entry : value.toGenericDict()) {
    if (!entry.key().isString() || !entry.value().isTensor()) {
      throw std::runtime_error(path +
                               ": every entry of the dict must be a tensor under a name; "
                               "found a " +
                               entry.value().tagKind());
    }
    arrays[entry.key().toStringRef()] = normalised(entry.value().toTensor().contiguous());
  }
  return arrays;
}

}  // namespace

// The dtype NumPy wrote in the header ("<f4"), read before xtensor parses it, which refuses
// strings and objects with only "invalid typestring".
static std::string declared_dtype(const std::string& bytes) {
  const std::string header = bytes.substr(0, 4096);
  const auto key = header.find("'descr':");
  if (key == std::string::npos) return "";
  const auto open = header.find('\'', key + 8);
  const auto close = open == std::string::npos ? open : header.find('\'', open + 1);
  return close == std::string::npos ? "" : header.substr(open + 1, close - open - 1);
}

torch::Tensor npy_tensor(const std::string& bytes, const std::string& where) {
  if (const std::string declared = declared_dtype(bytes); !declared.empty()) {
    dtype_of(declared, where);  // refuses strings and objects in words
  }
  std::istringstream stream(bytes);
  // xtensor's npy_file has no safe empty state: it is only ever made by load_npy_file.
  std::optional<xt::detail::npy_file> loaded;
  try {
    loaded.emplace(xt::detail::load_npy_file(stream));
  } catch (const std::exception& e) {
    throw std::runtime_error(where + ": not a NumPy .npy array (" + e.what() +
                             "); write it with np.save or np.savez");
  }
  xt::detail::npy_file& file = *loaded;
  const torch::ScalarType dtype = dtype_of(file.m_typestring, where);
  if (!stream || static_cast<std::size_t>(stream.gcount()) != file.m_n_bytes) {
    throw std::runtime_error(where + ": the file is truncated (" + std::to_string(stream.gcount()) +
                             " of " + std::to_string(file.m_n_bytes) +
                             " bytes of data); write it again");
  }
  std::vector<std::int64_t> shape(file.m_shape.begin(), file.m_shape.end());
  torch::Tensor tensor;
  if (file.m_fortran_order) {
    // Column-major: the same bytes are the transposed array in C order.
    std::vector<std::int64_t> reversed(shape.rbegin(), shape.rend());
    std::vector<std::int64_t> order;
    for (auto d = static_cast<std::int64_t>(shape.size()) - 1; d >= 0; --d) order.push_back(d);
    tensor = torch::from_blob(file.ptr(), reversed, dtype).permute(order).contiguous();
  } else {
    tensor = torch::from_blob(file.ptr(), shape, dtype).clone();
  }
  return normalised(tensor);
}

std::map<std::string, torch::Tensor> read_arrays(const std::string& path,
                                                 const std::string& name_for_npy) {
  if (!std::filesystem::is_regular_file(path)) {
    throw std::runtime_error(path +
                             ": no such file (a relative path is taken from the "
                             "experiment file's folder)");
  }
  if (ends_with(path, ".npz")) return read_npz(path);
  if (ends_with(path, ".npy")) {
    if (const auto mapping = FileMapping::map(path)) {
      if (auto view = mapped_npy(mapping, 0, mapping->size())) return {{name_for_npy, *view}};
    }
    return {{name_for_npy, npy_tensor(file_bytes(path), path)}};
  }
  if (ends_with(path, ".pt") || ends_with(path, ".pth")) return read_torch_save(path);
  throw std::runtime_error(path +
                           ": orch reads .npz (np.savez), .npy (np.save) and .pt (torch.save of "
                           "a dict of tensors); rename the file if it is one of those");
}

}  // namespace orch_datasets
