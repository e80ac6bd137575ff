// A base for models that predict one class label per sample: cross-entropy against the
// dataset's int64 class targets, and accuracy, the fraction of samples whose highest
// logit is the target. A classifier supplies module() and forward() returning logits
// [batch, classes]; it may still override loss or evaluate (label smoothing, top-5).
#pragma once

#include "orch/model.h"

namespace orch {

class Classifier : public Model {
 public:
  torch::Tensor loss(const torch::Tensor& output, const Batch& batch) override {
    return torch::nn::functional::cross_entropy(output, batch.targets);
  }
  Metrics evaluate(const torch::Tensor& output, const Batch& batch) override {
    auto correct = output.argmax(1).eq(batch.targets).to(torch::kDouble).mean();
    return {{"accuracy", correct.item<double>()}};
  }
};

}  // namespace orch
