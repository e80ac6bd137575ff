// Models that fail inside the worker, the ways real plugins do. The host must record
// each run's outcome and carry on with the sweep.
#include <orch/orch.h>

#include <csignal>
#include <cstdlib>
#include <stdexcept>

namespace {

enum class Failure { kSegfault, kAbort, kThrow };

class FaultyModel : public orch::Model {
 public:
  FaultyModel(const orch::DatasetInfo& data, Failure failure)
      : linear_(data.input_shape.at(0), data.classes), failure_(failure) {}

  torch::nn::Module& module() override { return *linear_; }
  torch::Tensor forward(const orch::Batch& batch) override {
    switch (failure_) {
      case Failure::kSegfault: std::raise(SIGSEGV); break;
      case Failure::kAbort: std::abort();
      case Failure::kThrow: throw std::runtime_error("fixture model failed on purpose");
    }
    return linear_->forward(batch.inputs);
  }
  torch::Tensor loss(const torch::Tensor& output, const orch::Batch& batch) override {
    return torch::nn::functional::cross_entropy(output, batch.targets);
  }
  orch::Metrics evaluate(const torch::Tensor&, const orch::Batch&) override { return {}; }

 private:
  torch::nn::Linear linear_;
  Failure failure_;
};

orch::ModelFactory failing(Failure failure) {
  return [failure](const orch::Params&, const orch::DatasetInfo& data) {
    return std::make_unique<FaultyModel>(data, failure);
  };
}

}  // namespace

ORCH_PLUGIN("faulty", "0.1.0") {
  registry.add_model("segfaults", {}, failing(Failure::kSegfault));
  registry.add_model("aborts", {}, failing(Failure::kAbort));
  registry.add_model("throws", {}, failing(Failure::kThrow));
}
