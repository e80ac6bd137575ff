// What each model does that the others do not: its real default sizes, the sizes it
// refuses, and losses and metrics worked out by hand.
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "tests/models/model_harness.h"

namespace orch::testing {
namespace {

std::string refusal(const std::string& model, const DatasetInfo& data,
                    const std::map<std::string, Value>& overrides = {}) {
  try {
    make_model(model, data, overrides);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "(accepted)";
}

torch::Tensor parameter(Model& model, const std::string& name) {
  auto parameters = model.module().named_parameters();
  if (!parameters.contains(name)) throw std::runtime_error("no parameter " + name);
  return parameters[name];
}

TEST(MnistCnn, FlattensTwelveThousandFeaturesAtDefaultSizesOnMnist) {
  auto model = make_model("mnist_cnn", image_info(1, 28, 28, 10));
  EXPECT_EQ(parameter(*model, "fc1.weight").sizes().vec(), (std::vector<std::int64_t>{256, 12544}));
  Batch batch = random_batch(image_info(1, 28, 28, 10), 2);
  EXPECT_EQ(model->forward(batch).sizes().vec(), (std::vector<std::int64_t>{2, 10}));
}

TEST(MnistCnn, RefusesImagesTooSmallToPoolTwice) {
  std::string message = refusal("mnist_cnn", image_info(1, 3, 3, 10));
  EXPECT_NE(message.find("at least 4x4"), std::string::npos) << message;
  EXPECT_NE(message.find("[1, 3, 3]"), std::string::npos) << message;
}

TEST(KerasCnn, FlattensLikeTheKerasExampleOnMnist) {
  auto model = make_model("keras_cnn", image_info(1, 28, 28, 10));
  EXPECT_EQ(parameter(*model, "fc1.weight").sizes().vec(), (std::vector<std::int64_t>{128, 9216}));
  EXPECT_EQ(parameter_count(*model), 1199882) << "the Keras example's model.summary() total";
}

TEST(KerasCnn, RefusesImagesTooSmallForTwoUnpaddedConvolutions) {
  std::string message = refusal("keras_cnn", image_info(3, 5, 32, 10));
  EXPECT_NE(message.find("at least 6x6"), std::string::npos) << message;
  EXPECT_NE(message.find("[3, 5, 32]"), std::string::npos) << message;
}

TEST(TransitCnn1d, RefusesABinaryDatasetWithoutALocalView) {
  DatasetInfo one_view = light_curve_info(64, 16);
  one_view.extra_input_shapes.clear();
  std::string message = refusal("transit_cnn1d", one_view);
  EXPECT_NE(message.find("\"local_view\""), std::string::npos) << message;
  EXPECT_NE(message.find("this dataset gives binary classification of shape [1, 64]"),
            std::string::npos)
      << message;
}

TEST(TransitCnn1d, RunsOnViewsTooShortToPoolEveryTime) {
  auto model = make_model("transit_cnn1d", light_curve_info(5, 1),
                          {{"width", std::int64_t{4}}, {"hidden", std::int64_t{8}}});
  Batch batch = random_batch(light_curve_info(5, 1), 2);
  EXPECT_EQ(model->forward(batch).sizes().vec(), (std::vector<std::int64_t>{2}));
}

TEST(TransitCnn1d, SaysSoWhenABatchLacksTheLocalView) {
  auto model = make_model("transit_cnn1d", light_curve_info(64, 16), {{"width", std::int64_t{4}}});
  Batch batch = random_batch(light_curve_info(64, 16), 2);
  batch.extra_inputs.clear();
  try {
    model->forward(batch);
    FAIL() << "forward ran without the local view";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("no extra input \"local_view\""), std::string::npos)
        << error.what();
  }
}

// Raw flux sits near 1 with dips of a fraction of the noise; the model standardises each
// view, so a curve in other units (here electrons: offset and scaled) gets the same logit.
TEST(TransitCnn1d, JudgesACurveTheSameInAnyFluxUnits) {
  auto model = make_model("transit_cnn1d", light_curve_info(64, 16), {{"width", std::int64_t{4}}});
  model->module().eval();
  torch::NoGradGuard no_grad;
  Batch batch = random_batch(light_curve_info(64, 16), 3);
  Batch electrons = batch;
  electrons.inputs = batch.inputs * 250.0 + 1e4;
  electrons.extra_inputs["local_view"] = batch.extra_inputs["local_view"] * 250.0 + 1e4;
  EXPECT_TRUE(torch::allclose(model->forward(electrons), model->forward(batch), 1e-3, 1e-3));
}

TEST(TransitCnn1d, JudgesALogitAboveZeroAsATransit) {
  auto model = make_model("transit_cnn1d", light_curve_info(64, 16), {{"width", std::int64_t{4}}});
  Batch batch = random_batch(light_curve_info(64, 16), 4);
  batch.targets = torch::tensor({1.0f, 0.0f, 0.0f, 0.0f});
  // Right, right, wrong (0.5 says transit), right.
  Metrics metrics = model->evaluate(torch::tensor({2.0f, -1.0f, 0.5f, -3.0f}), batch);
  EXPECT_DOUBLE_EQ(metrics["accuracy"], 0.75);
  // Undecided logits cost log 2 per light curve, whatever the targets.
  EXPECT_NEAR(model->loss(torch::zeros({4}), batch).item<double>(), std::log(2.0), 1e-6);
}

TEST(MultitaskTransformer, RefusesHeadsThatDoNotDivideTheModelWidth) {
  std::string message =
      refusal("multitask_transformer", sequence_info(8, 12, {2}), {{"heads", std::int64_t{3}}});
  EXPECT_NE(message.find("heads = 3 does not divide d_model = 256"), std::string::npos) << message;
  EXPECT_NE(message.find("one of 1, 2, 4, 8, 16, 32, 64"), std::string::npos) << message;
}

TEST(MultitaskTransformer, ScoresEachTaskAndTheirMean) {
  auto model = make_model("multitask_transformer", sequence_info(8, 12, {2, 3}),
                          {{"d_model", std::int64_t{16}}, {"feedforward", std::int64_t{16}}});
  Batch batch = random_batch(sequence_info(8, 12, {2, 3}), 4);
  batch.targets = torch::tensor({0, 2, 1, 0, 1, 1, 0, 2}, torch::kLong).view({4, 2});
  // Task 0 (columns 0-1) is right on every row; task 1 (columns 2-4) on rows 0 and 1 only.
  auto output = torch::tensor({9.f, 0.f, 0.f, 0.f, 9.f, 0.f, 9.f, 9.f, 0.f, 0.f,
                               0.f, 9.f, 9.f, 0.f, 0.f, 9.f, 0.f, 0.f, 9.f, 0.f})
                    .view({4, 5});
  Metrics metrics = model->evaluate(output, batch);
  EXPECT_DOUBLE_EQ(metrics["task0_accuracy"], 1.0);
  EXPECT_DOUBLE_EQ(metrics["task1_accuracy"], 0.5);
  EXPECT_DOUBLE_EQ(metrics["accuracy"], 0.75);
  // The loss adds the tasks' cross-entropies: undecided logits cost log 2 + log 3.
  EXPECT_NEAR(model->loss(torch::zeros({4, 5}), batch).item<double>(),
              std::log(2.0) + std::log(3.0), 1e-6);
}

// Attention must run over the tokens of one sequence, never across the batch: a sequence
// gets the same outputs alone as among others.
TEST(MultitaskTransformer, AttendsWithinEachSequenceNotAcrossTheBatch) {
  torch::manual_seed(3);
  auto model = make_model("multitask_transformer", sequence_info(6, 10, {3}),
                          {{"d_model", std::int64_t{16}}, {"feedforward", std::int64_t{16}}});
  model->module().eval();
  torch::NoGradGuard no_grad;
  Batch batch = random_batch(sequence_info(6, 10, {3}), 3);
  torch::Tensor together = model->forward(batch);
  for (std::int64_t i = 0; i < 3; ++i) {
    Batch alone{batch.inputs.narrow(0, i, 1), batch.targets.narrow(0, i, 1), {}};
    EXPECT_TRUE(torch::allclose(model->forward(alone), together.narrow(0, i, 1), 1e-5, 1e-5))
        << "sequence " << i;
  }
}

TEST(Unet, RefusesImagesNotDivisibleByTwoToTheDepth) {
  std::string message = refusal("unet", segmentation_info(3, 30, 30));
  EXPECT_NE(message.find("depth = 3"), std::string::npos) << message;
  EXPECT_NE(message.find("multiples of 8"), std::string::npos) << message;
  EXPECT_NE(message.find("30x30"), std::string::npos) << message;
}

TEST(Unet, TakesTheSameImagesAtADepthTheyDivide) {
  auto model = make_model("unet", segmentation_info(3, 30, 30),
                          {{"depth", std::int64_t{1}}, {"width", std::int64_t{4}}});
  Batch batch = random_batch(segmentation_info(3, 30, 30), 2);
  EXPECT_EQ(model->forward(batch).sizes().vec(), (std::vector<std::int64_t>{2, 1, 30, 30}));
}

TEST(Unet, ScoresPixelAccuracyAndIntersectionOverUnion) {
  auto model = make_model("unet", segmentation_info(1, 4, 4),
                          {{"width", std::int64_t{4}}, {"depth", std::int64_t{2}}});
  Batch batch = random_batch(segmentation_info(1, 4, 4), 1);
  batch.targets = torch::zeros({1, 1, 4, 4});
  batch.targets.index_put_({0, 0, torch::indexing::Slice(0, 2), torch::indexing::Slice(0, 2)}, 1.0);
  auto output = torch::full({1, 1, 4, 4}, -1.0);
  for (auto [row, col] : std::vector<std::pair<int, int>>{{0, 0}, {0, 1}, {2, 2}, {3, 3}}) {
    output.index_put_({0, 0, row, col}, 1.0);
  }
  // Two pixels found, two missed, two false alarms: 2 / 6 overlap, 12 / 16 pixels right.
  Metrics metrics = model->evaluate(output, batch);
  EXPECT_NEAR(metrics["iou"], 2.0 / 6.0, 1e-12);
  EXPECT_DOUBLE_EQ(metrics["accuracy"], 0.75);
  // Nothing to find and nothing found is a perfect score, not a division by zero.
  batch.targets.zero_();
  EXPECT_DOUBLE_EQ(model->evaluate(torch::full({1, 1, 4, 4}, -1.0), batch)["iou"], 1.0);
}

}  // namespace
}  // namespace orch::testing

namespace orch::testing {
namespace {

// [train] save for a C++ model: the file torch::load reads back into the same model.
TEST(SavedWeights, ACxxModelsSavedWeightsLoadBackIntoTheSameModel) {
  const DatasetInfo data = vector_info(10, 3);
  auto trained = make_model("mlp", data, {{"hidden", std::int64_t{16}}});
  const Batch batch = random_batch(data, 8);
  torch::optim::SGD optimizer(trained->module().parameters(), torch::optim::SGDOptions(0.5));
  train_step(*trained, optimizer, batch);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("orch_saved_mlp_" + std::to_string(::getpid()) + ".pt"))
                               .string();
  trained->save(path);

  auto fresh = make_model("mlp", data, {{"hidden", std::int64_t{16}}});
  ASSERT_FALSE(torch::equal(fresh->forward(batch), trained->forward(batch)));
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  fresh->module().load(archive);
  std::filesystem::remove(path);
  EXPECT_TRUE(torch::equal(fresh->forward(batch), trained->forward(batch)));
}

}  // namespace
}  // namespace orch::testing
