// The memory model the probe and `orch plan` rest on: a line fitted through measured
// peaks, the scatter around it, the margin it keeps, and the forecast table built on it.
#include "host/probe/memory_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "host/probe/memory_forecast.h"

namespace orch {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::int64_t mib(double value) { return static_cast<std::int64_t>(value * kMiB); }

TEST(MemoryModelTest, RecoversTheFixedAndPerSampleParts) {
  // 300 MiB before the first sample, 40 MiB per sample, measured exactly.
  MemoryModel model =
      fit_memory_model({{1, mib(340)}, {2, mib(380)}, {4, mib(460)}, {8, mib(620)}});
  ASSERT_TRUE(model.usable());
  EXPECT_NEAR(model.fixed_bytes / kMiB, 300, 1e-6);
  EXPECT_NEAR(model.per_sample_bytes / kMiB, 40, 1e-6);
  EXPECT_NEAR(model.noise_bytes, 0, 1);
  EXPECT_NEAR(model.peak_at(16) / kMiB, 940, 1e-6);
}

TEST(MemoryModelTest, ScatterIsTheResidualsStandardDeviation) {
  // Peaks alternate 10 MiB above and below the line 100 + 10 x batch.
  std::vector<MemoryPoint> points;
  for (int batch = 1; batch <= 8; ++batch) {
    const double offset = batch % 2 ? 10 : -10;
    points.push_back({batch, mib(100 + 10 * batch + offset)});
  }
  MemoryModel model = fit_memory_model(points);
  // Residuals of +-10 MiB around a fitted line that absorbs a little of them.
  EXPECT_GT(model.noise_bytes / kMiB, 9.0);
  EXPECT_LT(model.noise_bytes / kMiB, 12.5);
}

TEST(MemoryModelTest, TwoPointsGiveALineButNoScatter) {
  MemoryModel model = fit_memory_model({{2, mib(200)}, {4, mib(300)}});
  EXPECT_TRUE(model.usable());
  EXPECT_EQ(model.noise_bytes, 0);
  EXPECT_NEAR(model.per_sample_bytes / kMiB, 50, 1e-6);
}

TEST(MemoryModelTest, OneBatchSizeOrShrinkingMemoryIsNotUsable) {
  EXPECT_FALSE(fit_memory_model({{4, mib(300)}, {4, mib(310)}}).usable());
  EXPECT_FALSE(fit_memory_model({{2, mib(300)}, {4, mib(290)}}).usable());
  EXPECT_FALSE(fit_memory_model({}).usable());
  EXPECT_EQ(largest_fitting_batch(fit_memory_model({{4, mib(300)}}), mib(1024), 0, 1000), 0);
}

TEST(MemoryModelTest, PredictionsWidenAwayFromTheMeasuredSizes) {
  std::vector<MemoryPoint> points;
  for (int batch : {1, 2, 3, 4})
    points.push_back({batch, mib(100 + 10 * batch + (batch % 2 ? 3 : -3))});
  MemoryModel model = fit_memory_model(points);
  EXPECT_GT(model.prediction_noise_at(64), model.prediction_noise_at(8));
  EXPECT_GT(model.prediction_noise_at(8), model.prediction_noise_at(3));
  // A new measurement scatters at least as much as the old ones did.
  EXPECT_GE(model.prediction_noise_at(2), model.noise_bytes);
}

TEST(MemoryModelTest, LargestFittingBatchKeepsTheMarginAndIsTheLargestThatDoes) {
  std::mt19937 random(7);
  std::normal_distribution<double> scatter(0, 5);
  std::vector<MemoryPoint> points;
  for (int batch : {1, 2, 4, 8, 16})
    points.push_back({batch, mib(250 + 30 * batch + scatter(random))});
  MemoryModel model = fit_memory_model(points);
  const std::int64_t budget = mib(1024);
  const double growth = 12 * kMiB;
  const std::int64_t answer = largest_fitting_batch(model, budget, growth, 10000);
  ASSERT_GT(answer, 0);
  // The same question asked of every batch size: the answer fits, the next one does not.
  auto fits = [&](std::int64_t batch) {
    return model.peak_at(batch) + margin_at(model, batch, growth, budget) <=
           static_cast<double>(budget);
  };
  EXPECT_TRUE(fits(answer));
  EXPECT_FALSE(fits(answer + 1));
  // About (1024 - 250 - margin) / 30: 24 with a margin of a few tens of MiB.
  EXPECT_GE(answer, 22);
  EXPECT_LE(answer, 25);
  // The margin is what was measured: three sigmas of scatter plus the growth.
  EXPECT_NEAR(margin_at(model, answer, growth, budget),
              kNoiseSigmas * model.prediction_noise_at(answer) + growth, 1);
}

TEST(MemoryModelTest, TheMarginIsNeverLessThanTheShareABusyMachineAddsToAPeak) {
  // Trials that never scatter and never grow still leave 2% of the budget free.
  MemoryModel model = fit_memory_model({{1, mib(98)}, {2, mib(106)}, {4, mib(122)}});
  ASSERT_EQ(model.noise_bytes, 0);
  const std::int64_t budget = mib(200);
  EXPECT_DOUBLE_EQ(margin_at(model, 8, 0, budget), kMinMarginShare * budget);
  // 90 MiB + 8 MiB per sample: 13 would peak at 194 MiB, 2 MiB short of the 196 MiB the
  // floor leaves.
  EXPECT_EQ(largest_fitting_batch(model, budget, 0, 1000), 13);
}

TEST(MemoryModelTest, LargestFittingBatchIsCappedAndZeroWhenNothingFits) {
  MemoryModel model = fit_memory_model({{1, mib(110)}, {2, mib(120)}, {3, mib(130)}});
  EXPECT_EQ(largest_fitting_batch(model, mib(100000), 0, 64), 64);
  EXPECT_EQ(largest_fitting_batch(model, mib(105), 0, 64), 0);
}

TEST(MemoryModelTest, GrowthOverTheRunAddsTheTrialsGrowthPerDoublingOfSteps) {
  EXPECT_EQ(growth_over_run(0, 16, 1000), 0);
  EXPECT_EQ(growth_over_run(mib(4), 16, 16), 0);
  // 16 -> 1024 steps is six doublings.
  EXPECT_NEAR(growth_over_run(mib(4), 16, 1024) / kMiB, 24, 1e-9);
}

TEST(MemoryModelTest, DescribeSaysTheParts) {
  MemoryModel model = fit_memory_model({{1, mib(340)}, {2, mib(380)}, {4, mib(460)}});
  const std::string text = describe(model);
  EXPECT_NE(text.find("fixed 300.0 MiB"), std::string::npos) << text;
  EXPECT_NE(text.find("40.0 MiB per sample"), std::string::npos) << text;
  EXPECT_NE(text.find("3 measured peaks"), std::string::npos) << text;
}

MemoryForecast forecast_for(std::vector<std::int64_t> batch_sizes) {
  MemoryForecast forecast;
  forecast.label = "mlp";
  forecast.budget_bytes = mib(1024);
  forecast.batch_sizes = std::move(batch_sizes);
  forecast.model = fit_memory_model({{1, mib(302)}, {2, mib(338)}, {4, mib(423)}, {8, mib(579)}});
  forecast.largest_measured_batch = 8;
  return forecast;
}

TEST(MemoryForecastTest, VerdictsFollowThePredictedPeakAndTheMargin) {
  MemoryForecast forecast = forecast_for({4, 16, 17, 18, 19, 20, 32});
  // About 260 + 40 x batch MiB: 18 is the last under 1 GiB, 32 is far over.
  EXPECT_EQ(memory_verdict(forecast, 4), MemoryVerdict::kFits);
  EXPECT_EQ(memory_verdict(forecast, 32), MemoryVerdict::kDoesNotFit);
  // Between the two there is a size that fits only without the margin.
  bool risky = false;
  for (std::int64_t batch : forecast.batch_sizes) {
    risky = risky || memory_verdict(forecast, batch) == MemoryVerdict::kRisky;
  }
  EXPECT_TRUE(risky);
}

TEST(MemoryForecastTest, TableNamesEveryBatchSizeWithItsVerdict) {
  MemoryForecast forecast = forecast_for({4, 32});
  forecast.probe_answer = 16;
  const std::string text = render_memory_forecast(forecast);
  EXPECT_NE(text.find("budget 1.0 GiB"), std::string::npos) << text;
  EXPECT_NE(text.find("headroom"), std::string::npos) << text;
  EXPECT_NE(text.find("does not fit"), std::string::npos) << text;
  EXPECT_NE(text.find("beyond the sizes measured"), std::string::npos) << text;
  EXPECT_NE(text.find("probe answer for this budget: batch size 16"), std::string::npos) << text;
}

TEST(MemoryForecastTest, WithoutTwoMeasuredSizesItSaysHowToMeasure) {
  MemoryForecast forecast;
  forecast.label = "mlp";
  forecast.budget_bytes = mib(512);
  forecast.batch_sizes = {4};
  forecast.model = fit_memory_model({{4, mib(200)}});
  const std::string text = render_memory_forecast(forecast);
  EXPECT_NE(text.find("orch probe"), std::string::npos) << text;
}

}  // namespace
}  // namespace orch
