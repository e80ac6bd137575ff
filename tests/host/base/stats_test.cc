#include "host/base/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace orch::stats {
namespace {

// --- median -------------------------------------------------------------------------------

TEST(StatsTest, MedianOfOddCountIsTheMiddleStepTime) {
  // sorted: 1 2 [3] 4 100 -- one slow outlier step does not move the median
  EXPECT_DOUBLE_EQ(median({3, 1, 100, 2, 4}), 3);
}

TEST(StatsTest, MedianOfEvenCountAveragesTheTwoMiddleValues) {
  // sorted: 1 [2 4] 9 -> (2 + 4) / 2 = 3
  EXPECT_DOUBLE_EQ(median({9, 2, 4, 1}), 3);
  EXPECT_DOUBLE_EQ(median({5, 7}), 6);
}

TEST(StatsTest, MedianOfNoMeasurementsIsZero) {
  EXPECT_EQ(median({}), 0);
  EXPECT_EQ(percentile({}, 50), 0);
}

TEST(StatsTest, MedianAndPercentileLeaveTheCallersStepTimesInOrder) {
  // The caller's step times stay in recorded order, so later code can still plot them.
  const std::vector<double> recorded = {5, 3, 9, 1, 7, 2};
  std::vector<double> times = recorded;
  EXPECT_DOUBLE_EQ(median(times), 4);  // sorted 1 2 [3 5] 7 9 -> 4
  EXPECT_EQ(times, recorded);
  EXPECT_DOUBLE_EQ(percentile(times, 95), 8.5);  // rank 0.95 * 5 = 4.75: 7 + 0.75 * 2
  EXPECT_EQ(times, recorded);
}

// --- percentile ---------------------------------------------------------------------------

// 1..10 shuffled; numpy.percentile(range(1, 11), p) with the default "linear" method.
const std::vector<double> kOneToTen = {7, 3, 10, 1, 5, 9, 2, 8, 4, 6};

TEST(StatsTest, PercentileEndsAreTheFastestAndSlowestStep) {
  EXPECT_DOUBLE_EQ(percentile(kOneToTen, 0), 1);
  EXPECT_DOUBLE_EQ(percentile(kOneToTen, 100), 10);
}

TEST(StatsTest, PercentileMatchesNumpyLinearInterpolation) {
  // p50: rank 0.5 * 9 = 4.5 -> 5 + 0.5 * (6 - 5) = 5.5 (same as the median)
  EXPECT_DOUBLE_EQ(percentile(kOneToTen, 50), 5.5);
  EXPECT_DOUBLE_EQ(percentile(kOneToTen, 50), median(kOneToTen));
  // p95: rank 0.95 * 9 = 8.55 -> 9 + 0.55 * (10 - 9) = 9.55, what numpy prints
  EXPECT_NEAR(percentile(kOneToTen, 95), 9.55, 1e-12);
  // p25: rank 2.25 -> 3 + 0.25 * (4 - 3) = 3.25
  EXPECT_DOUBLE_EQ(percentile(kOneToTen, 25), 3.25);
}

TEST(StatsTest, PercentileOfOneStepIsThatStep) {
  EXPECT_DOUBLE_EQ(percentile({4.5}, 0), 4.5);
  EXPECT_DOUBLE_EQ(percentile({4.5}, 95), 4.5);
  EXPECT_DOUBLE_EQ(percentile({4.5}, 100), 4.5);
}

// --- t critical values --------------------------------------------------------------------

TEST(StatsTest, TCriticalValuesMatchTheStudentTable) {
  // scipy.stats.t.ppf(0.975, dof), rounded to 3 decimals
  EXPECT_DOUBLE_EQ(t_critical_95(1), 12.706);
  EXPECT_DOUBLE_EQ(t_critical_95(2), 4.303);
  EXPECT_DOUBLE_EQ(t_critical_95(10), 2.228);
  EXPECT_DOUBLE_EQ(t_critical_95(30), 2.042);
  EXPECT_DOUBLE_EQ(t_critical_95(40), 2.021);
  EXPECT_DOUBLE_EQ(t_critical_95(60), 2.000);
  EXPECT_DOUBLE_EQ(t_critical_95(120), 1.980);
}

TEST(StatsTest, TCriticalBetweenTablePointsIsInterpolatedInInverseDof) {
  // dof 45: 1/45 lies 1/3 of the way from 1/40 to 1/60
  //   ((1/40 - 1/45) / (1/40 - 1/60) = (1/360) / (1/120) = 1/3)
  //   -> 2.021 + (2.000 - 2.021) / 3 = 2.014; exact t.ppf(0.975, 45) = 2.0141
  EXPECT_NEAR(t_critical_95(45), 2.014, 1e-9);
  EXPECT_NEAR(t_critical_95(45), 2.0141, 1e-3);
}

TEST(StatsTest, TCriticalForManyRepeatsApproachesTheNormal196) {
  // dof 1000: between 1/120 and 0 (infinity, 1.960): 1.960 + 0.020 * (120 / 1000) = 1.9624;
  // exact t.ppf(0.975, 1000) = 1.96234
  EXPECT_NEAR(t_critical_95(1000), 1.9624, 1e-9);
  EXPECT_NEAR(t_critical_95(1000), 1.96, 0.003);
  EXPECT_GT(t_critical_95(1000000), 1.960);
  EXPECT_NEAR(t_critical_95(1000000), 1.960, 1e-4);
}

TEST(StatsTest, TCriticalNeverGrowsWithMoreRepeats) {
  // More repeats never make the interval factor larger, so adding a run never widens
  // the reported confidence interval just through the t value.
  for (std::size_t dof = 1; dof < 2000; ++dof) {
    ASSERT_GE(t_critical_95(dof), t_critical_95(dof + 1)) << "dof " << dof;
  }
}

TEST(StatsTest, TCriticalWithoutDegreesOfFreedomGivesNoInterval) { EXPECT_EQ(t_critical_95(0), 0); }

// --- summarize ----------------------------------------------------------------------------

TEST(StatsTest, SummaryOfThreeRepeatsHasTheStudentInterval) {
  // mean (10 + 12 + 14) / 3 = 12; deviations -2 0 2, sum of squares 8, / (3 - 1) = 4 -> sd 2;
  // half width t(2) * sd / sqrt(3) = 4.303 * 2 / 1.7320508 = 4.96868
  Summary s = summarize({10, 12, 14});
  EXPECT_EQ(s.n, 3u);
  EXPECT_DOUBLE_EQ(s.mean, 12);
  EXPECT_DOUBLE_EQ(s.stddev, 2);
  EXPECT_NEAR(s.half_width, 4.968676, 1e-6);
  EXPECT_DOUBLE_EQ(s.half_width, 4.303 * 2 / std::sqrt(3.0));
  EXPECT_NEAR(s.low(), 12 - 4.968676, 1e-6);
  EXPECT_NEAR(s.high(), 12 + 4.968676, 1e-6);
}

TEST(StatsTest, SingleRunHasAMeanButNoInterval) {
  Summary s = summarize({7.5});
  EXPECT_EQ(s.n, 1u);
  EXPECT_DOUBLE_EQ(s.mean, 7.5);
  EXPECT_EQ(s.stddev, 0);
  EXPECT_EQ(s.half_width, 0);
  EXPECT_DOUBLE_EQ(s.low(), 7.5);
  EXPECT_DOUBLE_EQ(s.high(), 7.5);
}

TEST(StatsTest, SummaryOfNothingIsAllZero) {
  Summary s = summarize({});
  EXPECT_EQ(s.n, 0u);
  EXPECT_EQ(s.mean, 0);
  EXPECT_EQ(s.stddev, 0);
  EXPECT_EQ(s.half_width, 0);
}

TEST(StatsTest, IdenticalRepeatsHaveAZeroWidthInterval) {
  Summary s = summarize({3, 3, 3, 3});
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_EQ(s.stddev, 0);
  EXPECT_EQ(s.half_width, 0);
}

// --- relative_half_width ------------------------------------------------------------------

TEST(StatsTest, RelativeHalfWidthIsTheIntervalAsAFractionOfTheMean) {
  // 4.96868 / 12 = 0.41406: "12 +- 41%"
  EXPECT_NEAR(summarize({10, 12, 14}).relative_half_width(), 0.414056, 1e-6);
  // uses |mean|: a negative metric (e.g. a log-likelihood) gets the same positive fraction
  EXPECT_NEAR(summarize({-10, -12, -14}).relative_half_width(), 0.414056, 1e-6);
  EXPECT_EQ(summarize({5}).relative_half_width(), 0);
}

TEST(StatsTest, RelativeHalfWidthOfAZeroMeanIsZeroNotInfinite) {
  Summary s = summarize({-1, 1});  // mean 0, sd sqrt(2), half width 12.706 * sqrt(2)/sqrt(2)
  EXPECT_DOUBLE_EQ(s.half_width, 12.706);
  EXPECT_EQ(s.relative_half_width(), 0);
}

// --- distinguishable ----------------------------------------------------------------------

TEST(StatsTest, ClearlySeparatedConfigurationsAreReportedAsDifferent) {
  // means 10 and 20, each sd 0.1, half width 4.303 * 0.1 / sqrt(3) = 0.248:
  // [9.75, 10.25] vs [19.75, 20.25] do not overlap, gap 10 > 1% of 10
  Summary fast = summarize({10, 10.1, 9.9});
  Summary slow = summarize({20, 20.1, 19.9});
  EXPECT_TRUE(distinguishable(fast, slow));
  EXPECT_TRUE(distinguishable(slow, fast));
}

TEST(StatsTest, TwoConfigurationsWhoseIntervalsOverlapAreReportedAsTied) {
  // means 11 and 12 (9% apart), each sd 1, half width 4.303 / sqrt(3) = 2.484:
  // [8.52, 13.48] and [9.52, 14.48] overlap, so the 9% difference is inside the noise
  Summary a = summarize({10, 11, 12});
  Summary b = summarize({11, 12, 13});
  EXPECT_FALSE(distinguishable(a, b));
  EXPECT_FALSE(distinguishable(b, a));
}

TEST(StatsTest, SingleRunInsideTheOtherIntervalIsATie) {
  // [12 - 4.97, 12 + 4.97] contains 15
  EXPECT_FALSE(distinguishable(summarize({10, 12, 14}), summarize({15})));
  EXPECT_TRUE(distinguishable(summarize({10, 12, 14}), summarize({30})));
}

TEST(StatsTest, IdenticalSingleRunsAreATie) {
  EXPECT_FALSE(distinguishable(summarize({5}), summarize({5})));
}

TEST(StatsTest, SingleRunsAreComparedByTheRelativeGapAlone) {
  // 100 vs 105: gap 5 is 5% of the smaller mean
  Summary a = summarize({100});
  Summary b = summarize({105});
  EXPECT_TRUE(distinguishable(a, b, 0.01));  // 5 > 1% of 100 = 1
  EXPECT_TRUE(distinguishable(b, a, 0.01));
  EXPECT_FALSE(distinguishable(a, b, 0.10));  // 5 <= 10% of 100 = 10
  EXPECT_FALSE(distinguishable(b, a, 0.10));
  EXPECT_TRUE(distinguishable(a, b));  // default gap is 1%
}

TEST(StatsTest, NonOverlappingButNegligibleDifferenceIsATie) {
  // Very quiet repeats: intervals [1000 +- 0.0025] and [1002 +- 0.0025] are apart, but
  // 2 is only 0.2% of 1000, below the default 1% minimum gap.
  Summary a = summarize({1000, 1000.001, 999.999});
  Summary b = summarize({1002, 1002.001, 1001.999});
  EXPECT_LT(a.high(), b.low());
  EXPECT_FALSE(distinguishable(a, b));
  EXPECT_TRUE(distinguishable(a, b, 0.001));  // 2 > 0.1% of 1000 = 1
}

TEST(StatsTest, ConfigurationWithoutMeasurementsIsNeverDifferent) {
  // A configuration whose runs all failed must not be reported as better or worse.
  EXPECT_FALSE(distinguishable(summarize({}), summarize({10, 11, 12})));
  EXPECT_FALSE(distinguishable(summarize({5}), summarize({})));
  EXPECT_FALSE(distinguishable(summarize({}), summarize({})));
}

// A benchmark that stops on a tight estimate must not be kept running by a few stalls.
TEST(StatsTest, TheMedianIntervalIgnoresAFewHugeStalls) {
  std::vector<double> steps;
  for (int i = 0; i < 100; ++i) steps.push_back(1.0 + 0.001 * (i % 10));
  for (int i = 0; i < 5; ++i) steps.push_back(50.0);  // five steps stalled by another process
  Interval interval = median_interval_95(steps);
  EXPECT_GE(interval.low, 1.0);
  EXPECT_LE(interval.high, 1.01) << "the stalls stay out of the median's interval";
  EXPECT_GT(summarize(steps).relative_half_width(), 0.5) << "while the mean's interval explodes";
}

TEST(StatsTest, TheMedianIntervalNarrowsWithMoreSamplesAndIsEmptySafe) {
  std::vector<double> few = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  Interval wide = median_interval_95(few);
  EXPECT_LE(wide.low, 5);
  EXPECT_GE(wide.high, 5);
  EXPECT_EQ(median_interval_95({}).low, 0);
  EXPECT_EQ(median_interval_95({7}).low, 7);
  EXPECT_EQ(median_interval_95({7}).high, 7);
}

}  // namespace
}  // namespace orch::stats
