// Datasets hand out whole batches as tensors, cut from data already in memory.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "orch/types.h"

namespace orch {

struct Batch {
  torch::Tensor inputs;   // [batch, input_shape...]
  torch::Tensor targets;  // shape and type depend on DatasetInfo::task
  // Further named inputs, e.g. a light curve's "local_view"; [batch, shape...] each.
  std::map<std::string, torch::Tensor> extra_inputs;
  std::int64_t size() const { return inputs.size(0); }
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual DatasetInfo info() const = 0;
  // The samples at `indices` (int64, on the CPU) of one split, on the CPU; the trainer
  // moves them to the backend's device.
  virtual Batch batch(Split split, const torch::Tensor& indices) = 0;
};

}  // namespace orch
