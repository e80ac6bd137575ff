// One split of a dataset held in memory as whole tensors, cut into batches by index.
#pragma once

#include <orch/dataset.h>

#include <map>
#include <string>

namespace orch_datasets {

struct TensorSplit {
  torch::Tensor inputs;                               // [samples, ...]
  torch::Tensor targets;                              // [samples, ...]
  std::map<std::string, torch::Tensor> extra_inputs;  // [samples, ...] each

  std::int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }

  orch::Batch select(const torch::Tensor& indices) const {
    orch::Batch batch{inputs.index_select(0, indices), targets.index_select(0, indices), {}};
    for (const auto& [name, tensor] : extra_inputs) {
      batch.extra_inputs[name] = tensor.index_select(0, indices);
    }
    return batch;
  }
};

}  // namespace orch_datasets
