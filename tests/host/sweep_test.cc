#include "host/sweep.h"

#include <gtest/gtest.h>

#include <set>

namespace orch {
namespace {

Experiment two_axis_experiment() {
  Experiment exp;
  exp.name = "t";
  exp.seed = 7;
  exp.sections["backend"] = {"cpu", {{"threads", std::int64_t{1}}}};
  exp.sections["dataset"] = {"synthetic", {{"samples", std::int64_t{64}}}};
  exp.sections["model"] = {"mlp", {{"hidden", std::int64_t{8}}}};
  exp.sections["train"] = {"", {{"batch_size", std::int64_t{8}}, {"epochs", std::int64_t{1}},
                                {"lr", 1e-3}, {"optimizer", std::string("adam")}}};
  exp.sweep = {{"train", "batch_size", {std::int64_t{2}, std::int64_t{4}, std::int64_t{8}}},
               {"train", "epochs", {std::int64_t{1}, std::int64_t{2}}}};
  return exp;
}

TEST(SweepTest, RunsAreTheCartesianProductWithTheLastListFastest) {
  auto runs = expand_sweep(two_axis_experiment());
  ASSERT_EQ(runs.size(), 6u);
  std::vector<std::string> swept;
  for (const auto& run : runs) swept.push_back(run.swept_text());
  EXPECT_EQ(swept, (std::vector<std::string>{
                       "train.batch_size=2 train.epochs=1", "train.batch_size=2 train.epochs=2",
                       "train.batch_size=4 train.epochs=1", "train.batch_size=4 train.epochs=2",
                       "train.batch_size=8 train.epochs=1", "train.batch_size=8 train.epochs=2"}));
  EXPECT_EQ(runs[3].params("train").Int("batch_size"), 4);
  EXPECT_EQ(runs[3].params("train").Int("epochs"), 2);
  // Parameters outside the sweep keep the file's value.
  EXPECT_EQ(runs[3].params("model").Int("hidden"), 8);
}

TEST(SweepTest, RepeatsMultiplyTheRunsAndGetTheirOwnSeedsAndKeys) {
  Experiment exp = two_axis_experiment();
  exp.repeats = 3;
  auto runs = expand_sweep(exp);
  ASSERT_EQ(runs.size(), 18u);
  // Repeats are the outer loop: every configuration once before any twice.
  EXPECT_EQ(runs[0].repeat, 0);
  EXPECT_EQ(runs[6].repeat, 1);
  EXPECT_EQ(runs[6].swept_text(), runs[0].swept_text());
  EXPECT_EQ(runs[6].seed, runs[0].seed + 1);
  std::set<std::string> keys;
  for (const auto& run : runs) keys.insert(run.key);
  EXPECT_EQ(keys.size(), runs.size()) << "every run must have its own key";
}

TEST(SweepTest, NoSweepMeansOneRunShownAsDash) {
  Experiment exp = two_axis_experiment();
  exp.sweep.clear();
  auto runs = expand_sweep(exp);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].swept_text(), "-");
}

TEST(SweepTest, RunKeysAreStableAndDependOnEveryResolvedValue) {
  auto first = expand_sweep(two_axis_experiment());
  auto again = expand_sweep(two_axis_experiment());
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i].key, again[i].key);
  EXPECT_EQ(first[0].key.size(), 16u);

  // A value that is not swept still changes the key: resume must not reuse a run made
  // with another model width.
  Experiment wider = two_axis_experiment();
  wider.sections["model"].values["hidden"] = std::int64_t{16};
  EXPECT_NE(expand_sweep(wider)[0].key, first[0].key);

  Experiment other_seed = two_axis_experiment();
  other_seed.seed = 8;
  EXPECT_NE(expand_sweep(other_seed)[0].key, first[0].key);
}

TEST(SweepTest, RunKeyIsAFixedFunctionOfTheParameters) {
  // Pinned: a change here silently re-runs every user's finished runs.
  std::vector<std::pair<std::string, Value>> params = {{"train.batch_size", std::int64_t{4}},
                                                       {"train.lr", 0.001},
                                                       {"model.plugin", std::string("mlp")}};
  EXPECT_EQ(run_key(params, 42, 0), run_key(params, 42, 0));
  EXPECT_NE(run_key(params, 42, 0), run_key(params, 42, 1));
  EXPECT_EQ(stable_hash(""), "cbf29ce484222325");  // FNV-1a 64 offset basis
  EXPECT_EQ(stable_hash("a"), "af63dc4c8601ec8c");
}

TEST(SweepTest, FlatParamsNameEverySectionAndPlugin) {
  auto runs = expand_sweep(two_axis_experiment());
  auto flat = runs[0].flat_params();
  std::set<std::string> names;
  for (const auto& [key, value] : flat) names.insert(key);
  EXPECT_TRUE(names.count("backend.plugin"));
  EXPECT_TRUE(names.count("model.hidden"));
  EXPECT_TRUE(names.count("train.batch_size"));
  EXPECT_FALSE(names.count("train.plugin")) << "[train] is the host's, not a plugin";
}

}  // namespace
}  // namespace orch
