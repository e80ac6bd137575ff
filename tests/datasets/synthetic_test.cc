// The synthetic dataset library: shapes, determinism, and that each set can be learned.
#include <torch/torch.h>

#include "tests/datasets/dataset_support.h"

namespace orch::testing {
namespace {

using Values = std::map<std::string, Value>;

// Small versions of every synthetic dataset, so each test builds in milliseconds.
struct Case {
  std::string name;
  Values small;
};
const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"synthetic", {{"samples", std::int64_t{64}}, {"val_samples", std::int64_t{32}}}},
      {"synthetic_images", {{"samples", std::int64_t{64}}, {"val_samples", std::int64_t{32}}}},
      {"synthetic_light_curves",
       {{"samples", std::int64_t{64}}, {"val_samples", std::int64_t{32}}}},
      {"synthetic_sequences",
       {{"samples", std::int64_t{64}},
        {"val_samples", std::int64_t{32}},
        {"features", std::int64_t{32}}}},
      {"synthetic_segmentation",
       {{"samples", std::int64_t{64}}, {"val_samples", std::int64_t{32}}}},
  };
  return all;
}

Values with(Values values, const std::string& key, Value value) {
  values[key] = std::move(value);
  return values;
}

bool same(const Batch& a, const Batch& b) {
  if (!torch::equal(a.inputs, b.inputs) || !torch::equal(a.targets, b.targets)) return false;
  if (a.extra_inputs.size() != b.extra_inputs.size()) return false;
  for (const auto& [name, tensor] : a.extra_inputs) {
    if (!b.extra_inputs.count(name) || !torch::equal(tensor, b.extra_inputs.at(name))) return false;
  }
  return true;
}

TEST(SyntheticDatasets, EveryParameterIsDocumentedAndNumbersHaveRanges) {
  for (const auto& c : cases()) {
    const PluginEntry* entry = dataset_catalog().find(PluginKind::kDataset, c.name);
    ASSERT_NE(entry, nullptr) << c.name;
    EXPECT_EQ(entry->library, "synthetic 1.1.0");
    for (const auto& spec : entry->params) {
      EXPECT_FALSE(spec.help.empty()) << c.name << "." << spec.name;
      if (spec.type == ParamType::kInt || spec.type == ParamType::kReal) {
        EXPECT_TRUE(spec.min.has_value()) << c.name << "." << spec.name;
      }
    }
  }
}

TEST(SyntheticDatasets, SameSeedGivesTheSameTensorsAndAnotherSeedOthers) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    auto a = make_dataset(c.name, with(c.small, "seed", std::int64_t{7}));
    auto b = make_dataset(c.name, with(c.small, "seed", std::int64_t{7}));
    auto other = make_dataset(c.name, with(c.small, "seed", std::int64_t{8}));
    for (Split split : {Split::kTrain, Split::kValidation}) {
      EXPECT_TRUE(same(whole_split(*a, split), whole_split(*b, split)));
      EXPECT_FALSE(torch::equal(whole_split(*a, split).inputs, whole_split(*other, split).inputs));
    }
    // Validation samples are new samples, not copies of the first training ones.
    auto indices = first(32);
    EXPECT_FALSE(torch::equal(a->batch(Split::kTrain, indices).inputs,
                              a->batch(Split::kValidation, indices).inputs));
  }
}

TEST(SyntheticDatasets, BatchesAreTheRowsAskedFor) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    auto dataset = make_dataset(c.name, c.small);
    auto all = whole_split(*dataset, Split::kTrain);
    auto picked = torch::tensor({5, 0, 63, 5}, torch::kLong);
    auto batch = dataset->batch(Split::kTrain, picked);
    EXPECT_TRUE(torch::equal(batch.inputs, all.inputs.index_select(0, picked)));
    EXPECT_TRUE(torch::equal(batch.targets, all.targets.index_select(0, picked)));
    for (const auto& [name, tensor] : batch.extra_inputs) {
      EXPECT_TRUE(torch::equal(tensor, all.extra_inputs.at(name).index_select(0, picked))) << name;
    }
  }
}

