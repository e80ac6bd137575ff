// A sampled search and the pruner without a fork: points suggested, run and recorded,
// resumed after an interrupt without running a point twice, out-of-memory points kept as
// infeasible, and runs that fall behind pruned at their rungs. Workers are scripted
// (tests/host/schedule/scripted_launcher.h); the experiment file, the plugin catalog and
// the SQLite database are real.
#include "host/schedule/search_runner.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>
#include <thread>

#include "host/guard/interrupt.h"
#include "host/machine/machine.h"
#include "host/schedule/scheduler.h"
#include "storage/store.h"
#include "tests/host/experiment_fixture.h"
#include "tests/host/schedule/scripted_launcher.h"

namespace orch {
namespace {

// Best near lr = 3e-3, and better every epoch, as a real training curve would be.
double scripted_accuracy(const RunSpec& run, int epoch) {
  const double lr = std::get<double>(run.sections.at("train").values.at("lr"));
  const double best = 0.95 - 0.15 * std::abs(std::log10(lr) + 2.5);
  return best * (1.0 - 0.5 / epoch);
}

class SearchRunnerTest : public testing::ExperimentFixture {
 protected:
  void TearDown() override {
    clear_interrupt();
    ExperimentFixture::TearDown();
  }

  std::string file(const std::string& search, int epochs = 1, const std::string& extra = "") {
    return testing::experiment_text(
               "plugin = \"mlp\"\nhidden = 4\n",
               "epochs = " + std::to_string(epochs) + "\nmemory_limit = \"1GiB\"\n",
               "\"train.lr\" = { from = 1e-4, to = 1e-1, scale = \"log\" }\n"
               "\"train.batch_size\" = [8, 16, 32, 64]\n" +
                   extra) +
           "\n[objective]\nmetric = \"val_accuracy\"\n\n[search]\n" + search;
  }

  SweepTally run(const std::string& text, ScriptedLauncher& launcher, int jobs = 1) {
    Experiment experiment = load(text);
    SweepPlan plan = plan_sweep(experiment);
    storage::Store store = storage::Store::Open(db());
    SweepOptions options;
    options.launcher = &launcher;
    options.jobs = jobs;
    options.memory_for_runs_bytes = std::int64_t{8} << 30;
    return run_sweep(experiment, plan.runs, *catalog_, store, options, progress_);
  }

  std::string db() const { return dir_ + "/" + db_name_; }

  std::vector<std::string> column(const std::string& sql) {
    std::vector<std::string> out;
    for (const auto& row : storage::query_read_only(db(), sql).rows) out.push_back(row.at(0));
    return out;
  }

  std::ostringstream progress_;
  std::string db_name_ = "search.db";
};

TEST_F(SearchRunnerTest, ASearchRunsMaxRunsDistinctPointsAndRecordsEachOne) {
  ScriptedLauncher launcher(oom_from(1000), scripted_accuracy);
  SweepTally tally = run(file("strategy = \"random\"\nmax_runs = 6\nseed = 5\n"), launcher);
  EXPECT_EQ(tally.ok, 6);
  EXPECT_EQ(launcher.started.size(), 6u);
  const auto points = column("SELECT config_key FROM search_points ORDER BY point_index");
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(std::set<std::string>(points.begin(), points.end()).size(), 6u);
  // Every point is the configuration of a run that finished ok.
  EXPECT_EQ(column("SELECT COUNT(*) FROM search_points p WHERE EXISTS (SELECT 1 FROM runs r "
                   "WHERE r.config_key = p.config_key AND r.status = 'ok')")[0],
            "6");
  // The lr is sampled between the range's ends, not from a grid of them.
  std::set<std::string> lrs;
  for (const auto& start : launcher.started) lrs.insert(start.swept);
  EXPECT_EQ(lrs.size(), 6u);
  EXPECT_NE(progress_.str().find("[6/6] run 6  train.lr="), std::string::npos) << progress_.str();
}

TEST_F(SearchRunnerTest, AnInterruptedSearchResumesWithoutRunningAFinishedPointAgain) {
  ScriptedLauncher launcher(oom_from(1000), scripted_accuracy);
  int starts = 0;
  launcher.on_start = [&starts](const RunSpec&) {
    if (++starts == 3) request_interrupt();
  };
  const std::string text = file("strategy = \"bayes\"\nmax_runs = 8\nseed = 2\n");
  SweepTally first = run(text, launcher);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.ok, 2);

