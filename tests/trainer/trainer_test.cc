// orch::train() with the real cpu backend, synthetic dataset and mlp, each loaded from
// its shared library through the real loader: schedules, clipping, accumulation,
// precision and inference as a user would observe them in the weights and the records.
#include "host/training/trainer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/training/lr_schedule.h"
#include "orch/torch_compat.h"
#include "test_paths.h"

namespace orch {
namespace {

// The declared defaults of a plugin's parameters with some replaced, as the host fills
// in a section.
Params params_of(const PluginEntry& entry, const std::map<std::string, Value>& overrides) {
  std::map<std::string, Value> values;
  for (const auto& spec : entry.params) values[spec.name] = spec.fallback;
  for (const auto& [name, value] : overrides) values[name] = value;
  return Params(values);
}

std::vector<torch::Tensor> weights_of(Model& model) {
  std::vector<torch::Tensor> weights;
  for (const auto& p : model.module().parameters()) weights.push_back(p.detach().clone());
  return weights;
}

double distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]).pow(2).sum().item<double>();
  return std::sqrt(sum);
}

bool equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    catalog_ = new PluginCatalog();
    catalog_->load_directory(testing::builtin_plugins());
  }
  static void TearDownTestSuite() { delete catalog_; }

  void SetUp() override {
    backend_ = entry(PluginKind::kBackend, "cpu")
                   ->make_backend(params_of(*entry(PluginKind::kBackend, "cpu"),
                                            {{"threads", std::int64_t{1}}}));
  }

  static const PluginEntry* entry(PluginKind kind, const std::string& name) {
    const PluginEntry* found = catalog_->find(kind, name);
    if (found == nullptr) throw std::runtime_error(name + " plugin not built");
    return found;
  }

  // Synthetic vectors: 8 features, 4 classes, clusters clear enough to learn in a few
  // epochs.
  void make_data(std::int64_t samples, double noise = 1.0) {
    dataset_ = entry(PluginKind::kDataset, "synthetic")
                   ->make_dataset(params_of(*entry(PluginKind::kDataset, "synthetic"),
                                            {{"samples", samples},
                                             {"val_samples", std::int64_t{64}},
                                             {"features", std::int64_t{8}},
                                             {"noise", noise}}));
  }

  // The same initial weights for the same seed.
  std::unique_ptr<Model> make_mlp(std::uint64_t seed = 1) {
    torch::manual_seed(seed);
    return entry(PluginKind::kModel, "mlp")
        ->make_model(params_of(*entry(PluginKind::kModel, "mlp"), {{"hidden", std::int64_t{16}}}),
                     dataset_->info());
  }

  static TrainOptions sgd(double lr, std::int64_t batch_size) {
    TrainOptions options;
    options.optimizer = "sgd";
    options.lr = lr;
    options.batch_size = batch_size;
    options.warmup_steps = 1;
    return options;
  }

  std::vector<storage::EpochRecord> run(Model& model, const TrainOptions& options,
                                        const OptimizerStepCallback& on_step = {}) {
    std::vector<storage::EpochRecord> records;
    train(
        *backend_, *dataset_, model, options,
        [&](const storage::EpochRecord& record) { records.push_back(record); }, {}, on_step);
    return records;
  }

  static PluginCatalog* catalog_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Dataset> dataset_;
};
PluginCatalog* TrainerTest::catalog_ = nullptr;

TEST_F(TrainerTest, TheRealOptimizerStepsWithTheScheduledLearningRate) {
  make_data(160);  // 10 batches of 16 per epoch, 2 epochs: 20 optimizer steps
  for (const char* name : {"step", "cosine", "onecycle"}) {
    TrainOptions options = sgd(0.1, 16);
    options.epochs = 2;
    options.schedule.kind = lr_schedule_kind(name);
    options.schedule.gamma = 0.5;
    options.schedule.min_lr = 0.001;
    std::vector<double> lrs;
    auto model = make_mlp();
    run(*model, options, [&](const OptimizerStep& step) {
      EXPECT_EQ(step.step, static_cast<std::int64_t>(lrs.size()));
      lrs.push_back(step.lr);
    });
    ASSERT_EQ(lrs.size(), 20u) << name;
    for (size_t k = 0; k < lrs.size(); ++k) {
      EXPECT_DOUBLE_EQ(lrs[k], scheduled_lr(options.schedule, 0.1, k, 10, 20))
          << name << " step " << k;
    }
  }
}