TEST(SyntheticVectors, KeepsItsShapesAndParameters) {
  auto dataset =
      make_dataset("synthetic", {{"features", std::int64_t{12}}, {"classes", std::int64_t{3}}});
  auto info = dataset->info();
  EXPECT_EQ(info.input_shape, (std::vector<std::int64_t>{12}));
  EXPECT_EQ(info.classes, 3);
  EXPECT_EQ(info.task, Task::kClassification);
  EXPECT_EQ(info.train_size, 2048);
  EXPECT_EQ(info.val_size, 512);
  auto batch = dataset->batch(Split::kTrain, first(10));
  EXPECT_EQ(batch.inputs.sizes(), (std::vector<std::int64_t>{10, 12}));
  EXPECT_EQ(batch.targets.scalar_type(), torch::kLong);
}

// Accuracy on validation of the nearest training class mean of `features` [n, d].
double nearest_mean_accuracy(const torch::Tensor& train_x, const torch::Tensor& train_y,
                             const torch::Tensor& val_x, const torch::Tensor& val_y,
                             std::int64_t classes) {
  auto means = torch::zeros({classes, train_x.size(1)});
  means.index_add_(0, train_y, train_x);
  means /= torch::bincount(train_y, {}, classes).unsqueeze(1).to(torch::kFloat);
  auto predicted = torch::cdist(val_x, means).argmin(1);
  return predicted.eq(val_y).to(torch::kDouble).mean().item<double>();
}

TEST(SyntheticImages, ShapesAndLabels) {
  auto dataset = make_dataset("synthetic_images", {{"samples", std::int64_t{100}},
                                                   {"val_samples", std::int64_t{50}},
                                                   {"channels", std::int64_t{3}},
                                                   {"height", std::int64_t{16}},
                                                   {"width", std::int64_t{20}}});
  auto info = dataset->info();
  EXPECT_EQ(info.input_shape, (std::vector<std::int64_t>{3, 16, 20}));
  EXPECT_EQ(info.classes, 10);
  EXPECT_EQ(info.task, Task::kClassification);
  EXPECT_EQ(info.train_size, 100);
  EXPECT_EQ(info.val_size, 50);
  auto batch = dataset->batch(Split::kValidation, first(50));
  EXPECT_EQ(batch.inputs.sizes(), (std::vector<std::int64_t>{50, 3, 16, 20}));
  EXPECT_EQ(batch.inputs.scalar_type(), torch::kFloat);
  EXPECT_EQ(batch.targets.sizes(), (std::vector<std::int64_t>{50}));
  EXPECT_EQ(batch.targets.scalar_type(), torch::kLong);
  EXPECT_EQ(std::get<0>(torch::_unique(batch.targets)).numel(), 10) << "balanced labels";
}

TEST(SyntheticImages, TheNearestClassMeanBeatsChance) {
  auto dataset = make_dataset(
      "synthetic_images", {{"samples", std::int64_t{2000}}, {"val_samples", std::int64_t{500}}});
  auto train = whole_split(*dataset, Split::kTrain);
  auto val = whole_split(*dataset, Split::kValidation);
  double accuracy = nearest_mean_accuracy(train.inputs.flatten(1), train.targets,
                                          val.inputs.flatten(1), val.targets, 10);
  EXPECT_GT(accuracy, 0.5) << "chance is 0.1";
}