  clear_interrupt();
  launcher.on_start = nullptr;
  SweepTally second = run(text, launcher);
  EXPECT_FALSE(second.interrupted);
  EXPECT_EQ(second.ok, 6) << "the interrupted point and five new ones";
  EXPECT_EQ(column("SELECT COUNT(*) FROM search_points")[0], "8");
  EXPECT_EQ(column("SELECT COUNT(DISTINCT run_key) FROM runs WHERE status = 'ok'")[0], "8");
  EXPECT_EQ(column("SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM runs WHERE status = 'ok' "
                   "GROUP BY run_key)")[0],
            "1")
      << "no point finished ok twice";
}

// The pid of a process that has exited: what an orch that died leaves in its claims.
int pid_of_an_exited_process() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return static_cast<int>(child);
}

TEST_F(SearchRunnerTest, APointClaimedByAnOrchThatDiedIsRunHereInsteadOfWaitedFor) {
  const std::string text = file("strategy = \"random\"\nmax_runs = 4\nseed = 3\n");
  // The same search on another database says which run the fourth point will be.
  db_name_ = "reference.db";
  ScriptedLauncher reference(oom_from(1000), scripted_accuracy);
  ASSERT_EQ(run(text, reference).ok, 4);
  const std::string fourth_key = column("SELECT run_key FROM runs ORDER BY id")[3];

  // While the third point runs, another orch on this machine claims the fourth and exits
  // on an error before it could run it or give the claim back.
  db_name_ = "search.db";
  ScriptedLauncher launcher(oom_from(1000), scripted_accuracy);
  int starts = 0;
  launcher.on_start = [&](const RunSpec&) {
    if (++starts != 3) return;
    storage::Store store = storage::Store::Open(db());
    const std::int64_t dead = store.begin_experiment(
        {"unit", "", "", "", "{}", pid_of_an_exited_process(), this_hostname(), ""});
    ASSERT_EQ(store.claim_run(dead, fourth_key, 60).outcome, storage::ClaimOutcome::kClaimed);
  };
  // Were its claim taken as live, the search would wait for that orch forever: after 30 s
  // an interrupt ends it, and the test fails instead of hanging.
  std::atomic<bool> done{false};
  std::thread deadline([&done] {
    for (int i = 0; i < 300 && !done; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!done) request_interrupt();
  });
  SweepTally tally = run(text, launcher);
  done = true;
  deadline.join();
  EXPECT_FALSE(tally.interrupted) << "it waited 30 s for an orch that is gone\n" << progress_.str();
  EXPECT_EQ(tally.ok, 4);
  EXPECT_EQ(
      column("SELECT COUNT(*) FROM runs WHERE status = 'ok' AND run_key = '" + fourth_key + "'")[0],
      "1")
      << "the abandoned point ran here";
  EXPECT_EQ(column("SELECT COUNT(*) FROM claims")[0], "0") << "the dead orch's claim is gone";
}

