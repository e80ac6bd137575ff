// A two-block CNN image classifier: (conv 3x3 + BatchNorm + ReLU + max-pool) twice,
// channel dropout, then three fully connected layers. On 28x28 MNIST the defaults
// flatten 256 x 7 x 7 = 12544 features into the first Linear.
#include <orch/orch.h>

#include "model_support.h"

namespace {

struct MnistCnnImpl : torch::nn::Module {
  MnistCnnImpl(const std::vector<std::int64_t>& image, std::int64_t conv1_channels,
               std::int64_t conv2_channels, std::int64_t hidden1, std::int64_t hidden2,
               double dropout_p, std::int64_t classes)
      // No conv bias: the BatchNorm right after it subtracts the mean, so a bias would
      // receive no gradient and never learn.
      : conv1(torch::nn::Conv2dOptions(image[0], conv1_channels, 3).padding(1).bias(false)),
        bn1(conv1_channels),
        conv2(torch::nn::Conv2dOptions(conv1_channels, conv2_channels, 3).padding(1).bias(false)),
        bn2(conv2_channels),
        dropout(torch::nn::Dropout2dOptions().p(dropout_p)),
        // Padded convolutions keep the size; each of the two pools halves it, rounding down.
        fc1(conv2_channels * (image[1] / 4) * (image[2] / 4), hidden1),
        fc2(hidden1, hidden2),
        fc3(hidden2, classes) {
    register_module("conv1", conv1);
    register_module("bn1", bn1);
    register_module("conv2", conv2);
    register_module("bn2", bn2);
    register_module("dropout", dropout);
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("fc3", fc3);
  }

  torch::Tensor forward(torch::Tensor x) {
    namespace F = torch::nn::functional;
    x = F::max_pool2d(torch::relu(bn1(conv1(x))), F::MaxPool2dFuncOptions(2));
    x = F::max_pool2d(torch::relu(bn2(conv2(x))), F::MaxPool2dFuncOptions(2));
    x = dropout(x).flatten(1);
    x = torch::relu(fc1(x));
    x = torch::relu(fc2(x));
    return fc3(x);
  }

  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::BatchNorm2d bn2;
  torch::nn::Dropout2d dropout;
  torch::nn::Linear fc1, fc2, fc3;
};
TORCH_MODULE(MnistCnn);

// Checked before any layer is built, so a wrong dataset is refused in words rather than
// by a shape error inside the first forward pass.
const std::vector<std::int64_t>& image_shape(const orch::DatasetInfo& data) {
  const auto& shape = data.input_shape;
  if (data.task != orch::Task::kClassification || shape.size() != 3) {
    orch::models::refuse_dataset(
        "mnist_cnn", "an image classification dataset (inputs [channels, height, width])",
        "mnist or synthetic_images", data);
  }
  if (shape[1] < 4 || shape[2] < 4) {
    throw std::invalid_argument(
        "mnist_cnn needs images of at least 4x4 pixels (it pools twice by 2); "
        "this dataset gives images of shape " +
        orch::models::shape_text(shape));
  }
  return shape;
}

class MnistCnnModel : public orch::Classifier {
 public:
  MnistCnnModel(const orch::Params& params, const orch::DatasetInfo& data)
      : net_(image_shape(data), params.Int("conv1"), params.Int("conv2"), params.Int("hidden1"),
             params.Int("hidden2"), params.Real("dropout"), data.classes) {}

  torch::nn::Module& module() override { return *net_; }
  torch::Tensor forward(const orch::Batch& batch) override { return net_->forward(batch.inputs); }

 private:
  MnistCnn net_;
};

}  // namespace

ORCH_PLUGIN("mnist_cnn", "1.0.0") {
  using orch::ParamSpec;
  registry.add_model<MnistCnnModel>(
      "mnist_cnn",
      {ParamSpec::Int("conv1", 128, "channels of the first 3x3 convolution").range(1, 4096),
       ParamSpec::Int("conv2", 256, "channels of the second 3x3 convolution").range(1, 4096),
       ParamSpec::Int("hidden1", 256, "width of the first fully connected layer").range(1, 65536),
       ParamSpec::Int("hidden2", 100, "width of the second fully connected layer").range(1, 65536),
       ParamSpec::Real("dropout", 0.5,
                       "probability of zeroing a whole channel before the "
                       "fully connected layers (Dropout2d)")
           .range(0, 1)});
}
