#include "host/search/pruner.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace orch {
namespace {

PruneSettings asha(int min_epochs, int reduction) {
  return PruneSettings{PruneRule::kAsha, min_epochs, reduction};
}

PruneSettings median_rule(int min_epochs) { return PruneSettings{PruneRule::kMedian, min_epochs}; }

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(PrunerTest, RulesHaveTheirWords) {
  EXPECT_STREQ(prune_word(PruneRule::kNone), "none");
  EXPECT_STREQ(prune_word(PruneRule::kMedian), "median");
  EXPECT_STREQ(prune_word(PruneRule::kAsha), "asha");
}

TEST(PrunerTest, AshaRungsGrowByTheReduction) {
  EXPECT_EQ(rungs(asha(1, 3), 10), (std::vector<int>{1, 3, 9}));
  EXPECT_EQ(rungs(asha(2, 2), 20), (std::vector<int>{2, 4, 8, 16}));
  EXPECT_EQ(rungs(asha(5, 3), 4), (std::vector<int>{}));
}

TEST(PrunerTest, MedianJudgesEveryEpochFromItsMinimum) {
  EXPECT_EQ(rungs(median_rule(2), 5), (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(rungs(PruneSettings{}, 5), (std::vector<int>{}));
  EXPECT_EQ(make_pruner(PruneSettings{}), nullptr);
}

TEST(PrunerTest, SettingsThatCannotWorkAreRefused) {
  EXPECT_THROW(make_pruner(asha(1, 1)), std::invalid_argument);
  EXPECT_THROW(make_pruner(median_rule(0)), std::invalid_argument);
  EXPECT_THROW(rungs(asha(0, 3), 10), std::invalid_argument);
}

TEST(PrunerTest, AshaKeepsTheBestThirdAtARungAndPrunesTheRest) {
  const auto pruner = make_pruner(asha(1, 3));
  // Six others at rung 3; with this run 7, of which 7 / 3 = 2 go on.
  const EpochValues seen = {{3, {0.40, 0.10, 0.60, 0.20, 0.50, 0.30}}};
  EXPECT_FALSE(pruner->should_prune(seen, 3, 0.05));  // 1st
  EXPECT_FALSE(pruner->should_prune(seen, 3, 0.15));  // 2nd
  const auto reason = pruner->should_prune(seen, 3, 0.25);
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason,
            "at epoch 3, an ASHA rung, ranked 3rd of 7 runs there: not in the best 1/3 "
            "(the cut was at the 2nd best)");
  EXPECT_TRUE(pruner->should_prune(seen, 3, 9.0));
}

TEST(PrunerTest, AshaLetsATieAtTheCutGoOn) {
  const auto pruner = make_pruner(asha(1, 3));
  const EpochValues seen = {{3, {0.40, 0.10, 0.60, 0.20, 0.50, 0.30}}};
  EXPECT_FALSE(pruner->should_prune(seen, 3, 0.20));
}

TEST(PrunerTest, AshaNeverPrunesBetweenRungs) {
  const auto pruner = make_pruner(asha(1, 3));
  EpochValues seen;
  for (int epoch = 1; epoch <= 10; ++epoch) seen[epoch] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
  for (int epoch = 1; epoch <= 10; ++epoch) {
    const bool rung = epoch == 1 || epoch == 3 || epoch == 9;
    EXPECT_EQ(pruner->should_prune(seen, epoch, 5.0).has_value(), rung) << "epoch " << epoch;
  }
}

TEST(PrunerTest, AshaLetsTheFirstRunsAtARungGoOn) {
  const auto pruner = make_pruner(asha(1, 3));
  EXPECT_FALSE(pruner->should_prune({}, 1, 5.0));  // nobody to compare with
  // Two runs: 2 / 3 rounds down to 0, yet one always goes on; it is the better one.
  EXPECT_FALSE(pruner->should_prune({{1, {9.0}}}, 1, 5.0));
  const auto reason = pruner->should_prune({{1, {1.0}}}, 1, 5.0);
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason,
            "at epoch 1, an ASHA rung, ranked 2nd of 2 runs there: not in the best 1/3 "
            "(only the best goes on)");
}

// Pausing, nobody goes on from a rung alone: the first runs there wait for `reduction`
// runs, and the reason says that the run may go on later.
TEST(PrunerTest, PromotingAshaPausesTheFirstRunsAtARungUntilEnoughArrive) {
  PruneSettings settings = asha(1, 2);
  settings.promote = true;
  const auto pruner = make_pruner(settings);
  const auto alone = pruner->should_prune({}, 1, 5.0);
  ASSERT_TRUE(alone);
  EXPECT_EQ(*alone,
            "at epoch 1, an ASHA rung, ranked 1st of 1 runs there: not in the best 1/2 (none "
            "goes on before 2 runs reached it); it goes on if the runs after it put it in the "
            "best 1/2");
  EXPECT_FALSE(pruner->should_prune({{1, {9.0}}}, 1, 5.0));  // the better of two goes on
  EXPECT_TRUE(pruner->should_prune({{1, {1.0}}}, 1, 5.0));
  EXPECT_FALSE(pruner->should_prune({}, 3, 5.0));  // not a rung: 1, 2, 4, ...
}

TEST(PrunerTest, MedianNeedsThreeOtherRuns) {
  const auto pruner = make_pruner(median_rule(1));
  EXPECT_FALSE(pruner->should_prune({{2, {0.1, 0.2}}}, 2, 5.0));
  const auto reason = pruner->should_prune({{2, {0.1, 0.2, 0.3}}}, 2, 5.0);
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, "at epoch 2, worse than the median of 3 other runs there");
}

