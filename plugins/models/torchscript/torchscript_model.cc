// "torchscript": a model written in Python and exported with torch.jit.script or
// torch.jit.trace, trained by orch's own loop like any C++ model (optimizer, schedule,
// clipping, accumulation, bf16 autocast, memory budget, probe, benchmark mode).
//   scripted = torch.jit.script(net)      # or torch.jit.trace(net, example_inputs)
//   scripted.save("net.pt")
// Its forward takes the dataset's inputs first, then the dataset's named extra inputs by
// argument name. The loss is the module's own `loss(output, target)` method when it has
// one, otherwise the one the dataset's task calls for, or the one named by `loss`.
#include <orch/orch.h>
#include <torch/script.h>

#include <fstream>
#include <stdexcept>

#include "model_support.h"
#include "torchscript/script_module.h"

namespace {

using orch::models::shape_text;

enum class Loss { kCrossEntropy, kBceWithLogits, kMse, kModule };

Loss loss_for(const std::string& name, const orch::DatasetInfo& data, bool module_has_loss,
              const std::string& path) {
  if (name == "cross_entropy") return Loss::kCrossEntropy;
  if (name == "bce_with_logits") return Loss::kBceWithLogits;
  if (name == "mse") return Loss::kMse;
  if (name == "module") {
    if (!module_has_loss) {
      throw std::invalid_argument(path +
                                  " has no scripted method loss(output, target); "
                                  "give it one, or set model.loss to cross_entropy, "
                                  "bce_with_logits or mse");
    }
    return Loss::kModule;
  }
  // auto
  if (module_has_loss) return Loss::kModule;
  switch (data.task) {
    case orch::Task::kClassification:
      return Loss::kCrossEntropy;
    case orch::Task::kBinary:
    case orch::Task::kSegmentation:
      return Loss::kBceWithLogits;
    case orch::Task::kRegression:
      return Loss::kMse;
    case orch::Task::kMultiTask:
      break;
  }
  throw std::invalid_argument("torchscript cannot pick a loss for " + orch::models::describe(data) +
                              "; give the module a scripted loss(output, target) method");
}

// A Classifier for its cross-entropy and accuracy; the other losses are its own.
class TorchScriptModel : public orch::Classifier {
 public:
  TorchScriptModel(const orch::Params& params, const orch::DatasetInfo& data)
      : path_(params.Str("path")),
        net_(orch_models::load_script_module(path_)),
        inputs_(orch_models::forward_inputs(net_->scripted(), data, path_)),
        loss_(loss_for(params.Str("loss"), data, net_->scripted().find_method("loss").has_value(),
                       path_)),
        task_(data.task) {
    check_output(data);
  }

  torch::nn::Module& module() override { return *net_; }

  // A TorchScript file again, with the trained weights: torch.jit.load reads it in Python.
  void save(const std::string& path) override { net_->scripted().save(path); }

  torch::Tensor forward(const orch::Batch& batch) override {
    std::vector<torch::jit::IValue> arguments;
    for (const auto& name : inputs_) {
      arguments.emplace_back(name.empty() ? batch.inputs : batch.extra_inputs.at(name));
    }
    torch::jit::IValue output = net_->scripted().forward(arguments);
    if (!output.isTensor()) {
      throw std::runtime_error(path_ + ": forward returned a " + output.tagKind() +
                               ", not a tensor; return the logits (or predictions) as one tensor");
    }
    return output.toTensor();
  }

  torch::Tensor loss(const torch::Tensor& output, const orch::Batch& batch) override {
    namespace F = torch::nn::functional;
    switch (loss_) {
      case Loss::kCrossEntropy:
        return Classifier::loss(output, batch);
      case Loss::kBceWithLogits:
        return F::binary_cross_entropy_with_logits(output.reshape(batch.targets.sizes()),
                                                   batch.targets.to(output.scalar_type()));
      case Loss::kMse:
        return F::mse_loss(output.reshape(batch.targets.sizes()),
                           batch.targets.to(output.scalar_type()));
      case Loss::kModule:
        break;
    }
    return net_->scripted().get_method("loss")({output, batch.targets}).toTensor();
  }

  orch::Metrics evaluate(const torch::Tensor& output, const orch::Batch& batch) override {
    torch::NoGradGuard no_grad;
    if (task_ == orch::Task::kClassification && output.dim() == 2) {
      return Classifier::evaluate(output, batch);
    }
    if (task_ == orch::Task::kBinary) {
      auto predicted = output.reshape(batch.targets.sizes()).gt(0).to(batch.targets.scalar_type());
      return {{"accuracy", predicted.eq(batch.targets).to(torch::kDouble).mean().item<double>()}};
    }
    return {};
  }

 private:
  // One forward pass on two zero samples before any training, so that a module that does
  // not fit the dataset is refused in one sentence instead of deep inside the first step.
  void check_output(const orch::DatasetInfo& data) {
    const torch::Tensor output = probe_forward(data);
    if (loss_ == Loss::kModule) return;
    const std::vector<std::int64_t> want = orch_models::output_shape_for(data, 2);
    if (want.empty()) return;  // the dataset's description does not say
    const bool exact = loss_ == Loss::kCrossEntropy && data.task == orch::Task::kClassification;
    const bool matches =
        exact ? output.sizes().vec() == want : output.numel() == orch::models::flat_size(want);
    if (matches) return;
    const char* loss = loss_ == Loss::kCrossEntropy ? "cross_entropy"
                       : loss_ == Loss::kMse        ? "mse"
                                                    : "bce_with_logits";
    throw std::invalid_argument(path_ + ": forward returns shape " +
                                shape_text(output.sizes().vec()) + " for a batch of 2, but " +
                                loss + " on " + orch::models::describe(data) + " needs " +
                                shape_text(want));
  }

  torch::Tensor probe_forward(const orch::DatasetInfo& data) {
    torch::NoGradGuard no_grad;
    net_->eval();
    std::string error;
    for (auto dtype : {torch::kFloat, torch::kLong}) {  // integer inputs: token ids
      try {
        torch::Tensor output = forward(orch_models::zero_batch(data, 2, dtype));
        net_->train();
        return output;
      } catch (const std::exception& e) {
        if (error.empty()) error = orch_models::first_line(e.what());
      }
    }
    net_->train();
    throw std::invalid_argument(path_ + ": forward fails on samples shaped like the dataset's (" +
                                orch::models::describe(data) + "): " + error);
  }

  std::string path_;
  std::shared_ptr<orch_models::ScriptModule> net_;
  std::vector<std::string> inputs_;  // per forward argument: "" for inputs, else an extra input
  Loss loss_;
  orch::Task task_;
};

}  // namespace

ORCH_PLUGIN("torchscript", "1.0.0") {
  using orch::ParamSpec;
  registry.add_model<TorchScriptModel>(
      "torchscript",
      {ParamSpec::Str("path", "model.pt",
                      "the TorchScript file (torch.jit.script(net).save(path) in Python)")
           .path(),
       ParamSpec::Str("loss", "auto",
                      "auto (the module's loss method if it has one, else by the dataset's task), "
                      "module, cross_entropy, bce_with_logits or mse")
           .one_of({"auto", "module", "cross_entropy", "bce_with_logits", "mse"})});
}