TEST_F(TrainerTest, OneCycleOnTheRealOptimizerStartsPeaksAndEndsWherePyTorchDoes) {
  make_data(160);
  TrainOptions options = sgd(0.1, 16);
  options.epochs = 2;
  options.schedule.kind = LrScheduleKind::kOneCycle;
  std::vector<double> lrs;
  auto model = make_mlp();
  run(*model, options, [&](const OptimizerStep& step) { lrs.push_back(step.lr); });
  ASSERT_EQ(lrs.size(), 20u);
  EXPECT_DOUBLE_EQ(lrs.front(), 0.1 / 25);
  EXPECT_DOUBLE_EQ(lrs[5], 0.1);  // step 0.3 * 20 - 1
  EXPECT_DOUBLE_EQ(*std::max_element(lrs.begin(), lrs.end()), 0.1);
  EXPECT_DOUBLE_EQ(lrs.back(), 0.1 / 25 / 1e4);
}

TEST_F(TrainerTest, TheScheduleCountsOptimizerStepsNotBatchesWhenAccumulating) {
  make_data(160);  // 10 batches per epoch, 3 per step: 4 optimizer steps per epoch
  TrainOptions options = sgd(0.1, 16);
  options.epochs = 2;
  options.accumulation_steps = 3;
  options.grad_clip = 1.0;
  options.schedule.kind = LrScheduleKind::kStep;
  options.schedule.gamma = 0.5;
  std::vector<double> lrs;
  auto model = make_mlp();
  auto records = run(*model, options, [&](const OptimizerStep& step) { lrs.push_back(step.lr); });
  EXPECT_EQ(lrs, (std::vector<double>{0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05}));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].steps, 10);  // steps in the records are batches
}

TEST_F(TrainerTest, GradClipBoundsEveryOptimizerStepAfterAccumulation) {
  make_data(128);
  // Large enough that float32 rounding of the weights stays far below the tolerance.
  const double lr = 0.5, clip = 0.02;
  for (std::int64_t accumulation : {1, 2}) {
    TrainOptions options = sgd(lr, 16);
    options.grad_clip = clip;
    options.accumulation_steps = accumulation;
    auto model = make_mlp();
    auto before = weights_of(*model);
    std::vector<double> changes;
    run(*model, options, [&](const OptimizerStep&) {
      auto now = weights_of(*model);
      changes.push_back(distance(before, now));
      before = now;
    });
    ASSERT_EQ(changes.size(), 8u / accumulation);
    // Plain SGD moves by lr x the clipped gradient, whose norm is the clip: gradients of
    // an untrained model are far larger.
    for (double change : changes) {
      EXPECT_NEAR(change, lr * clip, lr * clip * 1e-3) << "accumulation " << accumulation;
    }
  }
  // Without clipping the same first step moves far more: the clip is what bounds it.
  TrainOptions unclipped = sgd(lr, 16);
  auto model = make_mlp();
  auto before = weights_of(*model);
  double first_change = -1;
  run(*model, unclipped, [&](const OptimizerStep& step) {
    if (step.step == 0) first_change = distance(before, weights_of(*model));
  });
  EXPECT_GT(first_change, 10 * lr * clip);
}

TEST_F(TrainerTest, TwoAccumulatedBatchesOf8MakeTheSameStepAsOneBatchOf16) {
  make_data(16);
  auto one_batch = make_mlp();
  run(*one_batch, sgd(0.5, 16));
  auto accumulated = make_mlp();
  TrainOptions options = sgd(0.5, 8);
  options.accumulation_steps = 2;
  run(*accumulated, options);
  auto separate = make_mlp();
  run(*separate, sgd(0.5, 8));  // two steps of 8: a different path

  auto reference = weights_of(*one_batch);
  EXPECT_LT(distance(reference, weights_of(*accumulated)), 1e-5);
  EXPECT_GT(distance(reference, weights_of(*separate)), 1e-3);
}

TEST_F(TrainerTest, OptimizerSettingsChangeWhatTrainingLearns) {
  make_data(128);
  auto trained_with = [&](TrainOptions options) {
    auto model = make_mlp();
    run(*model, options);
    return weights_of(*model);
  };
  TrainOptions adam = sgd(0.01, 16);
  adam.optimizer = "adam";
  auto default_betas = trained_with(adam);
  EXPECT_TRUE(equal(default_betas, trained_with(adam))) << "training is not repeatable";
  TrainOptions other_betas = adam;
  other_betas.beta1 = 0.5;
  EXPECT_GT(distance(default_betas, trained_with(other_betas)), 1e-4);
  other_betas = adam;
  other_betas.beta2 = 0.9;
  EXPECT_GT(distance(default_betas, trained_with(other_betas)), 1e-4);

  TrainOptions plain = sgd(0.05, 16);
  TrainOptions with_momentum = plain;
  with_momentum.momentum = 0.9;
  EXPECT_GT(distance(trained_with(plain), trained_with(with_momentum)), 1e-4);
  TrainOptions with_decay = plain;
  with_decay.weight_decay = 0.1;
  EXPECT_GT(distance(trained_with(plain), trained_with(with_decay)), 1e-4);
}