TEST(PrunerTest, MedianPrunesOnlyStrictlyWorseRuns) {
  const auto pruner = make_pruner(median_rule(1));
  const EpochValues odd = {{4, {0.3, 0.1, 0.2}}};  // median 0.2
  EXPECT_FALSE(pruner->should_prune(odd, 4, 0.2));
  EXPECT_FALSE(pruner->should_prune(odd, 4, 0.15));
  EXPECT_TRUE(pruner->should_prune(odd, 4, 0.2001));
  const EpochValues even = {{4, {0.4, 0.1, 0.3, 0.2, 0.5, 0.6}}};  // median 0.35
  EXPECT_FALSE(pruner->should_prune(even, 4, 0.35));
  EXPECT_TRUE(pruner->should_prune(even, 4, 0.36));
}

TEST(PrunerTest, MedianWaitsForItsMinimumEpoch) {
  const auto pruner = make_pruner(median_rule(3));
  const EpochValues seen = {{2, {0.1, 0.1, 0.1}}, {3, {0.1, 0.1, 0.1}}};
  EXPECT_FALSE(pruner->should_prune(seen, 2, 5.0));
  EXPECT_TRUE(pruner->should_prune(seen, 3, 5.0));
}

TEST(PrunerTest, ReasonsNameTheEpochAndRuleButNotTheValue) {
  // The caller prints the metric's real value (a maximized metric arrives negated).
  const EpochValues seen = {{9, {1.0, 2.0, 3.0, 4.0}}};
  for (const PruneSettings& settings : {asha(1, 3), median_rule(1)}) {
    const auto reason = make_pruner(settings)->should_prune(seen, 9, -123.456 + 200);
    ASSERT_TRUE(reason) << prune_word(settings.rule);
    EXPECT_TRUE(contains(*reason, "at epoch 9")) << *reason;
    EXPECT_FALSE(contains(*reason, "76.5")) << *reason;
    EXPECT_FALSE(contains(*reason, "76,5")) << *reason;
  }
  EXPECT_TRUE(contains(*make_pruner(asha(1, 3))->should_prune(seen, 9, 76.544), "ASHA"));
  EXPECT_TRUE(contains(*make_pruner(median_rule(1))->should_prune(seen, 9, 76.544), "median"));
}

}  // namespace
}  // namespace orch
