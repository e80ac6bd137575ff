// The arrays dataset plugin on files Python writes the way users do: np.savez,
// np.savez_compressed, np.save and torch.save. Values must come back exactly.
#include <torch/torch.h>

#include <fstream>
#include <string>

#include "tests/datasets/dataset_support.h"
#include "tests/support/python_torch.h"
#include "tests/support/unit_test_support.h"

namespace orch::testing {
namespace {

class ArraysTest : public TempDir {
 protected:
  void SetUp() override {
    TempDir::SetUp();
    if (!python_torch_missing().empty()) GTEST_SKIP() << python_torch_missing();
  }
  std::unique_ptr<Dataset> arrays(std::map<std::string, Value> values) {
    for (auto& [key, value] : values) {
      if (key == "train" || key == "val" || key == "train_targets") {
        value = dir_ + "/" + std::get<std::string>(value);
      }
    }
    return make_dataset("arrays", values);
  }
  std::string error(std::map<std::string, Value> values) {
    return error_of([&] { arrays(values); });
  }
};

// What the Python side writes, computed again here: sample i's inputs are i*12 .. i*12+11
// divided by 8 (exact in float32), shaped [3, 4]; its class is i % 3; its mask is i % 2.
torch::Tensor expected_inputs(std::int64_t first, std::int64_t count) {
  return torch::arange(first * 12, (first + count) * 12, torch::kDouble)
      .div(8)
      .reshape({count, 3, 4})
      .to(torch::kFloat);
}

const char* kWriteSplits = R"(
def split(first, count):
    i = np.arange(first, first + count)
    x = (np.arange(first * 12, (first + count) * 12, dtype=np.float64) / 8).reshape(count, 3, 4)
    return x, (i % 3).astype(np.int32), np.asfortranarray(np.stack([i % 2, i], 1).astype(np.float32))
x, y, m = split(0, 50)
np.savez("train.npz", inputs=x, targets=y, mask=m)
x, y, m = split(50, 10)
np.savez_compressed("val.npz", inputs=x, targets=y, mask=m)
np.save("train_x.npy", x); np.save("train_y.npy", y)
torch.save({"inputs": torch.from_numpy(x), "targets": torch.from_numpy(y).long(),
            "mask": torch.from_numpy(np.ascontiguousarray(m))}, "val.pt")
)";

TEST_F(ArraysTest, ReadsWhatNumpyAndTorchSaveWroteValueForValue) {
  ASSERT_TRUE(run_python(dir_, kWriteSplits));
  auto dataset = arrays({{"train", "train.npz"}, {"val", "val.npz"}});
  const DatasetInfo info = dataset->info();
  EXPECT_EQ(info.input_shape, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(info.task, Task::kClassification);
  EXPECT_EQ(info.classes, 3);
  EXPECT_EQ(info.train_size, 50);
  EXPECT_EQ(info.val_size, 10);
  EXPECT_EQ(info.extra_input_shapes.at("mask"), (std::vector<std::int64_t>{2}));

  const Batch train = whole_split(*dataset, Split::kTrain);
  EXPECT_EQ(train.inputs.scalar_type(), torch::kFloat) << "float64 arrays arrive as float32";
  EXPECT_TRUE(torch::equal(train.inputs, expected_inputs(0, 50)));
  EXPECT_EQ(train.targets.scalar_type(), torch::kLong) << "int32 class indices arrive as int64";
  EXPECT_TRUE(torch::equal(train.targets, torch::arange(50, torch::kLong).remainder(3)));
  // A Fortran-ordered array keeps its values where NumPy has them.
  const auto rows = torch::arange(50, torch::kFloat);
  EXPECT_TRUE(
      torch::equal(train.extra_inputs.at("mask"), torch::stack({rows.remainder(2), rows}, 1)));

  const Batch val = whole_split(*dataset, Split::kValidation);
  EXPECT_TRUE(torch::equal(val.inputs, expected_inputs(50, 10))) << "np.savez_compressed";

  auto from_torch = arrays({{"train", "train.npz"}, {"val", "val.pt"}});
  EXPECT_TRUE(torch::equal(whole_split(*from_torch, Split::kValidation).inputs, val.inputs))
      << "torch.save of a dict";
  auto from_npy = arrays({{"train", "train_x.npy"}, {"train_targets", "train_y.npy"}});
  EXPECT_EQ(from_npy->info().train_size + from_npy->info().val_size, 10) << "np.save pair";
}

// Whether this process has `path` mapped into memory (/proc/self/maps names the file).
bool mapped(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() >= path.size() &&
        line.compare(line.size() - path.size(), path.size(), path) == 0)
      return true;
  }
  return false;
}

