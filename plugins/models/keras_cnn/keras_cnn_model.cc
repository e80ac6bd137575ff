// The CNN of the Keras MNIST example: two unpadded 3x3 convolutions, one max-pool,
// dropout, a dense hidden layer, dropout again, and a dense layer to the classes.
// On 28x28 images the defaults flatten 64 x 12 x 12 = 9216 features.
#include <orch/orch.h>

#include "model_support.h"

namespace {

struct KerasCnnImpl : torch::nn::Module {
  KerasCnnImpl(const std::vector<std::int64_t>& image, std::int64_t conv1_channels,
               std::int64_t conv2_channels, std::int64_t hidden, double dropout_p,
               double dropout_dense_p, std::int64_t classes)
      : conv1(torch::nn::Conv2dOptions(image[0], conv1_channels, 3)),
        conv2(torch::nn::Conv2dOptions(conv1_channels, conv2_channels, 3)),
        dropout(dropout_p),
        // Each unpadded convolution trims two pixels; the pool halves, rounding down.
        fc1(conv2_channels * ((image[1] - 4) / 2) * ((image[2] - 4) / 2), hidden),
        dropout_dense(dropout_dense_p),
        fc2(hidden, classes) {
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    register_module("dropout", dropout);
    register_module("fc1", fc1);
    register_module("dropout_dense", dropout_dense);
    register_module("fc2", fc2);
  }

  torch::Tensor forward(torch::Tensor x) {
    namespace F = torch::nn::functional;
    x = torch::relu(conv1(x));
    x = torch::relu(conv2(x));
    x = dropout(F::max_pool2d(x, F::MaxPool2dFuncOptions(2))).flatten(1);
    x = dropout_dense(torch::relu(fc1(x)));
    return fc2(x);
  }

  torch::nn::Conv2d conv1, conv2;
  torch::nn::Dropout dropout;
  torch::nn::Linear fc1;
  torch::nn::Dropout dropout_dense;
  torch::nn::Linear fc2;
};
TORCH_MODULE(KerasCnn);

// Checked before any layer is built, so a wrong dataset is refused in words rather than
// by a shape error inside the first forward pass.
const std::vector<std::int64_t>& image_shape(const orch::DatasetInfo& data) {
  const auto& shape = data.input_shape;
  if (data.task != orch::Task::kClassification || shape.size() != 3) {
    orch::models::refuse_dataset(
        "keras_cnn", "an image classification dataset (inputs [channels, height, width])",
        "mnist or synthetic_images", data);
  }
  if (shape[1] < 6 || shape[2] < 6) {
    throw std::invalid_argument(
        "keras_cnn needs images of at least 6x6 pixels (two unpadded 3x3 convolutions, then a "
        "2x2 pool); this dataset gives images of shape " +
        orch::models::shape_text(shape));
  }
  return shape;
}

class KerasCnnModel : public orch::Classifier {
 public:
  KerasCnnModel(const orch::Params& params, const orch::DatasetInfo& data)
      : net_(image_shape(data), params.Int("conv1"), params.Int("conv2"), params.Int("hidden"),
             params.Real("dropout"), params.Real("dropout_dense"), data.classes) {}

  torch::nn::Module& module() override { return *net_; }
  torch::Tensor forward(const orch::Batch& batch) override { return net_->forward(batch.inputs); }

 private:
  KerasCnn net_;
};

}  // namespace

ORCH_PLUGIN("keras_cnn", "1.0.0") {
  using orch::ParamSpec;
  registry.add_model<KerasCnnModel>(
      "keras_cnn",
      {ParamSpec::Int("conv1", 32, "channels of the first 3x3 convolution").range(1, 4096),
       ParamSpec::Int("conv2", 64, "channels of the second 3x3 convolution").range(1, 4096),
       ParamSpec::Int("hidden", 128, "width of the dense hidden layer").range(1, 65536),
       ParamSpec::Real("dropout", 0.25, "dropout probability after the max-pool").range(0, 1),
       ParamSpec::Real("dropout_dense", 0.5, "dropout probability after the dense hidden layer")
           .range(0, 1)});
}