TEST_F(SearchRunnerTest, APointThatRunsOutOfMemoryIsKeptAsInfeasibleAndNotRunAgain) {
  ScriptedLauncher launcher(oom_from(32), scripted_accuracy);
  const std::string text = file("strategy = \"sobol\"\nmax_runs = 12\nseed = 4\n");
  run(text, launcher);
  const auto oom = column("SELECT run_key FROM runs WHERE status = 'oom'");
  ASSERT_FALSE(oom.empty()) << "sobol's first 12 points reach batch 32 or 64";
  // Once a batch size ran out of memory, larger ones are known not to fit: no worker.
  EXPECT_LT(oom.size(), 6u);
  storage::Store store = storage::Store::Open(db());
  const Experiment experiment = load(text);
  const auto history =
      search_history(experiment, store.search_points("unit"), store.latest_runs("unit"));
  ASSERT_EQ(history.size(), 12u);
  size_t infeasible = 0;
  for (const auto& trial : history) {
    EXPECT_EQ(trial.infeasible, trial.point[1] >= 2) << "batch 32 and 64 (indices 2, 3)";
    EXPECT_EQ(trial.value.has_value(), !trial.infeasible);
    infeasible += trial.infeasible ? 1 : 0;
  }
  EXPECT_GT(infeasible, 0u);

  // The search is done: running the file again starts nothing, and reruns no oom point.
  const size_t before = launcher.started.size();
  run(text, launcher);
  EXPECT_EQ(launcher.started.size(), before);
}

TEST_F(SearchRunnerTest, AshaPrunesRunsBehindTheirPeersAtARungAndNeverAtTheLastEpoch) {
  ScriptedLauncher launcher(oom_from(1000), scripted_accuracy);
  SweepTally tally = run(file("strategy = \"random\"\nmax_runs = 12\nseed = 8\n"
                              "prune = \"asha\"\nmin_epochs = 1\nreduction = 3\n",
                              9),
                         launcher);
  EXPECT_GT(tally.pruned, 0);
  EXPECT_EQ(tally.ok + tally.pruned, 12);
  // Pruned at a rung (epoch 1 or 3), with the rule, the metric and its value.
  for (const auto& row :
       storage::query_read_only(db(),
                                "SELECT (SELECT MAX(epoch) FROM epochs e WHERE e.run_id = r.id), "
                                "r.error, r.stop_layer FROM runs r WHERE r.status = 'pruned'")
           .rows) {
    EXPECT_TRUE(row.at(0) == "1" || row.at(0) == "3") << row.at(0);
    EXPECT_EQ(row.at(1).rfind("pruned by asha: val_accuracy ", 0), 0u) << row.at(1);
    EXPECT_EQ(row.at(2), "pruner");
  }
  // The best point ran to the end.
  const auto best = column(
      "SELECT r.status FROM runs r JOIN epochs e ON e.run_id = r.id GROUP BY r.id "
      "ORDER BY MAX(e.val_accuracy) DESC LIMIT 1");
  EXPECT_EQ(best.at(0), "ok");
  // Runs that went on trained all 9 epochs; the pruned ones saved what they did not train.
  EXPECT_LT(std::stoi(column("SELECT COUNT(*) FROM epochs")[0]), 12 * 9);
}

TEST_F(SearchRunnerTest, AGridWithPruningKeepsItsPrunedRunsWhenItResumes) {
  ScriptedLauncher launcher(oom_from(1000), scripted_accuracy);
  const std::string text =
      testing::experiment_text("plugin = \"mlp\"\nhidden = 4\n",
                               "epochs = 4\nbatch_size = 8\nmemory_limit = \"1GiB\"\n",
                               "\"train.lr\" = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]\n") +
      "\n[objective]\nmetric = \"val_accuracy\"\n\n[search]\n"
      "prune = \"median\"\nmin_epochs = 2\n";
  SweepTally first = run(text, launcher);
  EXPECT_GT(first.pruned, 0);
  EXPECT_EQ(first.ok + first.pruned, 7);
  const size_t started = launcher.started.size();
  SweepTally second = run(text, launcher);
  EXPECT_EQ(launcher.started.size(), started) << "pruned and ok runs are settled";
  EXPECT_EQ(second.skipped, 7);
}

TEST_F(SearchRunnerTest, PointsAnExclusionRuleRemovesAreNeverRun) {
  ScriptedLauncher launcher(oom_from(1000), scripted_accuracy);
  run(file("strategy = \"random\"\nmax_runs = 10\nseed = 3\n", 1,
           "\n[[sweep.exclude]]\n\"train.batch_size\" = [8, 16]\n"),
      launcher);
  ASSERT_EQ(launcher.started.size(), 10u);
  for (const auto& start : launcher.started) EXPECT_GE(start.batch_size, 32);
}

