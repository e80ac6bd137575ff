// A small transformer encoder that classifies a sequence of feature vectors (e.g. 192
// tokens of 768 features) for several tasks at once: a linear embedding plus a learned
// position embedding, a stack of encoder layers, a mean over the tokens, and one linear
// head per task. The loss is the sum of the tasks' cross-entropies.
#include <orch/orch.h>

#include "model_support.h"

namespace {

struct MultitaskTransformerImpl : torch::nn::Module {
  MultitaskTransformerImpl(std::int64_t tokens, std::int64_t features, std::int64_t d_model,
                           std::int64_t heads, std::int64_t layers, std::int64_t feedforward,
                           double dropout, const std::vector<std::int64_t>& task_classes) {
    embed = register_module("embed", torch::nn::Linear(features, d_model));
    position = register_parameter("position", torch::randn({tokens, d_model}) * 0.02);
    encoder = register_module("encoder",
                              torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(
                                  torch::nn::TransformerEncoderLayerOptions(d_model, heads)
                                      .dim_feedforward(feedforward)
                                      .dropout(dropout),
                                  layers)));
    for (auto classes : task_classes) task_heads->push_back(torch::nn::Linear(d_model, classes));
    register_module("task_heads", task_heads);
  }

  // [batch, tokens, features] -> [batch, sum of task classes]: the tasks' logits side by side.
  torch::Tensor forward(const torch::Tensor& x) {
    auto tokens = embed(x) + position;
    // LibTorch 1.13's encoder has no batch_first option: it reads [tokens, batch, d_model]
    // (the test AttendsWithinEachSequenceNotAcrossTheBatch fails if this is wrong).
    auto encoded = encoder(tokens.transpose(0, 1));
    auto pooled = encoded.mean(0);
    std::vector<torch::Tensor> logits;
    for (const auto& head : *task_heads) {
      logits.push_back(head->as<torch::nn::Linear>()->forward(pooled));
    }
    return torch::cat(logits, 1);
  }

  torch::nn::Linear embed{nullptr};
  torch::Tensor position;
  torch::nn::TransformerEncoder encoder{nullptr};
  torch::nn::ModuleList task_heads;
};
TORCH_MODULE(MultitaskTransformer);

// Checked before any layer is built, so a wrong dataset or size is refused in words rather
// than by a shape error inside the first forward pass.
const orch::DatasetInfo& learnable(const orch::DatasetInfo& data, const orch::Params& params) {
  bool classes_ok = !data.task_classes.empty();
  for (auto classes : data.task_classes) classes_ok = classes_ok && classes >= 1;
  if (data.task != orch::Task::kMultiTask || data.input_shape.size() != 2 || !classes_ok) {
    orch::models::refuse_dataset(
        "multitask_transformer",
        "a multi-task sequence dataset (inputs [tokens, features], targets one class index per "
        "task)",
        "synthetic_sequences", data);
  }
  std::int64_t d_model = params.Int("d_model"), heads = params.Int("heads");
  if (d_model % heads != 0) {
    std::string fits;
    for (std::int64_t h = 1; h <= std::min<std::int64_t>(d_model, 64); ++h) {
      if (d_model % h == 0) fits += (fits.empty() ? "" : ", ") + std::to_string(h);
    }
    throw std::invalid_argument("multitask_transformer: heads = " + std::to_string(heads) +
                                " does not divide d_model = " + std::to_string(d_model) +
                                " (each head attends over d_model / heads features); set "
                                "heads to one of " +
                                fits + ", or change d_model");
  }
  return data;
}

class MultitaskTransformerModel : public orch::Model {
 public:
  MultitaskTransformerModel(const orch::Params& params, const orch::DatasetInfo& data)
      : task_classes_(learnable(data, params).task_classes),
        net_(data.input_shape[0], data.input_shape[1], params.Int("d_model"), params.Int("heads"),
             params.Int("layers"), params.Int("feedforward"), params.Real("dropout"),
             task_classes_) {}

  torch::nn::Module& module() override { return *net_; }
  torch::Tensor forward(const orch::Batch& batch) override { return net_->forward(batch.inputs); }
  torch::Tensor loss(const torch::Tensor& output, const orch::Batch& batch) override {
    auto logits = output.split_with_sizes(task_classes_, 1);
    auto total = cross_entropy(logits[0], batch.targets.select(1, 0));
    for (std::int64_t task = 1; task < static_cast<std::int64_t>(logits.size()); ++task) {
      total = total + cross_entropy(logits[task], batch.targets.select(1, task));
    }
    return total;
  }
  // "accuracy" is the mean over tasks, so sweeps rank multi-task runs like any other.
  orch::Metrics evaluate(const torch::Tensor& output, const orch::Batch& batch) override {
    auto logits = output.split_with_sizes(task_classes_, 1);
    orch::Metrics metrics;
    double sum = 0;
    for (std::int64_t task = 0; task < static_cast<std::int64_t>(logits.size()); ++task) {
      auto right = logits[task].argmax(1).eq(batch.targets.select(1, task));
      double accuracy = right.to(torch::kDouble).mean().item<double>();
      metrics["task" + std::to_string(task) + "_accuracy"] = accuracy;
      sum += accuracy;
    }
    metrics["accuracy"] = sum / static_cast<double>(logits.size());
    return metrics;
  }

 private:
  static torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
    return torch::nn::functional::cross_entropy(logits, targets);
  }

  std::vector<std::int64_t> task_classes_;
  MultitaskTransformer net_;
};

}  // namespace

ORCH_PLUGIN("multitask_transformer", "1.0.0") {
  using orch::ParamSpec;
  registry.add_model<MultitaskTransformerModel>(
      "multitask_transformer",
      {ParamSpec::Int("d_model", 256,
                      "width of the token embedding and of every encoder layer; "
                      "must be divisible by heads")
           .range(1, 16384),
       ParamSpec::Int("heads", 4, "attention heads per encoder layer").range(1, 256),
       ParamSpec::Int("layers", 2, "number of transformer encoder layers").range(1, 64),
       ParamSpec::Int("feedforward", 512, "hidden width of each encoder layer's feed-forward block")
           .range(1, 65536),
       ParamSpec::Real("dropout", 0.1, "dropout probability inside the encoder layers")
           .range(0, 1)});
}