TEST(SyntheticLightCurves, TwoViewsAndBinaryTargets) {
  auto dataset = make_dataset("synthetic_light_curves",
                              {{"samples", std::int64_t{400}}, {"val_samples", std::int64_t{100}}});
  auto info = dataset->info();
  EXPECT_EQ(info.input_shape, (std::vector<std::int64_t>{1, 201}));
  ASSERT_EQ(info.extra_input_shapes.count("local_view"), 1u);
  EXPECT_EQ(info.extra_input_shapes.at("local_view"), (std::vector<std::int64_t>{1, 61}));
  EXPECT_EQ(info.task, Task::kBinary);
  EXPECT_EQ(info.classes, 2);
  auto batch = whole_split(*dataset, Split::kTrain);
  EXPECT_EQ(batch.inputs.sizes(), (std::vector<std::int64_t>{400, 1, 201}));
  ASSERT_EQ(batch.extra_inputs.count("local_view"), 1u);
  EXPECT_EQ(batch.extra_inputs.at("local_view").sizes(), (std::vector<std::int64_t>{400, 1, 61}));
  EXPECT_EQ(batch.targets.sizes(), (std::vector<std::int64_t>{400}));
  EXPECT_EQ(batch.targets.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::logical_or(batch.targets == 0, batch.targets == 1).all().item<bool>());
  EXPECT_NEAR(batch.targets.mean().item<double>(), 0.5, 0.01);
  EXPECT_NEAR(batch.inputs.mean().item<double>(), 1.0, 0.05) << "flux is about 1";
}

TEST(SyntheticLightCurves, TransitsDimTheCentreOfBothViews) {
  auto dataset = make_dataset("synthetic_light_curves",
                              {{"samples", std::int64_t{2000}}, {"val_samples", std::int64_t{10}}});
  auto batch = whole_split(*dataset, Split::kTrain);
  auto local = batch.extra_inputs.at("local_view").squeeze(1);
  auto global = batch.inputs.squeeze(1);
  auto planet = batch.targets.to(torch::kBool);
  // The dip: mean flux of the central points below the mean of the whole view.
  auto local_dip = local.mean(1) - local.narrow(1, 25, 11).mean(1);
  auto global_dip = global.mean(1) - global.narrow(1, 99, 3).mean(1);
  EXPECT_GT(local_dip.index({planet}).mean().item<double>(),
            local_dip.index({~planet}).mean().item<double>() + 0.05);
  EXPECT_GT(global_dip.index({planet}).mean().item<double>(),
            global_dip.index({~planet}).mean().item<double>() + 0.05);
  // Thresholding the local dip at its median separates the classes well, but not always.
  auto predicted = local_dip > local_dip.median();
  double accuracy = predicted.eq(planet).to(torch::kDouble).mean().item<double>();
  EXPECT_GT(accuracy, 0.75);
  EXPECT_LT(accuracy, 0.995) << "shallow transits should not be trivial";
}

TEST(SyntheticLightCurves, RejectsADepthRangeTheWrongWayRound) {
  std::string error = error_of([] {
    make_dataset("synthetic_light_curves", {{"min_depth", 3.0}, {"max_depth", 1.0}});
  });
  EXPECT_NE(error.find("min_depth (3.0) is larger than max_depth (1.0)"), std::string::npos)
      << error;
}

TEST(SyntheticSequences, ShapesAndOneLabelPerTask) {
  auto dataset = make_dataset("synthetic_sequences",
                              {{"samples", std::int64_t{64}}, {"val_samples", std::int64_t{16}}});
  auto info = dataset->info();
  EXPECT_EQ(info.input_shape, (std::vector<std::int64_t>{192, 768}));
  EXPECT_EQ(info.task, Task::kMultiTask);
  EXPECT_EQ(info.task_classes, (std::vector<std::int64_t>{4, 4, 4}));
  EXPECT_EQ(info.classes, 4);
  auto batch = dataset->batch(Split::kTrain, first(8));
  EXPECT_EQ(batch.inputs.sizes(), (std::vector<std::int64_t>{8, 192, 768}));
  EXPECT_EQ(batch.inputs.scalar_type(), torch::kFloat);
  EXPECT_EQ(batch.targets.sizes(), (std::vector<std::int64_t>{8, 3}));
  EXPECT_EQ(batch.targets.scalar_type(), torch::kLong);
  auto all = whole_split(*dataset, Split::kTrain).targets;
  EXPECT_TRUE((all >= 0).all().item<bool>() && (all < 4).all().item<bool>());
}

