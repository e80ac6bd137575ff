// What the model plugins share: how they describe a dataset when they refuse it.
// Header-only and torch-free, so each plugin stays one library with no extra link step.
#pragma once

#include <orch/types.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace orch::models {

// "[1, 28, 28]"
inline std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// "classification of shape [1, 28, 28]", with extra inputs and task classes when present,
// so a refused user sees what their dataset actually offers.
inline std::string describe(const DatasetInfo& data) {
  std::string text =
      std::string(task_name(data.task)) + " of shape " + shape_text(data.input_shape);
  for (const auto& [name, shape] : data.extra_input_shapes) {
    text += " with extra input \"" + name + "\" " + shape_text(shape);
  }
  if (data.task == Task::kMultiTask) text += " and task classes " + shape_text(data.task_classes);
  return text;
}

// Throws the one sentence a user sees when a model cannot learn a dataset, e.g.
// "unet needs a segmentation dataset ..., such as synthetic_segmentation; this dataset
// gives classification of shape [32]".
[[noreturn]] inline void refuse_dataset(const std::string& model, const std::string& needs,
                                        const std::string& example, const DatasetInfo& data) {
  throw std::invalid_argument(model + " needs " + needs + ", such as " + example +
                              "; this dataset gives " + describe(data));
}

inline std::int64_t flat_size(const std::vector<std::int64_t>& shape) {
  std::int64_t size = 1;
  for (auto dim : shape) size *= dim;
  return size;
}

}  // namespace orch::models