TEST_F(TrainerTest, Bf16TrainsToWellAboveChanceAndLeavesAutocastAsItFoundIt) {
  make_data(512);
  TrainOptions options = sgd(0.01, 32);
  options.optimizer = "adam";
  options.epochs = 3;
  options.precision = Precision::kBf16;
  auto model = make_mlp();
  auto records = run(*model, options);
  ASSERT_EQ(records.size(), 3u);
  const auto& last = records.back();
  EXPECT_TRUE(std::isfinite(last.train_loss));
  EXPECT_GT(last.val_accuracy, 0.7) << "4 classes: chance is 0.25";
  EXPECT_FALSE(torch_compat::autocast_enabled(c10::DeviceType::CPU));
  for (const auto& weight : model->module().parameters()) {
    EXPECT_EQ(weight.scalar_type(), torch::kFloat) << "weights stay fp32";
  }
  // bf16 rounding shows in what was learnt: the forward pass really ran in bf16.
  auto fp32 = make_mlp();
  options.precision = Precision::kFp32;
  run(*fp32, options);
  EXPECT_GT(distance(weights_of(*model), weights_of(*fp32)), 1e-4);
}

// A backend that computes on the CPU but, like a GPU before Ampere, has no bf16.
class NoBf16Backend : public Backend {
 public:
  torch::Device device() const override { return torch::kCPU; }
  void synchronize() override {}
  MemoryStats memory() override { return {}; }
  std::string describe() const override { return "test backend without bf16"; }
};

TEST_F(TrainerTest, Bf16OnABackendWithoutItIsRefusedBeforeTraining) {
  make_data(64);
  auto model = make_mlp();
  auto before = weights_of(*model);
  TrainOptions options = sgd(0.1, 16);
  options.precision = Precision::kBf16;
  NoBf16Backend backend;
  try {
    train(backend, *dataset_, *model, options, [](const storage::EpochRecord&) {});
    FAIL() << "bf16 was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "train.precision = \"bf16\" is not supported by this backend (test backend "
                 "without bf16); use train.precision = \"fp32\" or a backend with bf16");
  }
  EXPECT_TRUE(equal(before, weights_of(*model)));
}

TEST_F(TrainerTest, InferenceTimesForwardPassesWithoutChangingTheWeights) {
  make_data(256);  // 8 batches of 32
  TrainOptions options = sgd(0.1, 32);
  options.inference = true;
  options.epochs = 2;
  options.warmup_steps = 2;
  auto model = make_mlp();
  auto before = weights_of(*model);
  int optimizer_steps = 0;
  auto records = run(*model, options, [&](const OptimizerStep&) { ++optimizer_steps; });
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].warmup_steps, 2);
  EXPECT_EQ(records[0].step_seconds.size(), 6u);
  EXPECT_EQ(records[1].step_seconds.size(), 8u);
  EXPECT_EQ(records[1].timed_samples, 256);
  for (const auto& record : records) {
    EXPECT_GT(record.samples_per_s, 0);
    EXPECT_TRUE(std::isnan(record.train_loss));
    EXPECT_TRUE(std::isnan(record.train_accuracy));
    EXPECT_TRUE(std::isnan(record.val_loss));
    EXPECT_TRUE(std::isnan(record.val_accuracy));
  }
  EXPECT_EQ(optimizer_steps, 0);
  EXPECT_TRUE(equal(before, weights_of(*model)));
  EXPECT_FALSE(model->module().is_training()) << "inference runs the model in eval mode";
}

TEST_F(TrainerTest, InferenceWorksInBenchmarkModeAndInBf16) {
  make_data(256);
  TrainOptions options = sgd(0.1, 32);
  options.inference = true;
  options.benchmark = true;
  options.min_steps = 5;
  options.bench_max_steps = 30;
  options.target_rel_ci = 1.0;  // the first estimate is good enough
  options.precision = Precision::kBf16;
  auto model = make_mlp();
  auto before = weights_of(*model);
  auto records = run(*model, options);
  ASSERT_EQ(records.size(), 1u);
  // At least min_steps; more only if a stall on this machine widened the interval.
  EXPECT_GE(records[0].step_seconds.size(), 5u);
  EXPECT_LE(records[0].step_seconds.size(), 30u);
  EXPECT_EQ(records[0].warmup_steps, 1);
  EXPECT_GT(records[0].samples_per_s, 0);
  EXPECT_TRUE(std::isnan(records[0].train_loss));
  EXPECT_TRUE(equal(before, weights_of(*model)));
}

