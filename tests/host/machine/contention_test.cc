#include "host/machine/contention.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <vector>

namespace orch {
namespace {

// A two-core machine's /proc/stat, trimmed (the intr and softirq lines go on for pages).
constexpr const char* kProcStat =
    "cpu  48384 10 14965 23452 442 5 289 7 100 0\n"
    "cpu0 23191 10 6830 13635 36 5 120 7 100 0\n"
    "cpu1 25193 0 8135 9817 406 0 169 0 0 0\n"
    "intr 409973 0 0 0 0 0 1 1 2 0\n"
    "ctxt 645069\n"
    "btime 1796544000\n"
    "processes 7494\n"
    "procs_running 3\n"
    "procs_blocked 0\n"
    "softirq 1 2 3\n";

TEST(ContentionTest, ProcStatBusyTicksLeaveOutIdleIowaitAndGuestTime) {
  auto stat = parse_proc_stat(kProcStat);
  ASSERT_TRUE(stat);
  // user + nice + system + irq + softirq + steal; guest (100) is already inside user.
  EXPECT_EQ(stat->busy_ticks, 48384 + 10 + 14965 + 5 + 289 + 7);
  ASSERT_EQ(stat->busy_ticks_by_cpu.size(), 2u);
  EXPECT_EQ(stat->busy_ticks_by_cpu.at(0), 23191 + 10 + 6830 + 5 + 120 + 7);
  EXPECT_EQ(stat->busy_ticks_by_cpu.at(1), 25193 + 8135 + 169);
  EXPECT_EQ(stat->procs_running, 3);
}

TEST(ContentionTest, ProcStatOfAnOldKernelWithFewerFieldsCountsWhatItHas) {
  auto stat = parse_proc_stat("cpu  100 0 50 900\ncpu0 100 0 50 900\nprocs_running 1\n");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->busy_ticks, 150);
  EXPECT_EQ(stat->busy_ticks_by_cpu.at(0), 150);
}

TEST(ContentionTest, TextWithoutTheCpuLineIsNotProcStat) {
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("procs_running 2\n"));
}

TEST(ContentionTest, BusyTicksOnTheRunsCoresOrOnAllWhenUnpinned) {
  auto stat = parse_proc_stat(kProcStat);
  ASSERT_TRUE(stat);
  EXPECT_EQ(busy_ticks_on(*stat, {}), stat->busy_ticks);
  EXPECT_EQ(busy_ticks_on(*stat, {1}), stat->busy_ticks_by_cpu.at(1));
  // A core /proc/stat does not list (offline) adds nothing.
  EXPECT_EQ(busy_ticks_on(*stat, {1, 7}), stat->busy_ticks_by_cpu.at(1));
}

TEST(ContentionTest, TaskStatReadsStateCpuTimeAndThreadsPastACommandWithParentheses) {
  // utime 250, stime 30, num_threads 4; the command name holds ") S (" to mislead a parser.
  auto stat = parse_task_stat(
      "7494 (orch ) S (x) R 7487 7487 5194 0 -1 4194304 100 0 0 0 250 30 5 6 20 0 4 0 44082 "
      "3133440 417 18446744073709551615 94589594304512\n");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->state, 'R');
  EXPECT_EQ(stat->cpu_ticks, 280);  // the children's times (5, 6) are not the worker's own
  EXPECT_EQ(stat->threads, 4);
}

TEST(ContentionTest, TruncatedTaskStatIsRejected) {
  EXPECT_FALSE(parse_task_stat(""));
  EXPECT_FALSE(parse_task_stat("12 (x) S 1 2 3"));
}

TEST(ContentionTest, RunQueueLeavesOutTheReaderAndTheWorkersRunningThreads) {
  EXPECT_EQ(others_runnable(5, 2), 2);  // 5 runnable: the reader, 2 worker threads, 2 others
  EXPECT_EQ(others_runnable(1, 0), 0);
  EXPECT_EQ(others_runnable(1, 2), 0);  // read at slightly different moments: never below 0
}

