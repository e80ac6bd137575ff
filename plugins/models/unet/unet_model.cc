// A small U-Net that predicts a foreground mask (e.g. where a watermark is) with one logit
// per pixel. Going down, each level is a double 3x3 convolution and a 2x2 max-pool; going
// up, a 2x2 transposed convolution doubles the size, the level's skip connection is
// concatenated, and a double convolution merges them. Widths double per level.
#include <orch/orch.h>

#include "model_support.h"

namespace {

// (3x3 convolution, BatchNorm, ReLU) twice; padded, so height and width stay the same.
torch::nn::Sequential double_conv(std::int64_t in_channels, std::int64_t out_channels) {
  auto conv = [](std::int64_t in, std::int64_t out) {
    // No bias: the BatchNorm right after it has its own shift.
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false));
  };
  return torch::nn::Sequential(
      conv(in_channels, out_channels), torch::nn::BatchNorm2d(out_channels), torch::nn::ReLU(),
      conv(out_channels, out_channels), torch::nn::BatchNorm2d(out_channels), torch::nn::ReLU());
}

struct UNetImpl : torch::nn::Module {
  UNetImpl(std::int64_t in_channels, std::int64_t width, std::int64_t depth) {
    std::int64_t channels = in_channels;
    for (std::int64_t level = 0; level < depth; ++level) {
      std::int64_t out = width << level;
      down->push_back(double_conv(channels, out));
      channels = out;
    }
    bottom = register_module("bottom", double_conv(channels, width << depth));
    // up[i] brings the level below back to level depth-1-i.
    for (std::int64_t level = depth - 1; level >= 0; --level) {
      std::int64_t out = width << level;
      upsample->push_back(
          torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(out * 2, out, 2).stride(2)));
      up->push_back(double_conv(out * 2, out));
    }
    register_module("down", down);
    register_module("upsample", upsample);
    register_module("up", up);
    head = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, 1, 1)));
  }

  // [batch, channels, height, width] -> [batch, 1, height, width] logits
  torch::Tensor forward(torch::Tensor x) {
    namespace F = torch::nn::functional;
    std::vector<torch::Tensor> skips;
    for (const auto& level : *down) {
      x = level->as<torch::nn::Sequential>()->forward(x);
      skips.push_back(x);
      x = F::max_pool2d(x, F::MaxPool2dFuncOptions(2));
    }
    x = bottom->forward(x);
    for (std::size_t i = 0; i < up->size(); ++i) {
      x = upsample[i]->as<torch::nn::ConvTranspose2d>()->forward(x);
      x = torch::cat({skips[skips.size() - 1 - i], x}, 1);
      x = up[i]->as<torch::nn::Sequential>()->forward(x);
    }
    return head(x);
  }

  torch::nn::ModuleList down, upsample, up;
  torch::nn::Sequential bottom{nullptr};
  torch::nn::Conv2d head{nullptr};
};
TORCH_MODULE(UNet);

// Checked before any layer is built, so a wrong dataset or size is refused in words rather
// than by a shape error inside the first forward pass.
const orch::DatasetInfo& learnable(const orch::DatasetInfo& data, std::int64_t depth) {
  const auto& shape = data.input_shape;
  if (data.task != orch::Task::kSegmentation || shape.size() != 3) {
    orch::models::refuse_dataset(
        "unet",
        "a segmentation dataset (inputs [channels, height, width], targets a 0/1 mask "
        "[1, height, width])",
        "synthetic_segmentation", data);
  }
  std::int64_t step = std::int64_t{1} << depth;
  if (shape[1] % step != 0 || shape[2] % step != 0) {
    throw std::invalid_argument(
        "unet with depth = " + std::to_string(depth) + " halves the image " +
        std::to_string(depth) + " times, so height and width must be multiples of " +
        std::to_string(step) + "; this dataset gives " + std::to_string(shape[1]) + "x" +
        std::to_string(shape[2]) + " images: lower depth or resize the images");
  }
  return data;
}

class UNetModel : public orch::Model {
 public:
  UNetModel(const orch::Params& params, const orch::DatasetInfo& data)
      : net_(learnable(data, params.Int("depth")).input_shape[0], params.Int("width"),
             params.Int("depth")) {}

  torch::nn::Module& module() override { return *net_; }
  torch::Tensor forward(const orch::Batch& batch) override { return net_->forward(batch.inputs); }
  torch::Tensor loss(const torch::Tensor& output, const orch::Batch& batch) override {
    return torch::nn::functional::binary_cross_entropy_with_logits(
        output, batch.targets.to(output.scalar_type()));
  }
  // Pixel accuracy, and the intersection over union of predicted and true foreground
  // (1 when both are empty: nothing to find, nothing found).
  orch::Metrics evaluate(const torch::Tensor& output, const orch::Batch& batch) override {
    auto predicted = output.gt(0);
    auto truth = batch.targets.gt(0.5);
    double accuracy = predicted.eq(truth).to(torch::kDouble).mean().item<double>();
    double both = predicted.logical_and(truth).sum().item<double>();
    double either = predicted.logical_or(truth).sum().item<double>();
    return {{"accuracy", accuracy}, {"iou", either > 0 ? both / either : 1.0}};
  }

 private:
  UNet net_;
};

}  // namespace

ORCH_PLUGIN("unet", "1.0.0") {
  using orch::ParamSpec;
  registry.add_model<UNetModel>(
      "unet",
      {ParamSpec::Int("depth", 3,
                      "down-sampling levels; height and width must be multiples of "
                      "2^depth")
           .range(1, 8),
       ParamSpec::Int("width", 16, "channels of the first level, doubled at each level below")
           .range(1, 1024)});
}
