// What every model plugin promises, checked on each through its real library: outputs of
// the right shape, a training step that moves every parameter, a loss that goes down on a
// batch it sees again and again, declared sizes, and a sentence for a dataset it cannot learn.
#include <cmath>
#include <ostream>

#include "host/run/value_text.h"
#include "tests/models/model_harness.h"

namespace orch::testing {
namespace {

struct ModelCase {
  std::string model;
  DatasetInfo data;
  std::map<std::string, Value> small;      // sizes that keep the test fast
  std::vector<std::int64_t> output_shape;  // for a batch of 4
  DatasetInfo wrong_data;                  // a dataset the model must refuse
  std::string wrong_description;           // how the refusal describes it
  std::string example_dataset;             // the dataset the refusal suggests
};

void PrintTo(const ModelCase& c, std::ostream* out) { *out << c.model; }

std::vector<ModelCase> model_cases() {
  return {
      {"mlp",
       vector_info(10, 3),
       {{"hidden", std::int64_t{16}}},
       {4, 3},
       segmentation_info(1, 16, 16),
       "segmentation of shape [1, 16, 16]",
       "synthetic, mnist or csv"},
      {"mnist_cnn",
       image_info(1, 12, 12, 3),
       {{"conv1", std::int64_t{8}},
        {"conv2", std::int64_t{16}},
        {"hidden1", std::int64_t{32}},
        {"hidden2", std::int64_t{16}}},
       {4, 3},
       vector_info(32, 4),
       "classification of shape [32]",
       "mnist or synthetic_images"},
      {"keras_cnn",
       image_info(1, 12, 12, 3),
       {{"conv1", std::int64_t{8}}, {"conv2", std::int64_t{16}}, {"hidden", std::int64_t{32}}},
       {4, 3},
       light_curve_info(64, 16),
       "binary classification of shape [1, 64] with extra input \"local_view\" [1, 16]",
       "mnist or synthetic_images"},
      {"transit_cnn1d",
       light_curve_info(64, 16),
       {{"width", std::int64_t{8}}, {"hidden", std::int64_t{16}}},
       {4},
       image_info(1, 28, 28, 10),
       "classification of shape [1, 28, 28]",
       "synthetic_light_curves"},
      {"multitask_transformer",
       sequence_info(8, 12, {2, 3}),
       {{"d_model", std::int64_t{32}},
        {"heads", std::int64_t{4}},
        {"feedforward", std::int64_t{64}}},
       {4, 5},
       segmentation_info(3, 32, 32),
       "segmentation of shape [3, 32, 32]",
       "synthetic_sequences"},
      // Same image shape as a segmentation set: only the task tells them apart.
      {"unet",
       segmentation_info(1, 16, 16),
       {{"width", std::int64_t{8}}},
       {4, 1, 16, 16},
       image_info(1, 16, 16, 10),
       "classification of shape [1, 16, 16]",
       "synthetic_segmentation"},
  };
}

class ModelContract : public ::testing::TestWithParam<ModelCase> {
 protected:
  void SetUp() override { torch::manual_seed(7); }
};

TEST_P(ModelContract, GivesOutputsOfTheShapeItsLossTakes) {
  const ModelCase& c = GetParam();
  auto model = make_model(c.model, c.data, c.small);
  Batch batch = random_batch(c.data, 4);
  torch::Tensor output = model->forward(batch);
  EXPECT_EQ(output.sizes().vec(), c.output_shape);
  torch::Tensor loss = model->loss(output, batch);
  EXPECT_EQ(loss.dim(), 0) << "the trainer calls backward() on a scalar";
  Metrics metrics = model->evaluate(output.detach(), batch);
  ASSERT_TRUE(metrics.count("accuracy"));
  EXPECT_GE(metrics["accuracy"], 0.0);
  EXPECT_LE(metrics["accuracy"], 1.0);
}

TEST_P(ModelContract, OneTrainingStepMovesEveryParameterWithAFiniteLoss) {
  const ModelCase& c = GetParam();
  auto model = make_model(c.model, c.data, c.small);
  std::map<std::string, torch::Tensor> before;
  for (const auto& item : model->module().named_parameters())
    before[item.key()] = item.value().clone();
  ASSERT_FALSE(before.empty());
  torch::optim::Adam optimizer(model->module().parameters(), torch::optim::AdamOptions(1e-3));
  double loss = train_step(*model, optimizer, random_batch(c.data, 4));
  EXPECT_TRUE(std::isfinite(loss)) << loss;
  // A parameter that does not move is a layer the forward pass never reaches.
  for (const auto& item : model->module().named_parameters()) {
    EXPECT_FALSE(torch::equal(item.value(), before[item.key()])) << item.key() << " did not change";
  }
}

TEST_P(ModelContract, LearnsABatchItSeesRepeatedly) {
  const ModelCase& c = GetParam();
  auto model = make_model(c.model, c.data, c.small);
  Batch batch = random_batch(c.data, 4);
  torch::optim::Adam optimizer(model->module().parameters(), torch::optim::AdamOptions(1e-2));
  double first = train_step(*model, optimizer, batch);
  double last = first;
  for (int step = 0; step < 20; ++step) last = train_step(*model, optimizer, batch);
  EXPECT_LT(last, 0.5 * first) << "loss went from " << first << " to " << last;
}

TEST_P(ModelContract, DeclaresEverySizeWithARangeAndHelp) {
  const ModelCase& c = GetParam();
  const auto& specs = model_entry(c.model).params;
  ASSERT_FALSE(specs.empty());
  for (const auto& spec : specs) {
    EXPECT_FALSE(spec.help.empty()) << spec.name;
    EXPECT_FALSE(describe_range(spec).empty()) << spec.name << " has no range";
  }
}

TEST_P(ModelContract, RefusesADatasetItCannotLearnInOneSentence) {
  const ModelCase& c = GetParam();
  try {
    make_model(c.model, c.wrong_data);
    FAIL() << c.model << " accepted " << c.wrong_description;
  } catch (const std::invalid_argument& error) {
    std::string message = error.what();
    EXPECT_EQ(message.rfind(c.model + " needs ", 0), 0u) << message;
    EXPECT_NE(message.find("such as " + c.example_dataset), std::string::npos) << message;
    EXPECT_NE(message.find("; this dataset gives " + c.wrong_description), std::string::npos)
        << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryModel, ModelContract, ::testing::ValuesIn(model_cases()),
                         [](const ::testing::TestParamInfo<ModelCase>& info) {
                           return info.param.model;
                         });

}  // namespace
}  // namespace orch::testing
