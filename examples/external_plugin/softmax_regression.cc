// The smallest useful model plugin: multinomial logistic regression.
#include <orch/orch.h>

namespace {

// A classifier: orch::Classifier supplies the loss (cross-entropy against the class
// targets) and the accuracy metric; the model supplies its module and its logits.
class SoftmaxRegression : public orch::Classifier {
 public:
  SoftmaxRegression(const orch::Params& params, const orch::DatasetInfo& data)
      : linear_(torch::nn::LinearOptions(inputs(data), data.classes).bias(params.Bool("bias"))) {
    // Say what this model can learn: the run fails with this sentence instead of a
    // shape error deep inside LibTorch.
    if (data.task != orch::Task::kClassification) {
      throw std::invalid_argument(std::string("softmax_regression learns class labels; this "
                                              "dataset's task is ") +
                                  orch::task_name(data.task));
    }
  }

  torch::nn::Module& module() override { return *linear_; }
  torch::Tensor forward(const orch::Batch& batch) override {
    return linear_->forward(batch.inputs.flatten(1));
  }

 private:
  static std::int64_t inputs(const orch::DatasetInfo& data) {
    std::int64_t size = 1;
    for (auto dim : data.input_shape) size *= dim;
    return size;
  }
  torch::nn::Linear linear_;
};

}  // namespace

ORCH_PLUGIN("softmax_regression", "0.1.0") {
  registry.add_model<SoftmaxRegression>(
      "softmax_regression", {orch::ParamSpec::Bool("bias", true, "learn a bias per class")});
}