// metric = "time_to_target": a run stops at the first epoch that reaches the target and
// ends ok; one that never reaches it trains every epoch and cannot win.
TEST_F(SearchRunnerTest, ARunStopsAtTheEpochThatReachesTheTargetAndEndsOk) {
  ScriptedLauncher launcher(oom_from(1000), scripted_accuracy);
  const std::string text =
      testing::experiment_text("plugin = \"mlp\"\nhidden = 4\n",
                               "epochs = 9\nbatch_size = 8\nmemory_limit = \"1GiB\"\n",
                               "\"train.lr\" = [3e-3, 1e-4]\n") +
      "\n[objective]\nmetric = \"time_to_target\"\ntarget = { val_accuracy = 0.75 }\n";
  SweepTally tally = run(text, launcher);
  EXPECT_EQ(tally.ok, 2);
  // lr 3e-3 is at 0.95 x (1 - 0.5 / epoch): 0.71 after epoch 2, 0.79 after epoch 3.
  EXPECT_EQ(column("SELECT COUNT(*) FROM epochs e JOIN runs r ON r.id = e.run_id "
                   "WHERE r.swept = 'train.lr=0.003'")[0],
            "3");
  EXPECT_EQ(
      column("SELECT stop_layer || ': ' || error FROM runs WHERE swept = 'train.lr=0.003'")[0],
      "target: reached val_accuracy >= 0.75 at epoch 3 (val_accuracy 0.7888)");
  // lr 1e-4 is at 0.68 after epoch 9, never 0.75: it ran every epoch.
  EXPECT_EQ(column("SELECT COUNT(*) FROM epochs e JOIN runs r ON r.id = e.run_id "
                   "WHERE r.swept = 'train.lr=0.0001'")[0],
            "9");
}

// [search] race = true: after three rounds of repeats, a configuration clearly slower than
// the best gets no more repeats; one within 1% of the best keeps getting them.
TEST_F(SearchRunnerTest, ARaceStopsRepeatingAConfigurationClearlySlowerThanTheBest) {
  ScriptedLauncher launcher(oom_from(1000));
  launcher.epoch_seconds = [](const RunSpec& run) {
    // Each round the machine is a little faster or slower for every configuration alike.
    const double machine = 1 + 0.05 * (run.repeat % 3);
    const double base = run.train.batch_size == 8    ? 0.030
                        : run.train.batch_size == 16 ? 0.0201
                                                     : 0.020;
    return base * machine;
  };
  std::string text =
      testing::experiment_text("plugin = \"mlp\"\nhidden = 4\n",
                               "epochs = 1\nbatch_size = 8\nmemory_limit = \"1GiB\"\n",
                               "\"train.batch_size\" = [8, 16, 32]\n") +
      "\n[search]\nrace = true\n";
  text.replace(text.find("seed = 3\n"), 9, "seed = 3\nrepeats = 6\n");
  SweepTally tally = run(text, launcher);
  EXPECT_EQ(tally.pruned, 3) << progress_.str();
  EXPECT_EQ(launcher.started.size(), 15u) << "6 + 6 + 3: batch 8 ran three rounds";
  const auto raced = column(
      "SELECT repeat || ' ' || stop_layer || ' ' || error FROM runs WHERE status = 'pruned' "
      "ORDER BY repeat");
  ASSERT_EQ(raced.size(), 3u);
  EXPECT_EQ(raced[0].rfind("3 race raced out: 1.50x slower than the best (train.batch_size=32) "
                           "in epoch_s, paired over 3 rounds, 95% interval 1.50x - 1.50x",
                           0),
            0u)
      << raced[0];
  EXPECT_EQ(column("SELECT COUNT(*) FROM runs WHERE swept = 'train.batch_size=16' AND status = "
                   "'ok'")[0],
            "6")
      << "0.5% slower: a contender to the end";
}

}  // namespace
}  // namespace orch
