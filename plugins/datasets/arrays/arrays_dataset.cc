// "arrays": a dataset from arrays saved in Python. A file holds "inputs" and "targets" and
// any further named inputs (a model with several inputs takes them by argument name):
//   np.savez("train.npz", inputs=X, targets=y)      torch.save({"inputs": X, ...}, "train.pt")
// Without a val file, val_fraction of the training samples, chosen by a seeded shuffle,
// is held out. What the targets are (the task) follows from their dtype unless set.
#include <orch/orch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "arrays/array_file.h"
#include "common/in_memory_dataset.h"
#include "common/number_text.h"

namespace orch_datasets {
namespace {

std::string shape_text(const torch::Tensor& tensor) {
  std::string text = "[";
  for (std::int64_t d = 0; d < tensor.dim(); ++d) {
    text += (d ? ", " : "") + std::to_string(tensor.size(d));
  }
  return text + "]";
}

std::string names_of(const std::map<std::string, torch::Tensor>& arrays) {
  std::string names;
  for (const auto& [name, tensor] : arrays) names += (names.empty() ? "" : ", ") + name;
  return names.empty() ? "none" : names;
}

// One split's arrays: inputs and targets (from one file, or a .npy each), extra inputs.
TensorSplit read_split(const std::string& path, const std::string& targets_path) {
  std::map<std::string, torch::Tensor> arrays = read_arrays(path, "inputs");
  if (!targets_path.empty()) {
    auto targets = read_arrays(targets_path, "targets");
    if (!targets.count("targets")) {
      throw std::runtime_error(targets_path + " has no array 'targets' (it has " +
                               names_of(targets) + ")");
    }
    arrays["targets"] = targets.at("targets");
  }
  for (const char* needed : {"inputs", "targets"}) {
    if (arrays.count(needed)) continue;
    throw std::runtime_error(path + " has no array '" + needed + "' (it has " + names_of(arrays) +
                             "); save np.savez(path, inputs=X, targets=y), or a .npy of inputs "
                             "with dataset.train_targets naming the .npy of targets");
  }
  TensorSplit split{arrays.at("inputs"), arrays.at("targets"), {}};
  if (split.inputs.dim() == 0) throw std::runtime_error(path + ": 'inputs' is a single number");
  const std::int64_t samples = split.inputs.size(0);
  for (const auto& [name, tensor] : arrays) {
    if (tensor.dim() == 0 || tensor.size(0) != samples) {
      throw std::runtime_error(path + ": array '" + name + "' has shape " + shape_text(tensor) +
                               " but 'inputs' has " + std::to_string(samples) +
                               " samples; every array needs one row per sample");
    }
    if (name != "inputs" && name != "targets") split.extra_inputs[name] = tensor;
  }
  if (samples == 0) throw std::runtime_error(path + ": 'inputs' has no samples");
  return split;
}

orch::Task task_of(const std::string& task, const torch::Tensor& targets) {
  if (task == "classification") return orch::Task::kClassification;
  if (task == "binary") return orch::Task::kBinary;
  if (task == "regression") return orch::Task::kRegression;
  // auto: integers are class indices; floats of only 0 and 1 are binary labels.
  if (!targets.is_floating_point()) return orch::Task::kClassification;
  const bool zero_one = ((targets == 0) | (targets == 1)).all().item<bool>();
  return zero_one ? orch::Task::kBinary : orch::Task::kRegression;
}

class ArraysDataset : public InMemoryDataset {
 public:
  explicit ArraysDataset(const orch::Params& params) {
    const std::string& train_path = params.Str("train");
    TensorSplit train = read_split(train_path, params.Str("train_targets"));
    TensorSplit val;
    if (!params.Str("val").empty()) {
      val = read_split(params.Str("val"), params.Str("val_targets"));
      check_alike(train, val, train_path, params.Str("val"));
    } else {
      hold_out(train, val, params.Real("val_fraction"), params.Int("seed"), train_path);
    }
    task_ = task_of(params.Str("task"), train.targets);
    settle_targets(train, val, train_path);
    train_ = std::move(train);
    val_ = std::move(val);
  }

  orch::DatasetInfo describe() const override {
    orch::DatasetInfo info;
    info.input_shape = train_.inputs.sizes().slice(1).vec();
    info.classes = classes_;
    info.task = task_;
    for (const auto& [name, tensor] : train_.extra_inputs) {
      info.extra_input_shapes[name] = tensor.sizes().slice(1).vec();
    }
    return info;
  }

