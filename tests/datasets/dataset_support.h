// Datasets built from the real plugin libraries, and small files for them to read.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "orch/dataset.h"
#include "tests/host/test_paths.h"

namespace orch::testing {

// The dataset libraries, loaded once per test process and kept loaded: datasets
// hold code from them.
inline PluginCatalog& dataset_catalog() {
  static PluginCatalog* catalog = [] {
    auto* c = new PluginCatalog();
    for (const char* library : {"orch_dataset_synthetic", "orch_dataset_mnist", "orch_dataset_csv",
                                "orch_dataset_arrays"}) {
      std::string file = builtin_plugins() + "/" + library + ".so";
      if (!c->load_file(file)) ADD_FAILURE() << "cannot load " << file;
    }
    return c;
  }();
  return *catalog;
}

// Dataset `name` with its declared defaults, overridden by `values` (which must be
// declared parameters).
inline std::unique_ptr<Dataset> make_dataset(const std::string& name,
                                             const std::map<std::string, Value>& values = {}) {
  const PluginEntry* entry = dataset_catalog().find(PluginKind::kDataset, name);
  if (!entry) throw std::runtime_error("no dataset plugin '" + name + "'");
  std::map<std::string, Value> resolved;
  for (const auto& spec : entry->params) resolved[spec.name] = spec.fallback;
  for (const auto& [key, value] : values) {
    if (!resolved.count(key)) throw std::runtime_error(name + " declares no parameter " + key);
    resolved[key] = value;
  }
  return entry->make_dataset(Params(resolved));
}

// The message of the exception `make` throws, or "" when it throws none.
template <class F>
std::string error_of(F make) {
  try {
    make();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

inline torch::Tensor first(std::int64_t n) { return torch::arange(n, torch::kLong); }

inline Batch whole_split(Dataset& dataset, Split split) {
  auto info = dataset.info();
  return dataset.batch(split, first(split == Split::kTrain ? info.train_size : info.val_size));
}

// An IDX file of unsigned bytes: header (0, 0, 0x08, rank, sizes big-endian), then values.
inline std::string idx_bytes(const std::vector<std::uint32_t>& dims,
                             const std::vector<std::uint8_t>& values) {
  std::string out{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (auto d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((d >> shift) & 0xff);
  }
  out.append(values.begin(), values.end());
  return out;
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace orch::testing
