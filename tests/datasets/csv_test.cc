// The csv dataset plugin on small files written here.
#include <torch/torch.h>

#include "tests/datasets/dataset_support.h"

namespace orch::testing {
namespace {

class CsvTest : public TempDir {
 protected:
  std::unique_ptr<Dataset> csv(const std::string& path, std::map<std::string, Value> values = {}) {
    values["path"] = path;
    return make_dataset("csv", values);
  }
  std::string error(const std::string& path, std::map<std::string, Value> values = {}) {
    return error_of([&] { csv(path, values); });
  }
};

// 50 rows: feature a = row number, b = 2 * row, label = row % 2 (integers).
std::string numbered_rows(int rows) {
  std::string text = "a,b,label\n";
  for (int r = 0; r < rows; ++r) {
    text += std::to_string(r) + "," + std::to_string(2 * r) + "," + std::to_string(r % 2) + "\n";
  }
  return text + "\n\n";  // blank trailing lines are fine
}

TEST_F(CsvTest, ReadsFeaturesAndIntegerLabels) {
  auto dataset = csv(write("data.csv", numbered_rows(50)), {{"standardize", false}});
  auto info = dataset->info();
  EXPECT_EQ(info.input_shape, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(info.classes, 2);
  EXPECT_EQ(info.task, Task::kClassification);
  EXPECT_EQ(info.train_size, 40);
  EXPECT_EQ(info.val_size, 10);
  // Each row keeps its own label and features; the split shuffles rows, not cells.
  for (Split split : {Split::kTrain, Split::kValidation}) {
    auto batch = whole_split(*dataset, split);
    EXPECT_EQ(batch.inputs.scalar_type(), torch::kFloat);
    EXPECT_EQ(batch.targets.scalar_type(), torch::kLong);
    auto row = batch.inputs.select(1, 0).to(torch::kLong);
    EXPECT_TRUE(torch::equal(batch.inputs.select(1, 1), batch.inputs.select(1, 0) * 2));
    EXPECT_TRUE(torch::equal(batch.targets, row.remainder(2)));
  }
  // The split is a seeded shuffle: not simply the last rows, the same for the same seed.
  auto val_rows = whole_split(*dataset, Split::kValidation).inputs.select(1, 0);
  EXPECT_FALSE(torch::equal(val_rows, torch::arange(40, 50, torch::kFloat)));
  auto again = csv(dir_ + "/data.csv", {{"standardize", false}});
  EXPECT_TRUE(torch::equal(val_rows, whole_split(*again, Split::kValidation).inputs.select(1, 0)));
  auto reseeded = csv(dir_ + "/data.csv", {{"standardize", false}, {"seed", std::int64_t{1}}});
  EXPECT_FALSE(
      torch::equal(val_rows, whole_split(*reseeded, Split::kValidation).inputs.select(1, 0)));
}

TEST_F(CsvTest, StandardizesWithTrainingStatistics) {
  auto dataset = csv(write("data.csv", numbered_rows(50)));
  auto train = whole_split(*dataset, Split::kTrain).inputs;
  EXPECT_LT(train.mean(0).abs().max().item<double>(), 1e-5);
  EXPECT_NEAR(train.std(0, false).min().item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(train.std(0, false).max().item<double>(), 1.0, 1e-5);
  // Validation is scaled with the same statistics, so it is not exactly centred.
  auto val = whole_split(*dataset, Split::kValidation).inputs;
  EXPECT_GT(val.mean(0).abs().max().item<double>(), 1e-4);
}

TEST_F(CsvTest, MapsTextLabelsToClassesInSortedOrder) {
  std::string path =
      write("iris.csv",
            "length,species\n1,virginica\n2,setosa\n3,versicolor\n4,setosa\n"
            "5,virginica\n6,\"versicolor\"\n7,setosa\n8,virginica\n9,setosa\n10,versicolor\n");
  auto dataset = csv(path, {{"label", std::string("species")}, {"standardize", false}});
  EXPECT_EQ(dataset->info().classes, 3);
  std::map<int, std::int64_t> expected = {{1, 2}, {2, 0}, {3, 1}, {4, 0}, {5, 2},
                                          {6, 1}, {7, 0}, {8, 2}, {9, 0}, {10, 1}};
  for (Split split : {Split::kTrain, Split::kValidation}) {
    auto batch = whole_split(*dataset, split);
    for (std::int64_t i = 0; i < batch.size(); ++i) {
      int row = static_cast<int>(batch.inputs[i][0].item<float>());
      EXPECT_EQ(batch.targets[i].item<std::int64_t>(), expected.at(row)) << "row " << row;
    }
  }
}

TEST_F(CsvTest, WithoutAHeaderTheLabelIsAColumnIndex) {
  std::string path =
      write("plain.tsv", "0.5\t1\t7\n1.5\t0\t8\n2.5\t1\t9\n3.5\t0\t10\n4.5\t1\t11\n");
  auto dataset = csv(path, {{"header", false},
                            {"delimiter", std::string("\t")},
                            {"label", std::string("1")},
                            {"standardize", false}});
  EXPECT_EQ(dataset->info().input_shape, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(dataset->info().train_size + dataset->info().val_size, 5);
  auto batch = whole_split(*dataset, Split::kTrain);
  auto first_column = batch.inputs.select(1, 0);
  EXPECT_TRUE(
      torch::equal(batch.targets, ((first_column - 0.5).remainder(2) == 0).to(torch::kLong)));

  std::string error_text = error(path, {{"header", false}, {"delimiter", std::string("\t")}});
  EXPECT_NE(error_text.find("dataset.header = false, so dataset.label must be the label column's "
                            "0-based index (0 to 2), not 'label'"),
            std::string::npos)
      << error_text;
}

TEST_F(CsvTest, NamesTheLineOfARaggedRow) {
  std::string path = write("data.csv", "a,b,label\n1,2,0\n3,4,1\n5,1\n");
  std::string text = error(path);
  EXPECT_NE(text.find(path + ":4: 2 fields, expected 3 like the header"), std::string::npos)
      << text;
}

TEST_F(CsvTest, NamesTheLineAndColumnOfANonNumericCell) {
  std::string path = write("data.csv", "x1,x2,x3,label\n1,2,3,0\n\n4,5,abc,1\n");
  std::string text = error(path);
  EXPECT_NE(text.find(path + ":4: column 'x3': 'abc' is not a number"), std::string::npos) << text;
  std::string empty_cell = write("empty.csv", "x1,x2,label\n1,,0\n");
  EXPECT_NE(error(empty_cell)
                .find(empty_cell + ":2: column 'x2': '' is not a number (the cell is empty)"),
            std::string::npos)
      << error(empty_cell);
}

TEST_F(CsvTest, ListsTheColumnsWhenTheLabelIsMissing) {
  std::string path = write("data.csv", "a,b,c\n1,2,0\n3,4,1\n");
  std::string text = error(path);
  EXPECT_NE(text.find(path +
                      ": no column 'label' in the header; columns are: a, b, c; set dataset.label"),
            std::string::npos)
      << text;
}

TEST_F(CsvTest, ExplainsFilesThatCannotBeADataset) {
  std::string empty = write("empty.csv", "\n\n");
  EXPECT_NE(error(empty).find(empty + ": the file is empty"), std::string::npos) << error(empty);
  std::string header_only = write("header.csv", "a,label\n");
  EXPECT_NE(error(header_only).find(header_only + ": no data rows after the header"),
            std::string::npos);
  std::string one_class = write("one.csv", "a,label\n1,3\n2,3\n3,3\n");
  EXPECT_NE(
      error(one_class).find("has only one value ('3'); a classifier needs at least 2 classes"),
      std::string::npos)
      << error(one_class);
  std::string missing = dir_ + "/nope.csv";
  EXPECT_NE(
      error(missing).find(missing + ": cannot open the file (it does not exist); set dataset.path"),
      std::string::npos)
      << error(missing);
  std::string semicolons = write("semi.csv", "a;b;label\n1;2;0\n");
  EXPECT_NE(error(semicolons).find("set dataset.delimiter"), std::string::npos)
      << error(semicolons);
  EXPECT_NE(error(semicolons, {{"delimiter", std::string(";;")}}).find("must be one character"),
            std::string::npos);
}

}  // namespace
}  // namespace orch::testing