// The contention from the first sample to the last, at Linux's 100 ticks a second.
Contention over(const std::vector<ContentionSample>& samples) {
  ContentionInterval interval;
  interval.begin(samples.front());
  for (size_t i = 1; i < samples.size(); ++i) interval.add(samples[i]);
  return interval.result(100);
}

TEST(ContentionTest, OtherCoresAreMachineBusyLessTheWorkerOverWallTime) {
  auto result = over({{10.0, 1000, 400, 9}, {10.5, 1080, 450, 1}, {11.0, 1150, 490, 2}});
  // Busy 150 ticks, the worker 90: 60 ticks = 0.6 s of others' CPU over 1 s of wall time.
  EXPECT_NEAR(result.other_cpu_cores, 0.6, 1e-9);
  // The mean of the samples after the start (the start sample ends the previous interval).
  EXPECT_NEAR(result.run_queue, 1.5, 1e-9);
}

TEST(ContentionTest, AWorkerUsingAllTheBusyTimeLeavesNoOthersNeverBelowZero) {
  // Whole ticks against exact time: the worker reads a little over the machine's busy time.
  EXPECT_EQ(over({{0.0, 0, 0, 0}, {1.0, 100, 103, 0}}).other_cpu_cores, 0);
}

TEST(ContentionTest, ASampleWhoseWorkerTimeWentBackIsAnotherProcessAndIgnored) {
  // The last sample's pid names a fresh process.
  auto result = over({{0.0, 0, 500, 0}, {1.0, 100, 590, 1}, {1.1, 110, 3, 9}});
  EXPECT_NEAR(result.other_cpu_cores, 0.1, 1e-9);
  EXPECT_NEAR(result.run_queue, 1, 1e-9);
}

TEST(ContentionTest, AnIntervalTooShortForWholeTicksIsNotMeasured) {
  ContentionInterval interval;
  interval.begin({0.0, 0, 0, 0});
  interval.add({0.1, 3, 1, 0});  // two ticks of rounding would read as 0.2 cores
  EXPECT_TRUE(std::isnan(interval.result(100).other_cpu_cores));
  interval.add({0.5, 50, 48, 0});
  EXPECT_NEAR(interval.result(100).other_cpu_cores, 0.04, 1e-9);
}

TEST(ContentionTest, AnIntervalWithoutALaterSampleIsNotMeasured) {
  ContentionInterval interval;
  EXPECT_TRUE(std::isnan(interval.result(100).other_cpu_cores));
  interval.begin({0.0, 0, 0, 0});
  EXPECT_TRUE(std::isnan(interval.result(100).other_cpu_cores));
  EXPECT_TRUE(std::isnan(interval.result(100).run_queue));
}

TEST(ContentionTest, TheNextEpochStartsWhereTheLastOneEnded) {
  ContentionInterval epoch;
  epoch.begin({0.0, 0, 0, 0});
  epoch.add({1.0, 100, 100, 0});  // epoch 1: only the worker
  epoch.restart();
  epoch.add({2.0, 300, 200, 3});  // epoch 2: others took a whole core
  auto second = epoch.result(100);
  EXPECT_NEAR(second.other_cpu_cores, 1.0, 1e-9);
  EXPECT_NEAR(second.run_queue, 3, 1e-9);
}

TEST(ContentionTest, SamplerReadsThisMachineAndThisProcess) {
  ContentionSampler sampler(::getpid(), {});
  auto first = sampler.sample();
  ASSERT_TRUE(first) << "/proc/stat or /proc/self/stat unreadable";
  volatile double spin = 0;
  for (int i = 0; i < 5000000; ++i) spin = spin + 1;
  auto second = sampler.sample();
  ASSERT_TRUE(second);
  EXPECT_GT(second->at_s, first->at_s);
  EXPECT_GE(second->worker_ticks, first->worker_ticks);
  EXPECT_GE(second->busy_ticks, first->busy_ticks);
  EXPECT_GE(first->others_runnable, 0);
  EXPECT_GT(ContentionSampler::ticks_per_second(), 0);
}

TEST(ContentionTest, SamplerOfAProcessThatIsGoneReadsNothing) {
  EXPECT_FALSE(ContentionSampler(-5, {}).sample());
}

}  // namespace
}  // namespace orch
