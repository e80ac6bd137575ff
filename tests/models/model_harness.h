// What the model tests share: the real model plugins loaded once through the real loader,
// hand-made datasets of every kind, and one training step.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/run/value_text.h"
#include "orch/orch.h"
#include "tests/host/test_paths.h"

namespace orch::testing {

// Every model plugin, each loaded from its own built library. Loaded once per test binary
// and never unloaded, so no library goes away under LibTorch's exit-time cleanup.
inline const PluginCatalog& model_catalog() {
  static const auto* catalog = [] {
    auto* loaded = new PluginCatalog();
    for (const char* model : {"mlp", "mnist_cnn", "keras_cnn", "transit_cnn1d",
                              "multitask_transformer", "unet", "torchscript"}) {
      std::string file = builtin_plugins() + "/orch_model_" + model + ".so";
      if (!loaded->load_file(file)) {
        throw std::runtime_error("cannot load " + file + ": " + loaded->refusals().back());
      }
    }
    return loaded;
  }();
  return *catalog;
}

inline const PluginEntry& model_entry(const std::string& name) {
  const PluginEntry* entry = model_catalog().find(PluginKind::kModel, name);
  if (!entry) throw std::runtime_error("no model plugin named " + name);
  return *entry;
}

// The model's declared defaults with `overrides` on top. An override must name a declared
// parameter and lie in its declared range, so tests only use settings a user could write.
inline Params model_params(const std::string& name,
                           const std::map<std::string, Value>& overrides = {}) {
  std::map<std::string, Value> values;
  for (const auto& spec : model_entry(name).params) {
    values[spec.name] = spec.fallback;
    auto it = overrides.find(spec.name);
    if (it == overrides.end()) continue;
    values[spec.name] = it->second;
    if (std::holds_alternative<std::string>(it->second)) continue;  // paths, choices
    double number = std::holds_alternative<std::int64_t>(it->second)
                        ? static_cast<double>(std::get<std::int64_t>(it->second))
                        : std::get<double>(it->second);
    if ((spec.min && number < *spec.min) || (spec.max && number > *spec.max)) {
      throw std::logic_error(name + "." + spec.name + " = " + to_toml(it->second) + " is outside " +
                             describe_range(spec));
    }
    values[spec.name] = it->second;
  }
  for (const auto& [key, value] : overrides) {
    if (!values.count(key)) throw std::logic_error(name + " declares no parameter " + key);
  }
  return Params(std::move(values));
}

inline std::unique_ptr<Model> make_model(const std::string& name, const DatasetInfo& data,
                                         const std::map<std::string, Value>& overrides = {}) {
  return model_entry(name).make_model(model_params(name, overrides), data);
}

// Hand-made datasets: the info a dataset plugin of that kind reports, and a random batch.
inline DatasetInfo vector_info(std::int64_t features, std::int64_t classes) {
  DatasetInfo info;
  info.input_shape = {features};
  info.classes = classes;
  return info;
}
inline DatasetInfo image_info(std::int64_t channels, std::int64_t height, std::int64_t width,
                              std::int64_t classes) {
  DatasetInfo info;
  info.input_shape = {channels, height, width};
  info.classes = classes;
  return info;
}
inline DatasetInfo light_curve_info(std::int64_t global_length, std::int64_t local_length) {
  DatasetInfo info;
  info.input_shape = {1, global_length};
  info.extra_input_shapes["local_view"] = {1, local_length};
  info.classes = 2;
  info.task = Task::kBinary;
  return info;
}
inline DatasetInfo sequence_info(std::int64_t tokens, std::int64_t features,
                                 std::vector<std::int64_t> task_classes) {
  DatasetInfo info;
  info.input_shape = {tokens, features};
  info.task = Task::kMultiTask;
  info.task_classes = std::move(task_classes);
  return info;
}
inline DatasetInfo segmentation_info(std::int64_t channels, std::int64_t height,
                                     std::int64_t width) {
  DatasetInfo info;
  info.input_shape = {channels, height, width};
  info.classes = 2;
  info.task = Task::kSegmentation;
  return info;
}

// A batch of `size` random samples with targets of the kind `info.task` promises.
inline Batch random_batch(const DatasetInfo& info, std::int64_t size) {
  std::vector<std::int64_t> shape{size};
  shape.insert(shape.end(), info.input_shape.begin(), info.input_shape.end());
  Batch batch;
  batch.inputs = torch::randn(shape);
  for (const auto& [name, extra] : info.extra_input_shapes) {
    std::vector<std::int64_t> extra_shape{size};
    extra_shape.insert(extra_shape.end(), extra.begin(), extra.end());
    batch.extra_inputs[name] = torch::randn(extra_shape);
  }
  switch (info.task) {
    case Task::kClassification:
      batch.targets = torch::randint(info.classes, {size}, torch::kLong);
      break;
    case Task::kBinary:
      batch.targets = torch::randint(2, {size}).to(torch::kFloat);
      break;
    case Task::kMultiTask: {
      std::vector<torch::Tensor> columns;
      for (auto classes : info.task_classes)
        columns.push_back(torch::randint(classes, {size}, torch::kLong));
      batch.targets = torch::stack(columns, 1);
      break;
    }
    case Task::kSegmentation:
      // A mask the model can learn from the pixels: foreground where the first channel is positive.
      batch.targets = batch.inputs.narrow(1, 0, 1).gt(0).to(torch::kFloat);
      break;
  }
  return batch;
}

// Forward, loss, backward and one optimizer step, as the trainer does; the loss before the step.
inline double train_step(Model& model, torch::optim::Optimizer& optimizer, const Batch& batch) {
  optimizer.zero_grad();
  torch::Tensor loss = model.loss(model.forward(batch), batch);
  loss.backward();
  optimizer.step();
  return loss.item<double>();
}

inline std::int64_t parameter_count(Model& model) {
  std::int64_t count = 0;
  for (const auto& parameter : model.module().parameters()) count += parameter.numel();
  return count;
}

}  // namespace orch::testing
