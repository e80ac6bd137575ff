// Plain data shared by plugins and the host. No torch here, so the host's
// non-training code can use it without paying for torch's headers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace orch {

enum class Split { kTrain, kValidation };

// What a dataset's targets are; a model checks that it can learn them.
//   kClassification  targets [batch] int64 class indices in [0, classes)
//   kBinary          targets [batch] float 0 or 1, one logit per sample (classes = 2)
//   kMultiTask       targets [batch, tasks] int64, task t in [0, task_classes[t])
//   kSegmentation    targets [batch, 1, height, width] float 0 or 1, one logit per pixel
//   kRegression      targets [batch, ...] float, compared with the output by squared error
enum class Task { kClassification, kBinary, kMultiTask, kSegmentation, kRegression };

inline const char* task_name(Task task) {
  switch (task) {
    case Task::kClassification:
      return "classification";
    case Task::kBinary:
      return "binary classification";
    case Task::kMultiTask:
      return "multi-task classification";
    case Task::kSegmentation:
      return "segmentation";
    case Task::kRegression:
      return "regression";
  }
  return "?";
}

// What a dataset offers; models size their layers from it.
struct DatasetInfo {
  std::vector<std::int64_t> input_shape;  // one sample, e.g. {32} or {1, 28, 28}
  std::int64_t classes = 0;               // number of target classes
  std::int64_t train_size = 0;
  std::int64_t val_size = 0;
  Task task = Task::kClassification;
  std::vector<std::int64_t> task_classes;  // kMultiTask: classes of each task
  // Further named inputs of one sample, e.g. {"local_view", {1, 61}}; see Batch.
  std::map<std::string, std::vector<std::int64_t>> extra_input_shapes;
};

// Numeric precision of the forward pass. kBf16 runs it under LibTorch's autocast with
// bfloat16; weights, gradients and the optimizer stay fp32.
enum class Precision { kFp32, kBf16 };

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
