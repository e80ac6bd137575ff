// The scheduler's policy without a fork: claims, halving after an out-of-memory,
// on_oom = "stop", known-infeasible batch sizes, interrupts and resume, and admission of
// parallel runs. Workers are scripted (a WorkerLauncher that reports what each test
// decides); the experiment file, the plugin catalog and the SQLite database are real.
// tests/e2e/ runs the same policies with real worker processes.
#include "host/schedule/scheduler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>

#include "host/guard/interrupt.h"
#include "host/machine/admission.h"
#include "host/machine/machine.h"
#include "storage/store.h"
#include "tests/host/experiment_fixture.h"
#include "tests/host/schedule/scripted_launcher.h"

namespace orch {
namespace {

class SchedulerTest : public testing::ExperimentFixture {
 protected:
  void TearDown() override {
    clear_interrupt();
    ExperimentFixture::TearDown();
  }

  SweepTally sweep(const std::string& train, const std::string& sweep_text,
                   ScriptedLauncher& launcher, int jobs = 1, std::int64_t memory_for_runs = 0) {
    const std::string text =
        testing::experiment_text("plugin = \"mlp\"\nhidden = 4\n",
                                 "epochs = 1\nmemory_limit = \"1GiB\"\n" + train, sweep_text);
    Experiment experiment = load(text);
    SweepPlan plan = plan_sweep(experiment);
    storage::Store store = storage::Store::Open(db());
    SweepOptions options;
    options.launcher = &launcher;
    options.jobs = jobs;
    options.memory_for_runs_bytes = memory_for_runs;
    return run_sweep(experiment, plan.runs, *catalog_, store, options, progress_);
  }

  std::string db() const { return dir_ + "/" + db_name_; }

  // "64:oom 32:oom 16:ok": each row's batch size and status, in order.
  std::string rows() {
    std::string text;
    for (const auto& row :
         storage::query_read_only(db(), "SELECT batch_size || ':' || status FROM runs ORDER BY id")
             .rows) {
      text += (text.empty() ? "" : " ") + row.at(0);
    }
    return text;
  }

  std::string one(const std::string& sql) {
    const auto result = storage::query_read_only(db(), sql);
    return result.rows.empty() ? "" : result.rows.at(0).at(0);
  }

