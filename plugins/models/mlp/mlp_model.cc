// A multi-layer perceptron classifier: Linear + ReLU blocks, then a Linear to the classes.
#include <orch/orch.h>

#include "model_support.h"

namespace {

struct MlpImpl : torch::nn::Module {
  MlpImpl(std::int64_t inputs, std::int64_t hidden, std::int64_t layers, std::int64_t classes) {
    std::int64_t width = inputs;
    for (std::int64_t i = 0; i < layers; ++i) {
      body->push_back(torch::nn::Linear(width, hidden));
      body->push_back(torch::nn::ReLU());
      width = hidden;
    }
    body->push_back(torch::nn::Linear(width, classes));
    register_module("body", body);
  }
  // Images and sequences are flattened; plain feature rows skip the extra dispatch.
  torch::Tensor forward(const torch::Tensor& x) {
    return body->forward(x.dim() > 2 ? x.flatten(1) : x);
  }

  torch::nn::Sequential body;
};
TORCH_MODULE(Mlp);

// Checked before any layer is built: a wrong dataset is refused in words, not by a
// shape error deep inside the first forward pass.
const orch::DatasetInfo& learnable(const orch::DatasetInfo& data) {
  if (data.task != orch::Task::kClassification) {
    orch::models::refuse_dataset("mlp", "a classification dataset (targets are class indices)",
                                 "synthetic, mnist or csv", data);
  }
  return data;
}

class MlpModel : public orch::Classifier {
 public:
  MlpModel(const orch::Params& params, const orch::DatasetInfo& data)
      : net_(orch::models::flat_size(learnable(data).input_shape), params.Int("hidden"),
             params.Int("layers"), data.classes) {}

  torch::nn::Module& module() override { return *net_; }
  torch::Tensor forward(const orch::Batch& batch) override { return net_->forward(batch.inputs); }

 private:
  Mlp net_;
};

}  // namespace

ORCH_PLUGIN("mlp", "1.0.0") {
  using orch::ParamSpec;
  registry.add_model<MlpModel>(
      "mlp", {ParamSpec::Int("hidden", 64, "width of each hidden layer").range(1, 1 << 20),
              ParamSpec::Int("layers", 2, "number of hidden layers").range(1, 1000)});
}
