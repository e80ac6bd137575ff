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
  // Writes the trained weights to `path` ([train] save): by default module()'s parameters
  // and buffers as torch::save writes them (torch::load reads them back into the same
  // module). A model that can write something more useful overrides it.
  virtual void save(const std::string& path) {
    torch::serialize::OutputArchive archive;
    module().save(archive);
    archive.save_to(path);
  }
};

}  // namespace orch
