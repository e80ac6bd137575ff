#include "host/machine/machine_busy.h"

#include <gtest/gtest.h>

#include <cmath>

namespace orch {
namespace {

storage::EpochRecord epoch(int number, double other_cores, double dispersion = std::nan("")) {
  storage::EpochRecord record;
  record.epoch = number;
  record.other_cpu_cores = other_cores;
  record.step_dispersion = dispersion;
  return record;
}

TEST(MachineBusyTest, AQuarterCoreOfOthersIsBusyAndUnmeasuredIsNot) {
  EXPECT_FALSE(machine_was_busy(0.0));
  EXPECT_FALSE(machine_was_busy(0.24));
  EXPECT_TRUE(machine_was_busy(0.25));
  EXPECT_TRUE(machine_was_busy(1.7));
  EXPECT_FALSE(machine_was_busy(std::nan("")));
}

TEST(MachineBusyTest, AQuietRunHasNoSentence) {
  EXPECT_EQ(describe_busy(3, 0.02, {epoch(1, 0.01), epoch(2, 0.03)}), "");
  EXPECT_EQ(describe_busy(3, std::nan(""), {}), "");
}

TEST(MachineBusyTest, EveryEpochBusyQuotesTheWholeRun) {
  EXPECT_EQ(describe_busy(3, 0.68, {epoch(1, 0.7), epoch(2, 0.66)}),
            "machine busy: other processes used 0.7 cores during run 3 (epochs 1-2)");
}

TEST(MachineBusyTest, SomeEpochsBusyQuotesTheirMeanAndNamesThem) {
  EXPECT_EQ(describe_busy(9, 0.2, {epoch(1, 0.0), epoch(2, 0.9), epoch(3, 0.0)}),
            "machine busy: other processes used 0.9 cores during run 9 (epoch 2)");
}

TEST(MachineBusyTest, TheSentenceQuotesTheSlowStepsAsTheEffect) {
  // (p95 - p50) / p50 = 3.1: p95 was 4.1x the median.
  EXPECT_EQ(describe_busy(4, 1.0, {epoch(1, 1.0, 3.1)}),
            "machine busy: other processes used 1.0 cores during run 4 (epoch 1); step p95 was "
            "4.1x the median");
}

TEST(MachineBusyTest, ABusyRunWithoutEpochsIsStillFlagged) {
  // A run that failed in its first epoch: only the whole run was measured.
  EXPECT_EQ(describe_busy(5, 0.8, {}), "machine busy: other processes used 0.8 cores during run 5");
  EXPECT_EQ(describe_busy(5, 0.8, {epoch(1, 0.1)}),
            "machine busy: other processes used 0.8 cores during run 5");
}

TEST(MachineBusyTest, EpochRangesJoinNeighbours) {
  EXPECT_EQ(epoch_ranges({}), "");
  EXPECT_EQ(epoch_ranges({2}), "2");
  EXPECT_EQ(epoch_ranges({1, 2}), "1-2");
  EXPECT_EQ(epoch_ranges({1, 3, 4, 5, 7}), "1, 3-5, 7");
}

TEST(MachineBusyTest, TablesMarkBusyRunsAndListTheirSentences) {
  storage::RunSummary quiet, busy, unmeasured;
  quiet.run_id = 1;
  quiet.other_cpu_cores = 0.004;
  busy.run_id = 2;
  busy.other_cpu_cores = 0.68;
  busy.busy = "machine busy: other processes used 0.7 cores during run 2 (epochs 1-2)";
  unmeasured.run_id = 3;
  EXPECT_EQ(other_cores_cell(quiet), "0.00");
  EXPECT_EQ(other_cores_cell(busy), "0.68 busy");
  EXPECT_EQ(other_cores_cell(unmeasured), "-");
  EXPECT_EQ(busy_notes({quiet, busy, unmeasured}),
            "machine busy: other processes used 0.7 cores during run 2 (epochs 1-2)\n");
  EXPECT_EQ(busy_lines({&quiet, &busy}),
            "  machine busy: other processes used 0.7 cores during run 2 (epochs 1-2)\n");
  EXPECT_EQ(busy_lines({&quiet}), "");
}

}  // namespace
}  // namespace orch
