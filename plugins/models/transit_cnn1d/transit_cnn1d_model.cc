// A two-branch 1D CNN that tells planet transits from false alarms in a light curve,
// after Shallue & Vanderburg (2018): one branch reads the whole folded orbit (global
// view), the other a close-up of the transit (local view, the extra input "local_view").
// The branches' features are concatenated, normalised and judged by one dense layer that
// gives one logit per light curve.
#include <orch/orch.h>

#include "model_support.h"

namespace {

constexpr const char* kLocalView = "local_view";

// Convolutions of `width` channels with the given kernels, each followed by ReLU and a
// max-pool by 2 while the curve is still at least 2 long. "Same" padding keeps short
// views valid. Sets `features` to the flattened output size for a curve of `length`.
torch::nn::Sequential make_branch(std::int64_t channels, std::int64_t length, std::int64_t width,
                                  const std::vector<std::int64_t>& kernels,
                                  std::int64_t& features) {
  torch::nn::Sequential branch;
  for (auto kernel : kernels) {
    branch->push_back(
        torch::nn::Conv1d(torch::nn::Conv1dOptions(channels, width, kernel).padding(kernel / 2)));
    branch->push_back(torch::nn::ReLU());
    if (length >= 2) {
      branch->push_back(torch::nn::MaxPool1d(2));
      length /= 2;
    }
    channels = width;
  }
  branch->push_back(torch::nn::Flatten());
  features = width * length;
  return branch;
}

struct TransitCnnImpl : torch::nn::Module {
  TransitCnnImpl(const std::vector<std::int64_t>& global_shape,
                 const std::vector<std::int64_t>& local_shape, std::int64_t width,
                 std::int64_t hidden, double dropout_p) {
    std::int64_t global_features = 0, local_features = 0;
    global_branch = register_module(
        "global_branch",
        make_branch(global_shape[0], global_shape[1], width, {7, 5, 5}, global_features));
    local_branch = register_module("local_branch", make_branch(local_shape[0], local_shape[1],
                                                               width, {5, 3, 3}, local_features));
    std::int64_t features = global_features + local_features;
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({features})));
    fc = register_module("fc", torch::nn::Linear(features, hidden));
    dropout = register_module("dropout", torch::nn::Dropout(dropout_p));
    logit = register_module("logit", torch::nn::Linear(hidden, 1));
  }

  // Flux sits near 1 and a transit is a dip of a fraction of the noise: each view is
  // rescaled to mean 0 and standard deviation 1 per curve, so the convolutions see the
  // dip's shape at the scale their initialisation expects. Without it training idles
  // at chance for epochs.
  static torch::Tensor standardized(const torch::Tensor& view) {
    auto centred = view - view.mean(-1, true);
    return centred / (centred.pow(2).mean(-1, true).sqrt() + 1e-6);
  }

  // [batch, channels, global length], [batch, channels, local length] -> [batch] logits
  torch::Tensor forward(const torch::Tensor& global_view, const torch::Tensor& local_view) {
    auto x = torch::cat({global_branch->forward(standardized(global_view)),
                         local_branch->forward(standardized(local_view))},
                        1);
    x = dropout(torch::relu(fc(norm(x))));
    return logit(x).squeeze(1);
  }

  torch::nn::Sequential global_branch{nullptr}, local_branch{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Linear fc{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear logit{nullptr};
};
TORCH_MODULE(TransitCnn);

// Checked before any layer is built, so a wrong dataset is refused in words rather than
// by a missing input or a shape error inside the first forward pass. Returns the local
// view's shape.
const std::vector<std::int64_t>& local_view_shape(const orch::DatasetInfo& data) {
  auto local = data.extra_input_shapes.find(kLocalView);
  if (data.task != orch::Task::kBinary || data.input_shape.size() != 2 ||
      local == data.extra_input_shapes.end() || local->second.size() != 2) {
    orch::models::refuse_dataset(
        "transit_cnn1d",
        "a two-view light curve dataset (binary task, inputs [channels, length] with extra "
        "input \"local_view\" [channels, length])",
        "synthetic_light_curves", data);
  }
  return local->second;
}

class TransitCnnModel : public orch::Model {
 public:
  TransitCnnModel(const orch::Params& params, const orch::DatasetInfo& data)
      : net_(data.input_shape, local_view_shape(data), params.Int("width"), params.Int("hidden"),
             params.Real("dropout")) {}

  torch::nn::Module& module() override { return *net_; }
  torch::Tensor forward(const orch::Batch& batch) override {
    auto local = batch.extra_inputs.find(kLocalView);
    if (local == batch.extra_inputs.end()) {
      throw std::invalid_argument(
          "transit_cnn1d: the batch has no extra input \"local_view\"; the dataset declared one "
          "but did not hand it out");
    }
    return net_->forward(batch.inputs, local->second);
  }
  torch::Tensor loss(const torch::Tensor& output, const orch::Batch& batch) override {
    return torch::nn::functional::binary_cross_entropy_with_logits(
        output, batch.targets.to(output.scalar_type()));
  }
  orch::Metrics evaluate(const torch::Tensor& output, const orch::Batch& batch) override {
    auto correct = output.gt(0).eq(batch.targets.gt(0.5)).to(torch::kDouble).mean();
    return {{"accuracy", correct.item<double>()}};
  }

 private:
  TransitCnn net_;
};

}  // namespace

ORCH_PLUGIN("transit_cnn1d", "1.0.0") {
  using orch::ParamSpec;
  registry.add_model<TransitCnnModel>(
      "transit_cnn1d",
      {ParamSpec::Int("width", 32, "channels of every 1D convolution in both branches")
           .range(1, 4096),
       ParamSpec::Int("hidden", 128, "width of the dense layer after the concatenated branches")
           .range(1, 65536),
       ParamSpec::Real("dropout", 0.3, "dropout probability after the dense layer").range(0, 1)});
}
