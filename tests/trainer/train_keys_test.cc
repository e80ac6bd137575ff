// The [train] keys as a user writes them: each reaches TrainOptions, and a key that no
// run of the sweep would read is refused in words before anything runs.
#include <gtest/gtest.h>

#include "host/base/user_error.h"
#include "host/sweep/builtin_params.h"
#include "host/sweep/sweep.h"
#include "test_paths.h"

namespace orch {
namespace {

class TrainKeysTest : public testing::TempDir {
 protected:
  static void SetUpTestSuite() {
    catalog_ = new PluginCatalog();
    catalog_->load_directory(testing::builtin_plugins());
  }
  static void TearDownTestSuite() { delete catalog_; }

  // An experiment file whose [train] section is `train` and [sweep] is `sweep`.
  std::string file(const std::string& train, const std::string& sweep = "") {
    return write("exp.toml",
                 "[experiment]\nname = \"keys\"\n\n[backend]\nplugin = \"cpu\"\n\n"
                 "[dataset]\nplugin = \"synthetic\"\n\n[model]\nplugin = \"mlp\"\n\n"
                 "[train]\n" +
                     train + "\n" + (sweep.empty() ? "" : "[sweep]\n" + sweep));
  }
  // The message check_train_keys throws for this file; empty when it accepts it.
  std::string check(const std::string& train, const std::string& sweep = "") {
    Experiment experiment = load_experiment(file(train, sweep), *catalog_);
    try {
      check_train_keys(experiment, expand_sweep(experiment));
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  }

  static PluginCatalog* catalog_;
};
PluginCatalog* TrainKeysTest::catalog_ = nullptr;

TEST_F(TrainKeysTest, EveryKeyReachesTheTrainOptions) {
  Experiment experiment = load_experiment(
      file("optimizer = \"sgd\"\nlr = 0.5\nweight_decay = 0.01\nmomentum = 0.8\n"
           "beta1 = 0.7\nbeta2 = 0.99\nlr_schedule = \"onecycle\"\nlr_gamma = 0.3\n"
           "lr_step_epochs = 4\nlr_min = 0.001\nlr_pct_start = 0.4\nlr_div_factor = 10\n"
           "lr_final_div_factor = 100\ngrad_clip = 2.5\nprecision = \"bf16\"\n"
           "task = \"inference\"\naccumulation_steps = 3\n"),
      *catalog_);
  TrainOptions o = expand_sweep(experiment).front().train;
  EXPECT_EQ(o.optimizer, "sgd");
  EXPECT_EQ(o.lr, 0.5);
  EXPECT_EQ(o.weight_decay, 0.01);
  EXPECT_EQ(o.momentum, 0.8);
  EXPECT_EQ(o.beta1, 0.7);
  EXPECT_EQ(o.beta2, 0.99);
  EXPECT_EQ(o.schedule.kind, LrScheduleKind::kOneCycle);
  EXPECT_EQ(o.schedule.gamma, 0.3);
  EXPECT_EQ(o.schedule.step_epochs, 4);
  EXPECT_EQ(o.schedule.min_lr, 0.001);
  EXPECT_EQ(o.schedule.pct_start, 0.4);
  EXPECT_EQ(o.schedule.div_factor, 10);
  EXPECT_EQ(o.schedule.final_div_factor, 100);
  EXPECT_EQ(o.grad_clip, 2.5);
  EXPECT_EQ(o.precision, Precision::kBf16);
  EXPECT_TRUE(o.inference);
  EXPECT_EQ(o.accumulation_steps, 3);
}

TEST_F(TrainKeysTest, TheDefaultsAreTheDocumentedOnes) {
  TrainOptions o = expand_sweep(load_experiment(file(""), *catalog_)).front().train;
  EXPECT_EQ(o.optimizer, "adam");
  EXPECT_EQ(o.weight_decay, 0);  // not AdamW's 0.01: what the file says
  EXPECT_EQ(o.momentum, 0);
  EXPECT_EQ(o.beta1, 0.9);
  EXPECT_EQ(o.beta2, 0.999);
  EXPECT_EQ(o.schedule.kind, LrScheduleKind::kConstant);
  EXPECT_EQ(o.schedule.gamma, 0.1);
  EXPECT_EQ(o.schedule.step_epochs, 1);
  EXPECT_EQ(o.schedule.min_lr, 0);
  EXPECT_EQ(o.schedule.pct_start, 0.3);
  EXPECT_EQ(o.schedule.div_factor, 25);
  EXPECT_EQ(o.schedule.final_div_factor, 1e4);
  EXPECT_EQ(o.grad_clip, 0);
  EXPECT_EQ(o.precision, Precision::kFp32);
  EXPECT_FALSE(o.inference);
  EXPECT_EQ(check(""), "");
}

TEST_F(TrainKeysTest, CheckpointKeysReachTheOptionsAndMalformedOnesAreRefused) {
  TrainOptions none = expand_sweep(load_experiment(file(""), *catalog_)).front().train;
  EXPECT_LT(none.checkpoint_minutes, 0);  // no checkpoints unless asked
  EXPECT_FALSE(none.keep_checkpoints);
  TrainOptions every =
      expand_sweep(load_experiment(file("checkpoint = \"epoch\"\n"), *catalog_)).front().train;
  EXPECT_EQ(every.checkpoint_minutes, 0);
  TrainOptions timed =
      expand_sweep(load_experiment(file("checkpoint = \"2.5min\"\nkeep_checkpoints = true\n"
                                        "checkpoint_disk = \"2GiB\"\n"),
                                   *catalog_))
          .front()
          .train;
  EXPECT_EQ(timed.checkpoint_minutes, 2.5);
  EXPECT_TRUE(timed.keep_checkpoints);
  EXPECT_EQ(timed.checkpoint_disk, "2GiB");
  EXPECT_EQ(check("checkpoint = \"30min\"\ncheckpoint_disk = \"50%\"\n"), "");
  for (const char* bad : {"often", "0min", "-5min", "min", "10 minutes"}) {
    const std::string message = check("checkpoint = \"" + std::string(bad) + "\"\n");
    EXPECT_NE(message.find("train.checkpoint"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("\"30min\""), std::string::npos) << bad << ": " << message;
  }
  EXPECT_NE(check("checkpoint_disk = \"lots\"\n").find("train.checkpoint_disk"), std::string::npos);
}

TEST_F(TrainKeysTest, WhatTheSchedulerReadsIsTypedOnceForEveryRun) {
  Experiment experiment = load_experiment(
      file("memory_limit = \"512MiB\"\ntimeout = 90\nmode = \"benchmark\"\nmax_steps = 40\n",
           "\"train.on_oom\" = [\"skip\", \"halve\", \"stop\"]\n"),
      *catalog_);
  const auto runs = expand_sweep(experiment);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].train.on_oom, OnOom::kSkip);
  EXPECT_EQ(runs[1].train.on_oom, OnOom::kHalve);
  EXPECT_EQ(runs[2].train.on_oom, OnOom::kStop);
  for (const auto& run : runs) {
    EXPECT_EQ(run.train.memory_limit, "512MiB");
    EXPECT_EQ(run.train.timeout_s, 90);
    EXPECT_TRUE(run.train.benchmark);
    EXPECT_EQ(run.train.bench_max_steps, 40);
    EXPECT_EQ(run.train.seed, run.seed);
  }
}

TEST_F(TrainKeysTest, ChangingATrainValueChangesTheTypedViewAndNotTheKey) {
  RunSpec run = expand_sweep(load_experiment(file("batch_size = 16\n"), *catalog_)).front();
  const std::string key = run.key;
  run.set_train("batch_size", std::int64_t{8});
  run.set_train("accumulation_steps", std::int64_t{2});
  EXPECT_EQ(run.train.batch_size, 8);
  EXPECT_EQ(run.train.accumulation_steps, 2);
  EXPECT_EQ(run.params("train").Int("batch_size"), 8) << "what the plugins' view and the key see";
  EXPECT_EQ(run.key, key) << "a retry at half the batch is the same point of the sweep";
  EXPECT_THROW(run.set_train("batch_size", 8.0), ParamError) << "of the declared type only";
  EXPECT_THROW(run.set_train("no_such_key", std::int64_t{1}), ParamError);
}

TEST_F(TrainKeysTest, MomentumWithoutSgdIsRefused) {
  std::string message = check("optimizer = \"adam\"\nmomentum = 0.9\n");
  EXPECT_NE(message.find("exp.toml: train.momentum = 0.9 is read only when train.optimizer is "
                         "\"sgd\", but every run has train.optimizer = \"adam\"; remove "
                         "train.momentum or change train.optimizer"),
            std::string::npos)
      << message;
  EXPECT_EQ(check("optimizer = \"sgd\"\nmomentum = 0.9\n"), "");
}

TEST_F(TrainKeysTest, BetasWithSgdAreRefused) {
  std::string message = check("optimizer = \"sgd\"\nbeta2 = 0.95\n");
  EXPECT_NE(message.find("train.beta2 = 0.95 is read only when train.optimizer is \"adam\" or "
                         "\"adamw\", but every run has train.optimizer = \"sgd\""),
            std::string::npos)
      << message;
  EXPECT_EQ(check("optimizer = \"adamw\"\nbeta1 = 0.8\nbeta2 = 0.95\n"), "");
}

TEST_F(TrainKeysTest, AScheduleKeyWithoutItsScheduleIsRefused) {
  EXPECT_NE(check("lr_min = 0.0001\n")
                .find("train.lr_min = 0.0001 is read only when "
                      "train.lr_schedule is \"cosine\", but every run "
                      "has train.lr_schedule = \"constant\""),
            std::string::npos);
  EXPECT_NE(check("lr_schedule = \"cosine\"\nlr_gamma = 0.5\n").find("train.lr_gamma"),
            std::string::npos);
  EXPECT_NE(check("lr_schedule = \"step\"\nlr_pct_start = 0.5\n").find("train.lr_pct_start"),
            std::string::npos);
  EXPECT_EQ(check("lr_schedule = \"step\"\nlr_gamma = 0.5\nlr_step_epochs = 2\n"), "");
  EXPECT_EQ(check("lr_schedule = \"onecycle\"\nlr_pct_start = 0.25\nlr_div_factor = 10\n"
                  "lr_final_div_factor = 100\n"),
            "");
}

TEST_F(TrainKeysTest, AKeyThatSomeRunsOfTheSweepReadIsAccepted) {
  // The sgd runs use the momentum; the adam runs leave it alone.
  EXPECT_EQ(check("momentum = 0.9\n", "\"train.optimizer\" = [\"sgd\", \"adam\"]\n"), "");
  // Swept itself, but no run reads it.
  EXPECT_NE(
      check("optimizer = \"adam\"\n", "\"train.momentum\" = [0.5, 0.9]\n").find("train.momentum"),
      std::string::npos);
}

TEST_F(TrainKeysTest, CosineNeedsLrMinBelowLr) {
  std::string message = check("lr_schedule = \"cosine\"\nlr = 0.001\nlr_min = 0.01\n");
  EXPECT_NE(message.find("train.lr_min = 0.01 is not below train.lr = 0.001"), std::string::npos)
      << message;
  EXPECT_EQ(check("lr_schedule = \"cosine\"\nlr = 0.01\nlr_min = 0.001\n"), "");
}

TEST_F(TrainKeysTest, ValuesOutOfRangeAreRefusedWhereTheyAreWritten) {
  for (const char* line :
       {"precision = \"fp16\"\n", "task = \"eval\"\n", "lr_schedule = \"linear\"\n",
        "grad_clip = -1.0\n", "beta1 = 1.0\n", "lr_pct_start = 1.0\n"}) {
    try {
      load_experiment(file(line), *catalog_);
      ADD_FAILURE() << "accepted: " << line;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("exp.toml:"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace orch
