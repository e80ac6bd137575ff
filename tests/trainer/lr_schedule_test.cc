#include "host/training/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace orch {
namespace {

constexpr double kPi = 3.14159265358979323846;

LrSchedule schedule_of(LrScheduleKind kind) {
  LrSchedule schedule;
  schedule.kind = kind;
  return schedule;
}

TEST(LrScheduleTest, ConstantKeepsTheConfiguredRate) {
  for (std::int64_t step : {0, 7, 99}) {
    EXPECT_EQ(scheduled_lr(schedule_of(LrScheduleKind::kConstant), 0.01, step, 10, 100), 0.01);
  }
}

TEST(LrScheduleTest, StepMultipliesByGammaEveryStepEpochs) {
  LrSchedule schedule = schedule_of(LrScheduleKind::kStep);
  schedule.gamma = 0.5;
  schedule.step_epochs = 2;
  // 5 optimizer steps per epoch: epochs 0-1 at lr, 2-3 at lr/2, 4 at lr/4.
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, 0.1, 0, 5, 25), 0.1);
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, 0.1, 9, 5, 25), 0.1);
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, 0.1, 10, 5, 25), 0.05);
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, 0.1, 19, 5, 25), 0.05);
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, 0.1, 20, 5, 25), 0.025);
}

TEST(LrScheduleTest, CosineFallsFromLrTowardsLrMinOverTheRun) {
  LrSchedule schedule = schedule_of(LrScheduleKind::kCosine);
  schedule.min_lr = 0.1;
  const std::int64_t total = 10;
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, 1.0, 0, 5, total), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, 1.0, 5, 5, total), 0.55);  // half way: the mean
  // PyTorch's CosineAnnealingLR with T_max = total: lr_min is where the last step leads.
  double last = 0.1 + 0.9 * (1 + std::cos(kPi * 9 / 10)) / 2;
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, 1.0, 9, 5, total), last);
  EXPECT_GT(last, 0.1);
  for (std::int64_t step = 1; step < total; ++step) {
    EXPECT_LT(scheduled_lr(schedule, 1.0, step, 5, total),
              scheduled_lr(schedule, 1.0, step - 1, 5, total));
  }
}

TEST(LrScheduleTest, OneCycleRisesFromLrOver25ToThePeakAt30PercentAndEndsAt1e4LowerStill) {
  const LrSchedule schedule = schedule_of(LrScheduleKind::kOneCycle);
  const double lr = 0.1;
  const std::int64_t total = 100;
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, lr, 0, 10, total), lr / 25);
  // PyTorch's OneCycleLR: the first phase ends at step pct_start * total - 1.
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, lr, 29, 10, total), lr);
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, lr, 99, 10, total), lr / 25 / 1e4);
  // Cosine annealing in both phases: half way through each is the mean of its ends.
  EXPECT_NEAR(scheduled_lr(schedule, lr, 64, 10, total), (lr + lr / 25 / 1e4) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, lr, 0, 10, 61), lr / 25);  // any length starts there
  for (std::int64_t step = 1; step < total; ++step) {
    double now = scheduled_lr(schedule, lr, step, 10, total);
    double before = scheduled_lr(schedule, lr, step - 1, 10, total);
    if (step <= 29) {
      EXPECT_GT(now, before) << "rising at step " << step;
    } else {
      EXPECT_LT(now, before) << "falling at step " << step;
    }
  }
}

TEST(LrScheduleTest, OneCycleHonoursItsFactors) {
  LrSchedule schedule = schedule_of(LrScheduleKind::kOneCycle);
  schedule.pct_start = 0.5;
  schedule.div_factor = 10;
  schedule.final_div_factor = 100;
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, 1.0, 0, 4, 20), 0.1);
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, 1.0, 9, 4, 20), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(schedule, 1.0, 19, 4, 20), 0.001);
}

TEST(LrScheduleTest, RunsTooShortForTheScheduleStillGiveFiniteRates) {
  for (auto kind : {LrScheduleKind::kStep, LrScheduleKind::kCosine, LrScheduleKind::kOneCycle}) {
    for (std::int64_t total : {1, 2, 3}) {
      for (std::int64_t step = 0; step < total + 2; ++step) {
        double lr = scheduled_lr(schedule_of(kind), 0.1, step, 1, total);
        EXPECT_TRUE(std::isfinite(lr) && lr > 0 && lr <= 0.1)
            << "kind " << static_cast<int>(kind) << ", " << total << " steps, step " << step << ": "
            << lr;
      }
    }
  }
}

TEST(LrScheduleTest, StepsPastTheEndKeepTheLastRate) {
  const LrSchedule schedule = schedule_of(LrScheduleKind::kOneCycle);
  EXPECT_EQ(scheduled_lr(schedule, 0.1, 150, 10, 100), scheduled_lr(schedule, 0.1, 99, 10, 100));
}

TEST(LrScheduleTest, NamesMapToKindsAndAnUnknownNameIsRefused) {
  EXPECT_EQ(lr_schedule_kind("constant"), LrScheduleKind::kConstant);
  EXPECT_EQ(lr_schedule_kind("step"), LrScheduleKind::kStep);
  EXPECT_EQ(lr_schedule_kind("cosine"), LrScheduleKind::kCosine);
  EXPECT_EQ(lr_schedule_kind("onecycle"), LrScheduleKind::kOneCycle);
  EXPECT_THROW(lr_schedule_kind("linear"), std::invalid_argument);
}

}  // namespace
}  // namespace orch