// np.savez stores float32 and int64 arrays as they are: the dataset uses them from a
// mapping of the file (every run shares its pages) and gives the same values; the mapping
// goes away with the dataset.
TEST_F(ArraysTest, UncompressedArraysAreUsedFromAMappingOfTheFileWithTheSameValues) {
  ASSERT_TRUE(run_python(dir_, R"(
x = (np.arange(0, 60 * 12, dtype=np.float32) / 8).reshape(60, 3, 4)
y = np.arange(60, dtype=np.int64) % 3
np.savez("train.npz", inputs=x[:50], targets=y[:50])
np.save("val_x.npy", x[50:]); np.save("val_y.npy", y[50:])
np.savez("val.npz", inputs=x[50:], targets=y[50:])
)"));
  {
    auto dataset = arrays({{"train", "train.npz"}, {"val", "val.npz"}});
    EXPECT_TRUE(mapped(dir_ + "/train.npz")) << "np.savez's members are used in place";
    EXPECT_TRUE(mapped(dir_ + "/val.npz"));
    const Batch train = whole_split(*dataset, Split::kTrain);
    EXPECT_TRUE(torch::equal(train.inputs, expected_inputs(0, 50)));
    EXPECT_TRUE(torch::equal(train.targets, torch::arange(50, torch::kLong).remainder(3)));
    EXPECT_TRUE(
        torch::equal(whole_split(*dataset, Split::kValidation).inputs, expected_inputs(50, 10)));
  }
  EXPECT_FALSE(mapped(dir_ + "/train.npz")) << "unmapped with the last tensor over it";

  auto from_npy =
      arrays({{"train", "val_x.npy"}, {"train_targets", "val_y.npy"}, {"val", "val.npz"}});
  EXPECT_TRUE(mapped(dir_ + "/val_x.npy")) << "np.save's array is used in place";
  EXPECT_TRUE(torch::equal(whole_split(*from_npy, Split::kTrain).inputs, expected_inputs(50, 10)));
}

TEST_F(ArraysTest, WithoutAValFileASeededShareOfTrainingIsHeldOut) {
  ASSERT_TRUE(run_python(dir_, kWriteSplits));
  auto dataset = arrays({{"train", "train.npz"}, {"val_fraction", 0.2}, {"seed", std::int64_t{4}}});
  EXPECT_EQ(dataset->info().train_size, 40);
  EXPECT_EQ(dataset->info().val_size, 10);
  const Batch val = whole_split(*dataset, Split::kValidation);
  const Batch train = whole_split(*dataset, Split::kTrain);
  // Every sample is in exactly one split, with its own target.
  const auto ids = torch::cat({train.inputs, val.inputs}).select(1, 0).select(1, 0).mul(8).div(12);
  EXPECT_TRUE(torch::equal(std::get<0>(ids.sort()), torch::arange(50, torch::kFloat)));
  EXPECT_TRUE(torch::equal(
      val.targets,
      val.inputs.select(1, 0).select(1, 0).mul(8).div(12).to(torch::kLong).remainder(3)));
  auto again = arrays({{"train", "train.npz"}, {"val_fraction", 0.2}, {"seed", std::int64_t{4}}});
  EXPECT_TRUE(torch::equal(whole_split(*again, Split::kValidation).inputs, val.inputs));
}

TEST_F(ArraysTest, TheTaskFollowsTheTargetsDtype) {
  ASSERT_TRUE(run_python(dir_, R"(
x = np.zeros((6, 2), np.float32)
np.savez("binary.npz", inputs=x, targets=np.array([0, 1, 1, 0, 1, 0], np.float32))
np.savez("regression.npz", inputs=x, targets=np.linspace(0, 1, 12, dtype=np.float32).reshape(6, 2))
)"));
  EXPECT_EQ(arrays({{"train", "binary.npz"}})->info().task, Task::kBinary);
  auto regression = arrays({{"train", "regression.npz"}});
  EXPECT_EQ(regression->info().task, Task::kRegression);
  EXPECT_EQ(whole_split(*regression, Split::kTrain).targets.size(1), 2);
  EXPECT_EQ(arrays({{"train", "binary.npz"}, {"task", std::string("regression")}})->info().task,
            Task::kRegression);
}

TEST_F(ArraysTest, BadFilesAreRefusedInOneSentenceThatSaysWhatToDo) {
  ASSERT_TRUE(run_python(dir_, R"(
x = np.zeros((4, 2), np.float32)
np.savez("no_targets.npz", inputs=x, labels=np.zeros(4))
np.savez("short.npz", inputs=x, targets=np.zeros(3, np.int64))
np.savez("words.npz", inputs=x, targets=np.array(["a", "b", "a", "b"]))
np.save("whole.npy", x)
open("cut.npy", "wb").write(open("whole.npy", "rb").read()[:-5])
torch.save(torch.zeros(2), "tensor.pt")
torch.save([torch.zeros(2)], "list.pt")
open("notes.npz", "w").write("not a zip")
)"));
  EXPECT_TRUE(contains(error({{"train", "no_targets.npz"}}),
                       "has no array 'targets' (it has inputs, labels); save np.savez(path, "
                       "inputs=X, targets=y)"));
  EXPECT_TRUE(contains(error({{"train", "short.npz"}}),
                       "array 'targets' has shape [3] but 'inputs' has 4 samples"));
  EXPECT_TRUE(contains(error({{"train", "words.npz"}}), "array 'targets' holds strings (<U1)"));
  EXPECT_TRUE(contains(error({{"train", "cut.npy"}, {"train_targets", "whole.npy"}}),
                       "cut.npy: the file is truncated (27 of 32 bytes of data); write it again"));
  EXPECT_TRUE(contains(error({{"train", "tensor.pt"}}), "tensor.pt holds a Tensor, not a dict"));
  EXPECT_TRUE(contains(error({{"train", "list.pt"}}),
                       "list.pt: LibTorch cannot read it (Unknown opcode for unpickling at 0x61: "
                       "97); orch reads a dict of tensors"));
  EXPECT_TRUE(contains(error({{"train", "notes.npz"}}), "notes.npz: not a NumPy .npz archive"));
  EXPECT_TRUE(contains(error({{"train", "missing.npz"}}), "missing.npz: no such file"));
  EXPECT_TRUE(contains(error({{"train", "whole.npy"}}), "'targets'"));
}

}  // namespace
}  // namespace orch::testing