 private:
  static void check_alike(const TensorSplit& train, const TensorSplit& val,
                          const std::string& train_path, const std::string& val_path) {
    auto sample_shape = [](const torch::Tensor& t) { return t.sizes().slice(1).vec(); };
    if (sample_shape(train.inputs) != sample_shape(val.inputs)) {
      throw std::runtime_error(val_path + ": 'inputs' has shape " + shape_text(val.inputs) +
                               ", unlike " + train_path + "'s " + shape_text(train.inputs) +
                               "; one sample must look the same in both files");
    }
    for (const auto& [name, tensor] : train.extra_inputs) {
      if (!val.extra_inputs.count(name)) {
        throw std::runtime_error(val_path + " has no array '" + name + "', which " + train_path +
                                 " has; both files need the same arrays");
      }
    }
  }

  static void hold_out(TensorSplit& train, TensorSplit& val, double fraction, std::int64_t seed,
                       const std::string& path) {
    const HeldOutRows rows = held_out_rows(train.size(), fraction, seed);
    if (rows.train.size(0) < 1) {
      throw std::runtime_error(path + ": " + std::to_string(train.size()) +
                               " samples leave none for training with val_fraction = " +
                               number_text(fraction) + "; add samples or give a val file");
    }
    TensorSplit all = std::move(train);
    train = split_of(all, rows.train);
    val = split_of(all, rows.val);
  }

  static TensorSplit split_of(const TensorSplit& all, const torch::Tensor& rows) {
    orch::Batch batch = all.select(rows);
    return {batch.inputs, batch.targets, batch.extra_inputs};
  }

  // Class indices in range, binary labels as float 0/1, the number of classes.
  void settle_targets(TensorSplit& train, TensorSplit& val, const std::string& path) {
    if (task_ == orch::Task::kClassification) {
      for (TensorSplit* split : {&train, &val}) {
        if (split->targets.is_floating_point()) {
          throw std::runtime_error(path +
                                   ": task = \"classification\" needs integer class "
                                   "indices as 'targets', not floats; save y.astype(np.int64)");
        }
        if (split->targets.dim() != 1) {
          throw std::runtime_error(path +
                                   ": class targets must be one index per sample, not "
                                   "shape " +
                                   shape_text(split->targets));
        }
      }
      const auto low = std::min(train.targets.min().item<std::int64_t>(),
                                val.size() ? val.targets.min().item<std::int64_t>() : 0);
      if (low < 0) {
        throw std::runtime_error(path + ": a class index is " + std::to_string(low) +
                                 "; number the classes 0, 1, 2, ...");
      }
      classes_ = 1 + std::max(train.targets.max().item<std::int64_t>(),
                              val.size() ? val.targets.max().item<std::int64_t>() : 0);
      classes_ = std::max<std::int64_t>(classes_, 2);
      return;
    }
    for (TensorSplit* split : {&train, &val}) split->targets = split->targets.to(torch::kFloat);
    classes_ = task_ == orch::Task::kBinary ? 2 : 0;
  }

  orch::Task task_ = orch::Task::kClassification;
  std::int64_t classes_ = 0;
};

}  // namespace
}  // namespace orch_datasets

ORCH_PLUGIN("arrays", "1.0.0") {
  using orch::ParamSpec;
  registry.add_dataset<orch_datasets::ArraysDataset>(
      "arrays",
      {ParamSpec::Str("train", "train.npz",
                      "the training arrays: .npz (np.savez), .npy (np.save) or .pt (torch.save "
                      "of a dict)")
           .path(),
       ParamSpec::Str("val", "", "the validation arrays, like train; empty: hold out val_fraction")
           .path(),
       ParamSpec::Str("train_targets", "", "with a .npy train: the .npy of its targets").path(),
       ParamSpec::Str("val_targets", "", "with a .npy val: the .npy of its targets").path(),
       ParamSpec::Str("task", "auto",
                      "what the targets are: auto (integers: classes; floats of 0 and 1: binary; "
                      "other floats: regression)")
           .one_of({"auto", "classification", "binary", "regression"}),
       ParamSpec::Real("val_fraction", 0.2,
                       "without a val file: the share of training samples held out, by a "
                       "seeded shuffle")
           .range(0, 0.9),
       ParamSpec::Int("seed", 0, "seed of the train/validation shuffle").at_least(0)});
}
