// The mnist dataset plugin on a tiny IDX directory written here.
#include <torch/torch.h>

#include "tests/datasets/dataset_support.h"

namespace orch::testing {
namespace {

constexpr std::uint32_t kSide = 28;

// Image i is filled with the value (7 * i + pixel) % 256; its label is i % 10.
std::vector<std::uint8_t> pixels(std::uint32_t count) {
  std::vector<std::uint8_t> out(count * kSide * kSide);
  for (std::uint32_t i = 0; i < count; ++i) {
    for (std::uint32_t p = 0; p < kSide * kSide; ++p)
      out[i * kSide * kSide + p] = (7 * i + p) % 256;
  }
  return out;
}
std::vector<std::uint8_t> labels(std::uint32_t count) {
  std::vector<std::uint8_t> out(count);
  for (std::uint32_t i = 0; i < count; ++i) out[i] = i % 10;
  return out;
}

class MnistTest : public TempDir {
 protected:
  void SetUp() override {
    TempDir::SetUp();
    write_split("train", 30);
    write_split("t10k", 12);
  }
  void write_split(const std::string& prefix, std::uint32_t count) {
    write_file(dir_ + "/" + prefix + "-images-idx3-ubyte",
               idx_bytes({count, kSide, kSide}, pixels(count)));
    write_file(dir_ + "/" + prefix + "-labels-idx1-ubyte", idx_bytes({count}, labels(count)));
  }
  std::unique_ptr<Dataset> mnist(std::map<std::string, Value> values = {}) {
    values["dir"] = dir_;
    return make_dataset("mnist", values);
  }
};

TEST_F(MnistTest, ReadsBothSplitsWithTheirLabels) {
  auto dataset = mnist();
  auto info = dataset->info();
  EXPECT_EQ(info.input_shape, (std::vector<std::int64_t>{1, 28, 28}));
  EXPECT_EQ(info.classes, 10);
  EXPECT_EQ(info.task, Task::kClassification);
  EXPECT_EQ(info.train_size, 30);
  EXPECT_EQ(info.val_size, 12);
  auto batch = dataset->batch(Split::kValidation, torch::tensor({11, 3}, torch::kLong));
  EXPECT_EQ(batch.inputs.sizes(), (std::vector<std::int64_t>{2, 1, 28, 28}));
  EXPECT_EQ(batch.inputs.scalar_type(), torch::kFloat);
  EXPECT_EQ(batch.targets.scalar_type(), torch::kLong);
  EXPECT_EQ(batch.targets[0].item<std::int64_t>(), 1);
  EXPECT_EQ(batch.targets[1].item<std::int64_t>(), 3);
}

TEST_F(MnistTest, NormalizesWithMnistsMeanAndDeviation) {
  auto index = torch::tensor({3}, torch::kLong);
  // Image 3, pixel 10 holds (7 * 3 + 10) % 256 = 31.
  double raw = mnist({{"normalize", false}})
                   ->batch(Split::kTrain, index)
                   .inputs.flatten()[10]
                   .item<double>();
  EXPECT_NEAR(raw, 31.0 / 255, 1e-6);
  double normalized = mnist()->batch(Split::kTrain, index).inputs.flatten()[10].item<double>();
  EXPECT_NEAR(normalized, (31.0 / 255 - 0.1307) / 0.3081, 1e-5);
}

TEST_F(MnistTest, UsesTheFirstSamplesWhenLimited) {
  auto dataset = mnist({{"train_samples", std::int64_t{20}}, {"val_samples", std::int64_t{5}}});
  EXPECT_EQ(dataset->info().train_size, 20);
  EXPECT_EQ(dataset->info().val_size, 5);
  auto all = mnist();
  auto index = first(20);
  EXPECT_TRUE(torch::equal(dataset->batch(Split::kTrain, index).inputs,
                           all->batch(Split::kTrain, index).inputs));

  std::string error = error_of([&] { mnist({{"train_samples", std::int64_t{31}}}); });
  EXPECT_NE(error.find("dataset.train_samples = 31 but " + dir_ +
                       "/train-images-idx3-ubyte holds 30 images"),
            std::string::npos)
      << error;
}

TEST_F(MnistTest, AcceptsTheDottedFileNames) {
  std::filesystem::rename(dir_ + "/train-images-idx3-ubyte", dir_ + "/train-images.idx3-ubyte");
  std::filesystem::rename(dir_ + "/train-labels-idx1-ubyte", dir_ + "/train-labels.idx1-ubyte");
  ASSERT_TRUE(std::filesystem::exists(dir_ + "/train-images.idx3-ubyte"));
  EXPECT_EQ(mnist()->info().train_size, 30);
}

TEST_F(MnistTest, RejectsImagesAndLabelsThatDoNotBelongTogether) {
  write_file(dir_ + "/train-labels-idx1-ubyte", idx_bytes({29}, labels(29)));
  std::string error = error_of([&] { mnist(); });
  EXPECT_NE(error.find("train-images-idx3-ubyte has 30 images but " + dir_ +
                       "/train-labels-idx1-ubyte has 29 labels"),
            std::string::npos)
      << error;
}

TEST_F(MnistTest, RejectsALabelThatIsNotADigit) {
  auto bad = labels(12);
  bad[4] = 10;
  write_file(dir_ + "/t10k-labels-idx1-ubyte", idx_bytes({12}, bad));
  std::string error = error_of([&] { mnist(); });
  EXPECT_NE(error.find("t10k-labels-idx1-ubyte: label 10 of sample 4 is not a digit 0-9"),
            std::string::npos)
      << error;
}

TEST_F(MnistTest, SaysHowToGetMissingFiles) {
  std::filesystem::remove(dir_ + "/t10k-images-idx3-ubyte");
  std::string error = error_of([&] { mnist(); });
  EXPECT_NE(error.find("missing file t10k-images-idx3-ubyte in " + dir_), std::string::npos)
      << error;
  EXPECT_NE(error.find("run scripts/fetch-mnist.sh"), std::string::npos) << error;
}

}  // namespace
}  // namespace orch::testing
