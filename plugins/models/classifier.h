// What every class-label model shares: cross-entropy against int64 class targets, and
// accuracy as the fraction of samples whose highest logit is the target.
#pragma once

#include <orch/orch.h>

namespace orch::models {

class Classifier : public orch::Model {
 public:
  torch::Tensor loss(const torch::Tensor& output, const orch::Batch& batch) override {
    return torch::nn::functional::cross_entropy(output, batch.targets);
  }
  orch::Metrics evaluate(const torch::Tensor& output, const orch::Batch& batch) override {
    auto correct = output.argmax(1).eq(batch.targets).to(torch::kDouble).mean();
    return {{"accuracy", correct.item<double>()}};
  }
};

}  // namespace orch::models
