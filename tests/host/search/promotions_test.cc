#include "host/search/promotions.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace orch {
namespace {

PruneSettings promoting_asha(int reduction) {
  PruneSettings settings{PruneRule::kAsha, 1, reduction};
  settings.promote = true;
  return settings;
}

std::vector<std::string> keys(const std::vector<PausedRun>& runs) {
  std::vector<std::string> out;
  for (const auto& run : runs) out.push_back(run.key);
  return out;
}

// A run paused when its rung held two runs goes on once the runs after it are worse: with
// six at the rung, the best three (1/2) have earned the next rung.
TEST(PromotionsTest, APausedRunGoesOnOnceTheRungHoldsEnoughWorseRuns) {
  const std::vector<PausedRun> paused = {{"early", 1, 0.30}};
  EXPECT_TRUE(promotable(promoting_asha(2), {{1, {0.30, 0.10}}}, paused).empty())
      << "2nd of 2: not in the best 1";
  EXPECT_EQ(keys(promotable(promoting_asha(2), {{1, {0.30, 0.10, 0.5, 0.6}}}, paused)),
            (std::vector<std::string>{"early"}));
}

// Runs that already went on from the rung count there (their value at it), so a paused run
// must beat what went on before it, and a tie at the cut goes on, as at the pruner.
TEST(PromotionsTest, RunsThatWentOnCountAtTheirRungAndATieAtTheCutGoesOn) {
  const EpochValues reached = {{1, {0.1, 0.2, 0.4, 0.4, 0.9, 0.9}}, {2, {0.1, 0.2}}};
  const std::vector<PausedRun> paused = {{"fourth", 1, 0.4}, {"third", 1, 0.4}, {"last", 1, 0.9}};
  EXPECT_EQ(keys(promotable(promoting_asha(2), reached, paused)),
            (std::vector<std::string>{"fourth", "third"}))
      << "both tied at the 3rd place, the cut of 6 / 2, in key order";
  EXPECT_TRUE(promotable(promoting_asha(3), reached, paused).empty()) << "the cut is the 2nd";
}

// Deeper rungs go first: a run near the end is worth finishing before one near the start.
TEST(PromotionsTest, TheDeepestRungGoesFirst) {
  const EpochValues reached = {{1, {0.1, 0.2, 0.3, 0.4}}, {2, {0.1, 0.3}}};
  const std::vector<PausedRun> paused = {{"shallow", 1, 0.1}, {"deep", 2, 0.1}};
  EXPECT_EQ(keys(promotable(promoting_asha(2), reached, paused)),
            (std::vector<std::string>{"deep", "shallow"}));
}

// A diverged run (NaN) is never promoted, and never the reason another is not.
TEST(PromotionsTest, ADivergedRunRanksLast) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const EpochValues reached = {{1, {nan, 0.5, 0.7, 0.8}}};
  EXPECT_EQ(keys(promotable(promoting_asha(2), reached, {{"nan", 1, nan}, {"fine", 1, 0.7}})),
            (std::vector<std::string>{"fine"}));
}

TEST(PromotionsTest, TheLeaderIsTheBestOfTheDeepestRung) {
  EXPECT_FALSE(leader({}));
  const auto first = leader({{"a", 1, 0.1}, {"b", 4, 0.5}, {"c", 4, 0.3}});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->key, "c");
}

}  // namespace
}  // namespace orch
