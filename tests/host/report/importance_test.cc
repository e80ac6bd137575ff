// Which swept keys the objective depends on: a key that decides the metric explains
// nearly all of its variance, a key it ignores nearly none, even over few runs; a sampled
// range is binned; and a thousand runs take milliseconds.
#include "host/report/importance.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

namespace orch {
namespace {

storage::RunSummary run(const std::string& swept, double accuracy) {
  storage::RunSummary summary;
  summary.status = RunStatus::kOk;
  summary.swept = swept;
  summary.val_accuracy = accuracy;
  summary.params_json = "{}";
  return summary;
}

Objective accuracy_objective() {
  Objective objective;
  objective.metric = "val_accuracy";
  objective.maximize = true;
  return objective;
}

const KnobImportance& knob(const Importance& importance, const std::string& key) {
  for (const auto& knob : importance.knobs) {
    if (knob.key == key) return knob;
  }
  ADD_FAILURE() << "no " << key;
  static KnobImportance none;
  return none;
}

TEST(ImportanceTest, TheKeyThatDecidesTheMetricExplainsItAndTheOneItIgnoresDoesNot) {
  std::vector<storage::RunSummary> runs;
  std::mt19937 noise(1);
  std::normal_distribution<double> jitter(0, 0.002);
  const double lrs[] = {1e-4, 1e-3, 1e-2, 1e-1};
  for (double lr : lrs) {
    for (int hidden : {32, 256}) {
      char swept[64];
      std::snprintf(swept, sizeof swept, "train.lr=%g model.hidden=%d", lr, hidden);
      runs.push_back(run(swept, 0.9 - 0.1 * std::abs(std::log10(lr) + 2.5) + jitter(noise)));
    }
  }
  const Importance importance = knob_importance(runs, accuracy_objective());
  ASSERT_EQ(importance.knobs.size(), 2u);
  EXPECT_EQ(importance.knobs.front().key, "train.lr") << "largest first";
  EXPECT_GT(knob(importance, "train.lr").share, 0.95);
  EXPECT_LT(knob(importance, "model.hidden").share, 0.05)
      << "8 runs: chance alone gives a key some spread, which the correction takes out";
  EXPECT_EQ(importance.runs, 8u);
  const std::string text = render_importance(importance);
  EXPECT_NE(text.find("what val_accuracy depends on (8 ok runs;"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  train.lr      "), std::string::npos) << text;
}

TEST(ImportanceTest, ASampledRangeIsBinnedAndAThousandRunsTakeMilliseconds) {
  std::vector<storage::RunSummary> runs;
  std::mt19937 random(7);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < 1000; ++i) {
    const double log_lr = -5 + 4 * unit(random);
    const int batch = 16 << (i % 3);
    char swept[96];
    std::snprintf(swept, sizeof swept, "train.lr=%.6g train.batch_size=%d", std::pow(10, log_lr),
                  batch);
    // Variances: lr 8.3e-4, batch size 2.0e-4, noise 3.3e-5: shares of about 0.78 and 0.19.
    runs.push_back(run(swept, 0.5 - 0.05 * std::abs(log_lr + 3) + 0.03 * (batch == 64) +
                                  0.02 * (unit(random) - 0.5)));
  }
  const auto start = std::chrono::steady_clock::now();
  const Importance importance = knob_importance(runs, accuracy_objective());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("knob importance of 1000 runs, 2 keys: %.4f s\n", seconds);
  EXPECT_EQ(knob(importance, "train.lr").levels, kImportanceBins);
  EXPECT_EQ(knob(importance, "train.batch_size").levels, 3u);
  EXPECT_NEAR(knob(importance, "train.lr").share, 0.78, 0.06)
      << "8 bins of a V-shaped curve keep most of it";
  EXPECT_NEAR(knob(importance, "train.batch_size").share, 0.19, 0.04);
}

// sgd wants a large lr and adam a small one: neither key alone explains the accuracy,
// the pair does, and the report says so instead of calling both unimportant.
TEST(ImportanceTest, AnInteractionIsShownWhereNeitherKeyAloneExplainsTheMetric) {
  std::vector<storage::RunSummary> runs;
  for (int repeat = 0; repeat < 3; ++repeat) {
    for (const char* optimizer : {"sgd", "adam"}) {
      for (double lr : {1e-3, 1e-1}) {
        const bool suits = (lr > 1e-2) == (optimizer[0] == 's');
        char swept[96];
        std::snprintf(swept, sizeof swept, "train.optimizer=\"%s\" train.lr=%g", optimizer, lr);
        runs.push_back(run(swept, (suits ? 0.9 : 0.5) + 0.001 * repeat));
      }
    }
  }
  const Importance importance = knob_importance(runs, accuracy_objective());
  EXPECT_LT(knob(importance, "train.lr").share, 0.05);
  EXPECT_LT(knob(importance, "train.optimizer").share, 0.05);
  ASSERT_EQ(importance.pairs.size(), 1u);
  EXPECT_EQ(importance.pairs[0].key, "train.optimizer x train.lr");
  EXPECT_GT(importance.pairs[0].share, 0.95);
  EXPECT_NE(render_importance(importance).find(" together, beyond each key on its own:\n"),
            std::string::npos);
}

TEST(ImportanceTest, TooFewRunsSayWhyNothingIsKnown) {
  std::vector<storage::RunSummary> runs = {run("train.lr=0.1", 0.5), run("train.lr=0.01", 0.7),
                                           run("train.lr=0.001", 0.6)};
  runs.push_back(run("train.lr=0.0001", 0.4));
  runs.back().status = RunStatus::kPruned;
  const Importance importance = knob_importance(runs, accuracy_objective());
  EXPECT_TRUE(importance.knobs.empty());
  EXPECT_EQ(render_importance(importance),
            "what val_accuracy depends on: not known (fewer than 4 runs finished ok)\n");
}

}  // namespace
}  // namespace orch
