// Plain data shared by plugins and the host. No torch here, so the host's
// non-training code can use it without paying for torch's headers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace orch {

enum class Split { kTrain, kValidation };

// What a dataset offers; models size their layers from it.
struct DatasetInfo {
  std::vector<std::int64_t> input_shape;  // one sample, e.g. {32} or {1, 28, 28}
  std::int64_t classes = 0;               // number of target classes
  std::int64_t train_size = 0;
  std::int64_t val_size = 0;
};

// Bytes; 0 where a backend cannot tell.
struct MemoryStats {
  std::int64_t host_current_bytes = 0;
  std::int64_t host_peak_bytes = 0;
  std::int64_t device_current_bytes = 0;
  std::int64_t device_peak_bytes = 0;
};

// Per-batch means of whatever a model can judge, e.g. {"accuracy", 0.93}. The trainer
// averages them over an epoch weighted by batch size.
using Metrics = std::map<std::string, double>;

}  // namespace orch