// Nearest-class-mean accuracy of each task on mean-pooled tokens. Narrower tokens and
// stronger patterns than the defaults keep it quick and sure with few samples.
std::vector<double> pooled_accuracy(double strength) {
  auto dataset = make_dataset("synthetic_sequences", {{"samples", std::int64_t{400}},
                                                      {"val_samples", std::int64_t{200}},
                                                      {"features", std::int64_t{128}},
                                                      {"strength", strength}});
  auto pooled = [&](Split split) {
    auto batch = whole_split(*dataset, split);
    return std::make_pair(batch.inputs.mean(1), batch.targets);
  };
  auto [train_x, train_y] = pooled(Split::kTrain);
  auto [val_x, val_y] = pooled(Split::kValidation);
  std::vector<double> accuracy;
  for (std::int64_t task = 0; task < 3; ++task) {
    accuracy.push_back(nearest_mean_accuracy(train_x, train_y.select(1, task).contiguous(), val_x,
                                             val_y.select(1, task).contiguous(), 4));
  }
  return accuracy;
}

TEST(SyntheticSequences, EveryTasksLabelCanBeReadFromItsPattern) {
  for (double accuracy : pooled_accuracy(1.0)) EXPECT_GT(accuracy, 0.7) << "chance is 0.25";
  // Without the patterns nothing gives the labels away.
  for (double accuracy : pooled_accuracy(0.0)) EXPECT_LT(accuracy, 0.4);
}

TEST(SyntheticSegmentation, ImagesAndPixelMasks) {
  auto dataset = make_dataset("synthetic_segmentation",
                              {{"samples", std::int64_t{300}}, {"val_samples", std::int64_t{20}}});
  auto info = dataset->info();
  EXPECT_EQ(info.input_shape, (std::vector<std::int64_t>{3, 64, 64}));
  EXPECT_EQ(info.task, Task::kSegmentation);
  EXPECT_EQ(info.classes, 2);
  auto batch = whole_split(*dataset, Split::kTrain);
  EXPECT_EQ(batch.inputs.sizes(), (std::vector<std::int64_t>{300, 3, 64, 64}));
  EXPECT_EQ(batch.targets.sizes(), (std::vector<std::int64_t>{300, 1, 64, 64}));
  EXPECT_EQ(batch.targets.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::logical_or(batch.targets == 0, batch.targets == 1).all().item<bool>());
  // Every image has an object, and objects cover a minority of the pixels.
  EXPECT_TRUE((batch.targets.sum({1, 2, 3}) > 0).all().item<bool>());
  double foreground = batch.targets.mean().item<double>();
  EXPECT_GT(foreground, 0.03);
  EXPECT_LT(foreground, 0.4);

  // Objects are brighter: a brightness threshold chosen on these images beats calling
  // every pixel background, yet stays short of perfect (stripes, uneven light).
  auto brightness = batch.inputs.mean(1, true);
  auto mask = batch.targets.to(torch::kBool);
  double best = 0;
  for (double threshold = -0.5; threshold < 2.0; threshold += 0.05) {
    best =
        std::max(best, (brightness > threshold).eq(mask).to(torch::kDouble).mean().item<double>());
  }
  double all_background = 1 - foreground;
  EXPECT_GT(best, all_background + 0.3 * foreground);
  EXPECT_LT(best, 0.99);
}

TEST(SyntheticSegmentation, RejectsASizeRangeTheWrongWayRound) {
  std::string error = error_of([] {
    make_dataset("synthetic_segmentation", {{"min_size", 30.0}, {"max_size", 10.0}});
  });
  EXPECT_NE(error.find("set dataset.min_size <= dataset.max_size"), std::string::npos) << error;
}

}  // namespace
}  // namespace orch::testing