TEST_F(TrainerTest, ABenchmarkStepIsOneOptimizerStepOfAllItsAccumulatedBatches) {
  make_data(256);
  TrainOptions options = sgd(0.1, 16);
  options.benchmark = true;
  options.min_steps = 4;
  options.bench_max_steps = 4;
  options.accumulation_steps = 3;
  auto model = make_mlp();
  int optimizer_steps = 0;
  auto records = run(*model, options, [&](const OptimizerStep&) { ++optimizer_steps; });
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(optimizer_steps, 1 + 4);  // warm-up and measured
  EXPECT_EQ(records[0].steps, 3 * (1 + 4));
  EXPECT_EQ(records[0].step_seconds.size(), 4u);
  EXPECT_EQ(records[0].timed_samples, 4 * 3 * 16);
  EXPECT_NEAR(records[0].samples_per_s, 3 * 16 / records[0].step_median_s, 1e-6);
  // Data wait and compute split the projected epoch, so data % stays a share.
  EXPECT_NEAR(records[0].data_seconds + records[0].compute_seconds, records[0].seconds,
              1e-9 * records[0].seconds);
}

// A checkpoint after epoch 1, loaded into a model with other initial weights, trains on to
// exactly the weights of the run never stopped: optimizer moments, schedule position and
// data order all come back, and the resumed epoch is marked.
TEST_F(TrainerTest, ResumingFromACheckpointEndsWithTheWeightsOfTheUninterruptedRun) {
  make_data(160);
  TrainOptions options;
  options.optimizer = "adamw";
  options.weight_decay = 0.01;
  options.batch_size = 16;
  options.epochs = 3;
  options.seed = 5;
  options.schedule.kind = LrScheduleKind::kCosine;
  options.checkpoint_minutes = 0;
  const std::string dir = ::testing::TempDir() + "/orch_checkpoint_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string prefix = dir + "/run";
  const std::string after_first = dir + "/after-epoch-1.pt";
  CheckpointPlan plan{prefix, "", [&](std::int64_t epoch, const std::string& skipped) {
                        EXPECT_EQ(skipped, "");
                        // Kept aside: the next checkpoint replaces it.
                        if (epoch == 1) {
                          std::filesystem::copy_file(prefix + "-e1.pt", after_first);
                        }
                      }};
  auto whole = make_mlp(1);
  std::vector<storage::EpochRecord> whole_records;
  train(
      *backend_, *dataset_, *whole, options,
      [&](const storage::EpochRecord& r) { whole_records.push_back(r); }, {}, {}, plan);
  ASSERT_TRUE(std::filesystem::exists(after_first));
  EXPECT_FALSE(std::filesystem::exists(prefix + "-e3.pt")) << "kept after the last epoch";

  auto resumed = make_mlp(2);  // other initial weights: the checkpoint must replace them
  std::vector<storage::EpochRecord> records;
  train(
      *backend_, *dataset_, *resumed, options,
      [&](const storage::EpochRecord& r) { records.push_back(r); }, {}, {},
      CheckpointPlan{"", after_first, {}});
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].epoch, 2);
  EXPECT_TRUE(records[0].resumed);
  EXPECT_FALSE(records[1].resumed);
  EXPECT_FALSE(whole_records[1].resumed);
  EXPECT_EQ(records[1].train_loss, whole_records[2].train_loss);
  EXPECT_TRUE(equal(weights_of(*resumed), weights_of(*whole)));
  std::filesystem::remove_all(dir);
}

// The rungs where ASHA may pause a run get a checkpoint without [train] checkpoint, and it
// is on disk before the epoch is reported: the host stops the run on that report.
TEST_F(TrainerTest, ACheckpointAtARungIsSavedBeforeTheEpochIsReported) {
  make_data(64);
  TrainOptions options;
  options.batch_size = 16;
  options.epochs = 4;
  options.seed = 5;
  const std::string dir = ::testing::TempDir() + "/orch_rungs_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string prefix = dir + "/run";
  std::vector<std::string> on_disk;  // as each epoch was reported
  CheckpointPlan plan{prefix, "", [](std::int64_t, const std::string&) {}, {1, 2}};
  auto model = make_mlp(1);
  train(
      *backend_, *dataset_, *model, options,
      [&](const storage::EpochRecord& r) {
        std::string files;
        for (int e = 1; e <= 4; ++e) {
          if (std::filesystem::exists(prefix + "-e" + std::to_string(e) + ".pt")) {
            files += "e" + std::to_string(e);
          }
        }
        on_disk.push_back(std::to_string(r.epoch) + ":" + files);
      },
      {}, {}, plan);
  // Each new one replaces the one before; epochs 3 and 4 are no rung.
  EXPECT_EQ(on_disk, (std::vector<std::string>{"1:e1", "2:e2", "3:e2", "4:e2"}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace orch