  std::string db_name_ = "history.db";
  std::ostringstream progress_;
};

TEST_F(SchedulerTest, HalvingAfterAnOutOfMemoryKeepsTheEffectiveBatchAndRecordsEachAttempt) {
  ScriptedLauncher launcher(oom_from(20));
  SweepTally tally = sweep("batch_size = 64\non_oom = \"halve\"\n", "", launcher);
  EXPECT_EQ(rows(), "64:oom 32:oom 16:ok");
  ASSERT_EQ(launcher.started.size(), 3u);
  // Half the batch, twice the accumulation: 64 samples per optimizer step each time.
  for (const auto& start : launcher.started) {
    EXPECT_EQ(start.batch_size * start.accumulation_steps, 64);
  }
  EXPECT_EQ(one("SELECT GROUP_CONCAT(attempt, ',') FROM runs"), "1,2,3");
  EXPECT_EQ(one("SELECT COUNT(*) FROM runs WHERE parent_run_id = 1"), "2");
  EXPECT_EQ(one("SELECT COUNT(DISTINCT run_key) FROM runs"), "1");
  EXPECT_EQ(tally.ok, 1);
  EXPECT_EQ(tally.not_ok, 0) << "the point finished ok after halving";
}

TEST_F(SchedulerTest, StopEndsTheSweepAtTheFirstOutOfMemoryAndSaysWhyTheRestDidNotStart) {
  ScriptedLauncher launcher(oom_from(20));
  SweepTally tally = sweep("batch_size = 8\non_oom = \"stop\"\n",
                           "\"train.batch_size\" = [8, 64, 4, 2]\n", launcher);
  EXPECT_EQ(rows(), "8:ok 64:oom 4:skipped 2:skipped");
  EXPECT_EQ(launcher.started.size(), 2u) << "no worker after the stop";
  EXPECT_EQ(one("SELECT COUNT(*) FROM runs WHERE error LIKE 'not started: the sweep stopped%'"),
            "2");
  EXPECT_EQ(tally.ok, 1);
  EXPECT_EQ(tally.not_ok, 3);
}

TEST_F(SchedulerTest, ABatchAtLeastAsLargeAsOneThatRanOutOfMemoryIsSkippedWithoutAWorker) {
  ScriptedLauncher launcher(oom_from(20));
  sweep("batch_size = 8\n", "\"train.batch_size\" = [32, 64, 8]\n", launcher);
  EXPECT_EQ(rows(), "32:oom 64:skipped 8:ok");
  EXPECT_EQ(launcher.started.size(), 2u);
  EXPECT_NE(one("SELECT error FROM runs WHERE batch_size = 64").find("infeasible"),
            std::string::npos);
}

TEST_F(SchedulerTest, AnInterruptStopsTheSweepAndTheNextSweepRunsOnlyWhatDidNotFinish) {
  ScriptedLauncher launcher(oom_from(1000));
  // Ctrl-C while the second point runs.
  launcher.on_start = [](const RunSpec& run) {
    if (run.train.batch_size == 4) request_interrupt();
  };
  SweepTally first = sweep("batch_size = 8\n", "\"train.batch_size\" = [2, 4, 8]\n", launcher);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(rows(), "2:ok 4:interrupted 8:interrupted");
  EXPECT_EQ(launcher.started.size(), 2u);

  clear_interrupt();
  launcher.on_start = nullptr;
  SweepTally second = sweep("batch_size = 8\n", "\"train.batch_size\" = [2, 4, 8]\n", launcher);
  EXPECT_FALSE(second.interrupted);
  EXPECT_EQ(second.skipped, 1) << "the point that finished ok is not run again";
  EXPECT_EQ(second.ok, 2);
  EXPECT_EQ(launcher.started.size(), 4u);
}

TEST_F(SchedulerTest, APointAnotherLiveOrchHasClaimedIsLeftToIt) {
  ScriptedLauncher launcher(oom_from(1000));
  const std::string train = "batch_size = 8\n";
  const std::string grid = "\"train.batch_size\" = [2, 4]\n";
  // Another orch on this machine (alive: this process's pid) holds the point at 4.
  Experiment experiment = load(testing::experiment_text(
      "plugin = \"mlp\"\nhidden = 4\n", "epochs = 1\nmemory_limit = \"1GiB\"\n" + train, grid));
  const SweepPlan plan = plan_sweep(experiment);
  {
    storage::Store store = storage::Store::Open(db());
    const std::int64_t other = store.begin_experiment(
        {experiment.name, "", "", "", "{}", static_cast<int>(::getpid()), this_hostname(), ""});
    ASSERT_EQ(store.claim_run(other, plan.runs.at(1).key, 60).outcome,
              storage::ClaimOutcome::kClaimed);
  }
  SweepTally tally = sweep(train, grid, launcher);
  EXPECT_EQ(tally.held_elsewhere, 1);
  EXPECT_EQ(tally.ok, 1);
  ASSERT_EQ(launcher.started.size(), 1u);
  EXPECT_EQ(launcher.started[0].batch_size, 2);
}

TEST_F(SchedulerTest, ParallelRunsStartOnlyWhenTheirBudgetsFitBesideEachOther) {
  const std::int64_t budget = std::int64_t{1} << 30;
  const std::string grid = "\"train.batch_size\" = [2, 4, 8, 16]\n";
  // Room for one budget and a half: two runs never hold their budgets at once.
  ScriptedLauncher tight(oom_from(1000));
  SweepTally one_at_a_time = sweep("batch_size = 8\n", grid, tight, 2, budget + budget / 2);
  EXPECT_EQ(one_at_a_time.ok, 4);
  EXPECT_EQ(tight.most_at_once, 1);

  // Room for two: two at a time, each on cores of its own.
  db_name_ = "roomy.db";
  ScriptedLauncher roomy(oom_from(1000));
  SweepTally two_at_a_time = sweep("batch_size = 8\n", grid, roomy, 2, 2 * budget + budget / 2);
  EXPECT_EQ(two_at_a_time.ok, 4);
  EXPECT_EQ(roomy.most_at_once, 2);
  for (const auto& start : roomy.started) EXPECT_EQ(start.budget_bytes, budget);
  if (usable_cpus().size() >= 2) {
    ASSERT_EQ(roomy.started.size(), 4u);
    EXPECT_FALSE(roomy.started[0].cpus.empty()) << "a -j 2 worker is pinned";
    EXPECT_NE(roomy.started[0].cpus, roomy.started[1].cpus);
  }
}

}  // namespace
}  // namespace orch
