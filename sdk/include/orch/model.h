// A trainable model: its module, how it computes outputs, loss and metrics.
#pragma once

#include <torch/torch.h>

#include "orch/dataset.h"
#include "orch/types.h"

namespace orch {

class Model {
 public:
  virtual ~Model() = default;
  // The parameters the optimizer updates and the module moved to the backend's device.
  virtual torch::nn::Module& module() = 0;
  virtual torch::Tensor forward(const Batch& batch) = 0;
  // A scalar tensor; the trainer calls backward() on it.
  virtual torch::Tensor loss(const torch::Tensor& output, const Batch& batch) = 0;
  virtual Metrics evaluate(const torch::Tensor& output, const Batch& batch) = 0;
};

}  // namespace orch
