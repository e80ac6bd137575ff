// End-to-end tests of the `orch` command line: the real binary, real plugins, fixture
// plugins that crash on purpose, and the SQLite file a user would open afterwards.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "e2e_support.h"

namespace {

using namespace orch::e2e;

namespace fs = std::filesystem;

const std::string kOrch = ORCH_BINARY;
const std::string kFaultyDir = std::string(ORCH_FIXTURE_DIR) + "/faulty";
const std::string kRefusedDir = std::string(ORCH_FIXTURE_DIR) + "/refused";
const std::string kQuickstart = std::string(ORCH_SOURCE_DIR) + "/experiments/quickstart.toml";

// A hung orch must fail its test, not stall the whole suite.
constexpr auto kOrchTimeout = std::chrono::seconds(60);

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not in:\n" << text;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// A tiny experiment: 256 samples, a 16-wide MLP, one thread; each run takes well under a second.
struct ExperimentFile {
  std::string name = "tiny";
  std::string model = "plugin = \"mlp\"\nhidden = 16\n";
  std::string train = "epochs = 1\nbatch_size = 8\nwarmup_steps = 1\n";
  std::string sweep = "\"train.batch_size\" = [4, 8]\n\"train.epochs\" = [1, 2]\n";

  std::string text() const {
    return "[experiment]\nname = \"" + name + "\"\nseed = 7\n\n" +
           "[backend]\nplugin = \"cpu\"\nthreads = 1\n\n" +
           "[dataset]\nplugin = \"synthetic\"\nsamples = 256\nval_samples = 64\nfeatures = 8\n\n" +
           "[model]\n" + model + "\n" + "[train]\n" + train + "\n" +
           (sweep.empty() ? "" : "[sweep]\n" + sweep);
  }
};

ExperimentFile faulty_experiment(const std::string& model) {
  ExperimentFile file;
  file.name = "faulty_" + model;
  file.model = "plugin = \"" + model + "\"\n";
  file.sweep = "\"train.batch_size\" = [4, 8]\n";
  return file;
}

// Runs orch in dir with stdout and stderr captured apart; env entries are NAME=VALUE.
RunResult run_orch_in(const std::string& dir, const std::vector<std::string>& args,
                      const std::vector<std::string>& env = {}) {
  return run_in(dir, kOrch, args, env, kOrchTimeout);
}

// Each test gets a fresh temp directory, removed afterwards, with history.db as its --db.
class CliTest : public FreshDirectoryTest {
 protected:
  CliTest() : FreshDirectoryTest("cli_test") {}
  void SetUp() override {
    FreshDirectoryTest::SetUp();
    db_ = path("history.db");
  }

  RunResult run_orch(const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {}) {
    return run_orch_in(dir_, args, env);
  }

  RunResult run_file(const std::string& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"run", file, "--db", db_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_orch(args);
  }

  // Gives this test its own copy of a history that a suite prepared once.
  void copy_history_from(const std::string& shared_dir) {
    for (const auto& item : fs::directory_iterator(shared_dir)) {
      fs::copy(item.path(), path(item.path().filename().string()), fs::copy_options::recursive);
    }
  }

  // What every rejected input must look like: exit 2, one line that says why, nothing else.
  void expect_bad_input(const RunResult& result, const std::vector<std::string>& says,
                        const std::string& db) {
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(result.err.rfind("orch: error: ", 0), 0u) << result.err;
    EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
    for (const auto& part : says) {
      EXPECT_TRUE(contains(result.err, part)) << "no '" << part << "' in: " << result.err;
    }
    for (const char* noise : {"terminate called", "what():", "Aborted", "Exception raised from",
                              "backtrace", "#0 ", "0x0"}) {
      EXPECT_FALSE(contains(result.err, noise)) << result.err;
    }
    EXPECT_TRUE(result.out.empty()) << result.out;
    EXPECT_FALSE(fs::exists(db)) << "bad input created " << db;
    EXPECT_FALSE(fs::exists(db + "-wal"));
    EXPECT_FALSE(fs::exists(db + "-journal"));
  }

  std::string db_;
};

// The 2x2 sweep that most tests read: run once (each orch start loads LibTorch, ~0.6 s),
// then every test works on its own copy of sweep.toml and history.db.
class SweptTest : public CliTest {
 protected:
  static void SetUpTestSuite() {
    shared_dir_ = new std::string(make_temp_dir("cli_test"));
    const std::string file = write_file_in(*shared_dir_, "sweep.toml", ExperimentFile().text());
    sweep_ = new RunResult(run_orch_in(*shared_dir_, {"run", file, "--db", "history.db"}));
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*shared_dir_, ignored);
    delete shared_dir_;
    delete sweep_;
  }
  void SetUp() override {
    CliTest::SetUp();
    ASSERT_EQ(sweep_->exit_code, 0) << sweep_->err << sweep_->out;
    copy_history_from(*shared_dir_);
    file_ = path("sweep.toml");
  }

  static std::string* shared_dir_;
  static RunResult* sweep_;  // what the first `orch run` printed
  std::string file_;
};
std::string* SweptTest::shared_dir_ = nullptr;
RunResult* SweptTest::sweep_ = nullptr;

// One experiment per faulty model (a sweep over the plugin itself is not supported), each
// a sweep of two points, all in one history.db.
class FaultyTest : public CliTest {
 protected:
  static void SetUpTestSuite() {
    shared_dir_ = new std::string(make_temp_dir("cli_test"));
    results_ = new std::map<std::string, RunResult>();
    for (const char* model : {"segfaults", "aborts", "throws"}) {
      const std::string file = write_file_in(*shared_dir_, std::string(model) + ".toml",
                                             faulty_experiment(model).text());
      (*results_)[model] = run_orch_in(
          *shared_dir_, {"run", file, "--db", "history.db", "--plugin-dir", kFaultyDir});
    }
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*shared_dir_, ignored);
    delete shared_dir_;
    delete results_;
  }
  void SetUp() override {
    CliTest::SetUp();
    copy_history_from(*shared_dir_);
  }
  static const RunResult& result_of(const std::string& model) { return results_->at(model); }
  std::int64_t runs_of(const std::string& model, const std::string& where) {
    return count(db_,
                 "SELECT COUNT(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                 "WHERE e.name = 'faulty_" +
                     model + "' AND " + where);
  }

  static std::string* shared_dir_;
  static std::map<std::string, RunResult>* results_;
};
std::string* FaultyTest::shared_dir_ = nullptr;
std::map<std::string, RunResult>* FaultyTest::results_ = nullptr;

// ---- 1. a sweep runs and is recorded ----

// Not a terminal here: progress is plain lines, one per event, with no cursor tricks.
TEST_F(SweptTest, ProgressOffATerminalIsOneLinePerEventWithoutEscapes) {
  const std::string& out = sweep_->out;
  EXPECT_TRUE(contains(out, "[1/4] run 1")) << out;
  EXPECT_TRUE(contains(out, "  epoch 1: ")) << out;
  EXPECT_TRUE(contains(out, "samples/s, step p50 ")) << out;
  EXPECT_FALSE(contains(out, "\r")) << "no in-place updates off a terminal";
  EXPECT_FALSE(contains(out, "\033[")) << "no escape codes off a terminal";
}

TEST_F(SweptTest, TwoByTwoSweepRecordsFourOkRunsAndTheirEpochs) {
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs"), 4);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 4);
  // epochs 1 + 2 for each of the two batch sizes
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs"), 1 + 2 + 1 + 2);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs WHERE seconds > 0 AND samples_per_s > 0"), 6);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs WHERE val_accuracy BETWEEN 0 AND 1"), 6);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE wall_s > 0 AND peak_rss_bytes > 0"), 4);
  // Each run trained for exactly the train.epochs it was given.
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM runs r JOIN params p ON p.run_id = r.id "
                  "AND p.key = 'train.epochs' WHERE p.value_num = "
                  "(SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id)"),
            4);
}

TEST_F(SweptTest, SweptParametersAreQueryableAsNumbers) {
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM params WHERE key = 'train.batch_size' "
                  "AND value_num = 4"),
            2);
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM params WHERE key = 'train.batch_size' "
                  "AND value_num = 8"),
            2);
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM params WHERE key = 'model.hidden' "
                  "AND value_num = 16"),
            4);
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT run_key) FROM runs"), 4);
}

TEST_F(SweptTest, RunPrintsTheRunTableAndTheBestConfiguration) {
  const std::string& out = sweep_->out;
  EXPECT_TRUE(contains(out, "experiment 'tiny': 4 runs")) << out;
  EXPECT_TRUE(has_line_starting_with(out, "run  configuration")) << out;
  for (const char* config :
       {"train.batch_size=4 train.epochs=1", "train.batch_size=4 train.epochs=2",
        "train.batch_size=8 train.epochs=1", "train.batch_size=8 train.epochs=2"}) {
    EXPECT_TRUE(contains(out, config)) << out;
  }
  EXPECT_TRUE(has_line_starting_with(out, "best (lowest epoch_s): train.batch_size=")) << out;
  EXPECT_FALSE(contains(out, "did not finish ok")) << out;
  EXPECT_TRUE(sweep_->err.empty()) << sweep_->err;
}

TEST_F(SweptTest, ExperimentRowKeepsTheFileTextAndTheMachine) {
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM experiments"), 1);
  EXPECT_EQ(text_value(db_, "SELECT name FROM experiments"), "tiny");
  EXPECT_EQ(text_value(db_, "SELECT file_text FROM experiments"), ExperimentFile().text());
  const std::string host = text_value(db_, "SELECT host FROM experiments");
  EXPECT_TRUE(contains(host, "\"torch\"")) << host;
  EXPECT_TRUE(contains(host, "\"cores\"")) << host;
}

TEST_F(CliTest, DatabaseDefaultsToOrchDbInTheWorkingDirectory) {
  ExperimentFile file;
  file.sweep.clear();
  RunResult result = run_orch({"run", write_file("one.toml", file.text())});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count(path("orch.db"), "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 1);
}

// With the default warmup_steps = 3, a 1-step epoch would time nothing; warm-up must
// leave at least one step timed so that every ok run has a real throughput.
TEST_F(CliTest, WarmupNeverSwallowsAWholeEpoch) {
  ExperimentFile file;
  file.train = "epochs = 1\n";                       // warmup_steps defaults to 3
  file.sweep = "\"train.batch_size\" = [4, 256]\n";  // 64 steps vs 1 step
  RunResult result = run_file(write_file("warm.toml", file.text()));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string one_step =
      "FROM epochs e JOIN params p ON p.run_id = e.run_id AND p.key = 'train.batch_size' "
      "WHERE p.value_num = 256";
  EXPECT_EQ(count(db_, "SELECT timed_samples " + one_step), 256);
  EXPECT_EQ(count(db_, "SELECT samples_per_s > 0 " + one_step), 1);
  std::string best;
  for (const auto& line : lines_of(result.out)) {
    if (line.rfind("best (lowest epoch_s):", 0) == 0) best = line;
  }
  EXPECT_FALSE(best.empty()) << result.out;
  EXPECT_FALSE(contains(best, " 0 samples/s")) << result.out;
}

// What starting a run costs is on record: from the worker's fork to its first training
// step, a part of the run's wall time.
TEST_F(CliTest, EveryRunRecordsItsStartCost) {
  ExperimentFile file;
  file.sweep = "\"train.batch_size\" = [4, 8]\n";
  RunResult result = run_file(write_file("start.toml", file.text()));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM runs WHERE status = 'ok' AND start_s > 0 "
                  "AND start_s < wall_s"),
            2)
      << text_value(db_, "SELECT GROUP_CONCAT(start_s || ' of ' || wall_s, '; ') FROM runs");
}

// A steady workload reaches a tight throughput estimate long before the step limit.
TEST_F(CliTest, BenchmarkModeStopsEarlyOnASteadyWorkload) {
  ExperimentFile file;
  file.train =
      "mode = \"benchmark\"\nwarmup_steps = 5\nmin_steps = 20\nmax_steps = 5000\n"
      "target_rel_ci = 0.05\n";
  file.sweep = "\"train.batch_size\" = [16, 32]\n";
  RunResult result = run_file(write_file("bench.toml", file.text()));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 2);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs"), 2) << "one measured row per run";
  // Warm-up steps are counted apart; measured steps stop between min_steps and max_steps.
  EXPECT_EQ(count(db_, "SELECT MIN(warmup_steps) FROM epochs"), 5);
  EXPECT_GE(count(db_, "SELECT MIN(steps - warmup_steps) FROM epochs"), 20);
  EXPECT_LT(count(db_, "SELECT MAX(steps - warmup_steps) FROM epochs"), 5000);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM metrics WHERE name = 'step_s'"),
            count(db_, "SELECT SUM(steps - warmup_steps) FROM epochs"));
  // No validation pass ran, so there is no validation result: NULL, not a made-up 0.
  EXPECT_EQ(
      count(db_, "SELECT COUNT(*) FROM epochs WHERE val_accuracy IS NULL AND val_loss IS NULL"), 2);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs WHERE train_accuracy BETWEEN 0 AND 1"), 2);
  // The projected epoch time is the training split over the measured throughput.
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs WHERE ABS(seconds * samples_per_s - 256) < 1"),
            2);
}

// ---- 2. resume ----

TEST_F(SweptTest, RunningTheSameFileAgainRunsNothingAndSaysSo) {
  RunResult again = run_file(file_);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs"), 4);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM experiments"), 1);
  EXPECT_TRUE(contains(again.out, "4 of 4 runs already finished ok")) << again.out;
  EXPECT_FALSE(contains(again.out, "[1/")) << again.out;
  // The table still shows the earlier results, so the user sees what is done.
  EXPECT_TRUE(has_line_starting_with(again.out, "best (lowest epoch_s):")) << again.out;
}

TEST_F(SweptTest, PlanMarksFinishedRunsDoneSkipped) {
  RunResult after = run_orch({"plan", file_, "--db", db_});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_TRUE(contains(after.out, "4 runs (0 would run)")) << after.out;
  int skipped = 0;
  for (const auto& line : lines_of(after.out)) skipped += contains(line, "done (skipped)");
  EXPECT_EQ(skipped, 4) << after.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs"), 4);
}

TEST_F(CliTest, PlanOnAFreshDatabaseWouldRunEverythingAndCreatesNothing) {
  RunResult plan =
      run_orch({"plan", write_file("sweep.toml", ExperimentFile().text()), "--db", db_});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_TRUE(contains(plan.out, "4 runs (4 would run)")) << plan.out;
  EXPECT_FALSE(contains(plan.out, "done (skipped)")) << plan.out;
  EXPECT_FALSE(fs::exists(db_)) << "plan must not create the database";
}

TEST_F(SweptTest, AddingASweepValueRunsOnlyTheNewPoints) {
  ExperimentFile file;
  file.sweep = replace(file.sweep, "[4, 8]", "[4, 8, 16]");
  RunResult grown = run_file(write_file("sweep.toml", file.text()));
  ASSERT_EQ(grown.exit_code, 0) << grown.err;
  EXPECT_TRUE(contains(grown.out, "4 of 6 runs already finished ok")) << grown.out;
  EXPECT_TRUE(contains(grown.out, "[2/2]")) << grown.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs"), 6);
  // The two new runs are exactly batch size 16, once per epoch count.
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM runs r JOIN params p ON p.run_id = r.id "
                  "WHERE p.key = 'train.batch_size' AND p.value_num = 16 AND r.status = 'ok'"),
            2);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE attempt = 1"), 6);
}

// ---- 3. faulty plugins: a failure is data, the sweep goes on ----

TEST_F(FaultyTest, SegfaultingRunIsRecordedAsCrashedAndTheSweepGoesOn) {
  const RunResult& result = result_of("segfaults");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  // Both points ran: the second started after the first one crashed.
  EXPECT_EQ(runs_of("segfaults", "1"), 2);
  EXPECT_EQ(runs_of("segfaults", "status = 'crashed' AND exit_signal = 11"), 2);
  EXPECT_EQ(runs_of("segfaults", "error LIKE '%signal 11%'"), 2);
  EXPECT_TRUE(contains(result.out, "[2/2]")) << result.out;
  EXPECT_TRUE(contains(result.out, "best: no run finished ok")) << result.out;
  EXPECT_TRUE(contains(result.out, "2 run(s) did not finish ok")) << result.out;
}

TEST_F(FaultyTest, AbortingRunIsRecordedAsCrashedWithSignal6) {
  EXPECT_EQ(result_of("aborts").exit_code, 0) << result_of("aborts").err;
  EXPECT_EQ(runs_of("aborts", "1"), 2);
  EXPECT_EQ(runs_of("aborts", "status = 'crashed' AND exit_signal = 6"), 2);
}

TEST_F(FaultyTest, ThrowingRunIsRecordedAsFailedWithTheModelsMessage) {
  const RunResult& result = result_of("throws");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(runs_of("throws", "1"), 2);
  EXPECT_EQ(runs_of("throws",
                    "status = 'failed' AND exit_signal IS NULL "
                    "AND error LIKE '%fixture model failed on purpose%'"),
            2);
  EXPECT_TRUE(contains(result.out, "fixture model failed on purpose")) << result.out;
  EXPECT_FALSE(contains(result.err, "terminate called")) << result.err;
}

// What a plugin prints, and why its run failed, stay with the run: its row names its log.
TEST_F(FaultyTest, EachRunsOwnLogIsKeptAndNamedByItsRow) {
  SQLite::Database database(db_, SQLite::OPEN_READONLY);
  SQLite::Statement query(
      database,
      "SELECT r.log_path FROM runs r JOIN experiments e ON e.id = r.experiment_id "
      "WHERE e.name = 'faulty_throws'");
  int logs = 0;
  while (query.executeStep()) {
    const std::string log = query.getColumn(0).getString();
    ASSERT_TRUE(fs::exists(log)) << log;
    EXPECT_TRUE(contains(read_text(log), "fixture model failed on purpose")) << log;
    ++logs;
  }
  EXPECT_EQ(logs, 2);
  // The worker's output went to the log, not into orch's own output.
  EXPECT_FALSE(contains(result_of("throws").err, "orch worker")) << result_of("throws").err;
}

TEST_F(FaultyTest, GoodExperimentStillRunsOkInADatabaseWithCrashedRuns) {
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs"), 6);
  ExperimentFile good;
  good.name = "good";
  RunResult result = run_file(write_file("good.toml", good.text()));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                  "WHERE e.name = 'good' AND r.status = 'ok'"),
            4);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 4);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs"), 10);
}

TEST_F(FaultyTest, FailedRunIsRetriedOnTheNextRunAsAttempt2) {
  RunResult again = run_file(path("throws.toml"), {"--plugin-dir", kFaultyDir});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(runs_of("throws", "1"), 4);
  EXPECT_EQ(runs_of("throws", "attempt = 2 AND status = 'failed'"), 2);
  // The retry points at the first attempt of the same configuration.
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM runs r JOIN runs first ON first.id = r.parent_run_id "
                  "WHERE r.attempt = 2 AND first.attempt = 1 AND first.run_key = r.run_key"),
            2);
  // Only the failed file was retried; the crashed ones were not touched.
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs"), 8);
}

// ---- 4. bad input: exit 2, one sentence, no database ----

TEST_F(CliTest, MalformedTomlNamesFileLineAndColumn) {
  const std::string file = write_file("bad.toml", "[experiment]\nname = \"bad\"\nseed = = 3\n");
  expect_bad_input(run_file(file), {"bad.toml:3:", "invalid TOML"}, db_);
}

TEST_F(CliTest, UnknownPluginListsTheKnownOnes) {
  ExperimentFile file;
  file.model = "plugin = \"mlpp\"\n";
  expect_bad_input(run_file(write_file("e.toml", file.text())), {"'mlpp'", "known models:", "mlp"},
                   db_);
}

TEST_F(CliTest, UnknownParameterListsTheKnownParameters) {
  ExperimentFile file;
  file.model = "plugin = \"mlp\"\nhiden = 16\n";
  expect_bad_input(run_file(write_file("e.toml", file.text())),
                   {"e.toml:", "'hiden'", "hidden, layers"}, db_);
}

TEST_F(CliTest, WrongTypeSaysAnIntegerIsExpected) {
  ExperimentFile file;
  file.train = replace(file.train, "batch_size = 8", "batch_size = \"big\"");
  expect_bad_input(run_file(write_file("e.toml", file.text())),
                   {"train.batch_size", "integer", "string"}, db_);
}

// Either form tells the user the lower bound: ">= 1" or "[1, 16777216]".
void expect_says_at_least_one(const RunResult& result) {
  EXPECT_TRUE(contains(result.err, ">= 1") || contains(result.err, "[1,")) << result.err;
}

TEST_F(CliTest, BatchSizeZeroIsOutOfRange) {
  ExperimentFile file;
  file.train = replace(file.train, "batch_size = 8", "batch_size = 0");
  RunResult result = run_file(write_file("e.toml", file.text()));
  expect_bad_input(result, {"train.batch_size", "out of range"}, db_);
  expect_says_at_least_one(result);
}

TEST_F(CliTest, NegativeBatchSizeInASweepIsOutOfRange) {
  ExperimentFile file;
  file.sweep = replace(file.sweep, "[4, 8]", "[4, -4]");
  RunResult result = run_file(write_file("e.toml", file.text()));
  expect_bad_input(result, {"e.toml:", "train.batch_size", "-4", "out of range"}, db_);
  expect_says_at_least_one(result);
}

TEST_F(CliTest, SweepKeyMatchingNoParameterIsNamed) {
  ExperimentFile file;
  file.sweep = replace(file.sweep, "train.batch_size", "train.batchsize");
  expect_bad_input(run_file(write_file("e.toml", file.text())),
                   {"\"train.batchsize\"", "matches no parameter", "batch_size"}, db_);
}

TEST_F(CliTest, EmptySweepListIsRefused) {
  ExperimentFile file;
  file.sweep = replace(file.sweep, "[4, 8]", "[]");
  expect_bad_input(run_file(write_file("e.toml", file.text())), {"train.batch_size", "empty list"},
                   db_);
}

TEST_F(CliTest, MissingTrainSectionIsNamed) {
  std::string text = ExperimentFile().text();
  text = replace(text, "[train]\nepochs = 1\nbatch_size = 8\nwarmup_steps = 1\n", "");
  expect_bad_input(run_file(write_file("e.toml", text)), {"missing section", "[train]"}, db_);
}

// A data file that is not there fails the sweep before anything runs, naming where the
// file was set, instead of failing every run alike; plan still describes the sweep.
TEST_F(CliTest, AMissingDataFileIsRefusedBeforeAnythingRunsNamingWhereItWasSet) {
  const std::string text =
      replace(ExperimentFile().text(),
              "plugin = \"synthetic\"\nsamples = 256\nval_samples = 64\nfeatures = 8\n",
              "plugin = \"csv\"\npath = \"missing.csv\"\n");
  const std::string written = write_file("e.toml", text);
  const auto line = 1 + std::count(text.begin(), text.begin() + text.find("path = "), '\n');
  expect_bad_input(run_file(written),
                   {"e.toml:" + std::to_string(line) + ":", "dataset.path (csv)",
                    path("missing.csv") + " does not exist"},
                   db_);
  RunResult plan = run_orch({"plan", written, "--db", db_});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
}

TEST_F(CliTest, MissingExperimentFileIsNamed) {
  expect_bad_input(run_file(path("nowhere.toml")), {"nowhere.toml", "no such experiment file"},
                   db_);
}

TEST_F(CliTest, DatabaseInAMissingDirectoryIsNamedAndNothingIsCreated) {
  const std::string db = path("no_such_dir/history.db");
  RunResult result = run_orch({"run", write_file("e.toml", ExperimentFile().text()), "--db", db});
  expect_bad_input(result, {db, "does not exist"}, db);
  EXPECT_FALSE(fs::exists(path("no_such_dir")));
}

// ---- 5. plugins ----

TEST_F(CliTest, PluginsListsBuiltinsWithParametersAndHelp) {
  RunResult result = run_orch({"plugins"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(has_line_starting_with(result.out, "backend cpu")) << result.out;
  EXPECT_TRUE(has_line_starting_with(result.out, "dataset synthetic")) << result.out;
  EXPECT_TRUE(has_line_starting_with(result.out, "model mlp")) << result.out;
  for (const char* param : {"threads", "samples", "val_samples", "features", "hidden", "layers"}) {
    EXPECT_TRUE(has_line_starting_with(result.out, std::string("  ") + param + " "))
        << param << " missing:\n"
        << result.out;
  }
  EXPECT_TRUE(contains(result.out, "width of each hidden layer")) << result.out;
  EXPECT_TRUE(contains(result.out, "number of hidden layers")) << result.out;
  EXPECT_FALSE(contains(result.out, "refused:")) << result.out;
  EXPECT_FALSE(contains(result.out, "segfaults")) << result.out;
}

TEST_F(CliTest, PluginsExplainsEachRefusedLibraryInOneLine) {
  RunResult result = run_orch({"plugins", "--plugin-dir", kRefusedDir});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto at = result.out.find("\nrefused:\n");
  ASSERT_NE(at, std::string::npos) << result.out;
  auto refused = lines_of(result.out.substr(at + std::string("\nrefused:\n").size()));
  ASSERT_EQ(refused.size(), 5u) << result.out;
  auto line_for = [&](const std::string& file) {
    std::string found;
    for (const auto& line : refused) {
      if (contains(line, "/" + file + ":")) found += line;
    }
    return found;
  };
  EXPECT_TRUE(contains(line_for("not_a_library.so"), "not a loadable shared library"))
      << result.out;
  EXPECT_TRUE(contains(line_for("orch_fixture_no_entry.so"), "without the orch entry point"))
      << result.out;
  EXPECT_TRUE(contains(line_for("orch_fixture_wrong_abi.so"), "ABI")) << result.out;
  EXPECT_TRUE(contains(line_for("orch_fixture_old_sdk.so"), "rebuild the plugin")) << result.out;
  EXPECT_TRUE(contains(line_for("orch_fixture_duplicate.so"), "'mlp'")) << result.out;
  EXPECT_TRUE(contains(line_for("orch_fixture_duplicate.so"), "already taken")) << result.out;
  // The refusals cost nothing else: built-ins and the duplicate's own model are there.
  EXPECT_TRUE(has_line_starting_with(result.out, "model mlp")) << result.out;
  EXPECT_TRUE(has_line_starting_with(result.out, "model fixture_unique")) << result.out;
  EXPECT_TRUE(has_line_starting_with(result.out, "backend cpu")) << result.out;
}

TEST_F(CliTest, OrchPluginPathAddsItsDirectories) {
  RunResult result = run_orch({"plugins"}, {"ORCH_PLUGIN_PATH=" + kFaultyDir});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* model : {"segfaults", "aborts", "throws"}) {
    EXPECT_TRUE(has_line_starting_with(result.out, std::string("model ") + model)) << result.out;
  }
  EXPECT_TRUE(has_line_starting_with(result.out, "model mlp")) << result.out;
}

// Diagnostics belong on stderr: stdout is the plan or the table a user pipes elsewhere.
TEST_F(CliTest, RefusedPluginWarningsGoToStderrNotStdout) {
  RunResult result = run_orch({"plan", write_file("sweep.toml", ExperimentFile().text()), "--db",
                               db_, "--plugin-dir", kRefusedDir});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err, "not_a_library.so")) << "stderr: " << result.err;
  EXPECT_FALSE(contains(result.out, "refused")) << "stdout: " << result.out;
  EXPECT_TRUE(result.out.rfind("experiment 'tiny'", 0) == 0) << result.out;
}

// ---- 6. sql ----

TEST_F(SweptTest, SqlPrintsASelectResultWithItsRowCount) {
  RunResult result = run_orch({"sql", "SELECT id, status FROM runs ORDER BY id", "--db", db_});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 2u + 4u + 1u) << result.out;  // header, rule, 4 rows, count
  EXPECT_EQ(lines[0], "id  status");
  EXPECT_EQ(lines[1], "--  ------");
  EXPECT_EQ(lines[2], " 1  ok");
  EXPECT_EQ(lines.back(), "(4 rows)");
}

// A script gets the same answer a person reads: the winner `orch best` names, with its runs.
TEST_F(SweptTest, BestAsJsonNamesTheWinnerThePrintedAnswerNames) {
  RunResult printed = run_orch({"best", "--db", db_});
  RunResult json = run_orch({"best", "--db", db_, "--json"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto document = nlohmann::json::parse(json.out);
  EXPECT_EQ(document.at("format"), "orch.best");
  EXPECT_EQ(document.at("version"), 1);
  EXPECT_EQ(document.at("objective").at("metric"), "epoch_s");
  EXPECT_EQ(document.at("objective").at("goal"), "minimize");
  ASSERT_EQ(document.at("tasks").size(), 1u);
  const auto& winner = document.at("tasks").at(0).at("winner");
  const std::string label = winner.at("configuration");
  EXPECT_TRUE(contains(lines_of(printed.out).at(0), "best (lowest epoch_s): " + label))
      << printed.out << json.out;
  for (const auto& run : winner.at("runs")) {
    EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok' AND id = " +
                             std::to_string(run.get<std::int64_t>())),
              1);
  }
  const auto& ranked = document.at("tasks").at(0).at("ranked");
  ASSERT_GE(ranked.size(), 2u);
  EXPECT_LE(ranked.at(0).at("value").get<double>(), ranked.at(1).at("value").get<double>())
      << "best first";
}

// What a script reads: JSON with numbers as numbers, reals exactly as stored, NULL as null.
TEST_F(SweptTest, SqlAsJsonKeepsNumbersExactAndNullsNull) {
  RunResult result = run_orch({"sql", "SELECT id, status, wall_s, error FROM runs ORDER BY id",
                               "--db", db_, "--format", "json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto document = nlohmann::json::parse(result.out);
  EXPECT_EQ(document.at("format"), "orch.sql");
  EXPECT_EQ(document.at("version"), 1);
  EXPECT_EQ(document.at("columns"), nlohmann::json({"id", "status", "wall_s", "error"}));
  ASSERT_EQ(document.at("rows").size(), 4u);
  const auto& first = document.at("rows").at(0);
  EXPECT_TRUE(first.at(0).is_number_integer());
  EXPECT_EQ(first.at(1), "ok");
  EXPECT_EQ(first.at(2).get<double>(), real_value(db_, "SELECT wall_s FROM runs WHERE id = 1"))
      << "not rounded to the table's 6 digits";
  EXPECT_TRUE(first.at(3).is_null());
}

// A script reading `orch report --json` sees every run the database holds, with the
// numbers stored there, and the same ranking `orch best` gives.
TEST_F(SweptTest, ReportAsJsonHoldsEveryRunAsRecordedAndTheRankingBestGives) {
  RunResult report = run_orch({"report", "--db", db_, "--json"});
  RunResult best = run_orch({"best", "--db", db_, "--json"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  ASSERT_EQ(best.exit_code, 0) << best.err;
  const auto document = nlohmann::json::parse(report.out);
  EXPECT_EQ(document.at("format"), "orch.report");
  EXPECT_EQ(document.at("version"), 1);
  const auto& runs = document.at("runs");
  ASSERT_EQ(static_cast<std::int64_t>(runs.size()), count(db_, "SELECT COUNT(*) FROM runs"));
  for (const auto& run : runs) {
    const std::string id = std::to_string(run.at("id").get<std::int64_t>());
    EXPECT_EQ(run.at("status"), "ok");
    EXPECT_EQ(run.at("wall_s").get<double>(),
              real_value(db_, "SELECT wall_s FROM runs WHERE id = " + id));
    EXPECT_EQ(run.at("epochs").get<std::int64_t>(),
              count(db_, "SELECT COUNT(*) FROM epochs WHERE run_id = " + id));
    EXPECT_EQ(run.at("params").at("train.batch_size").get<std::int64_t>(),
              run.at("batch_size").get<std::int64_t>());
  }
  const auto& task = document.at("tasks").at(0);
  EXPECT_EQ(task.at("winner"), nlohmann::json::parse(best.out).at("tasks").at(0).at("winner"));
  ASSERT_FALSE(task.at("configurations").empty());
  EXPECT_EQ(task.at("configurations").at(0).at("verdict"), "best");
  EXPECT_TRUE(task.at("importance").contains("keys"));
}

// `orch status --json` counts what the text counts: after the sweep, every run is done.
TEST_F(SweptTest, StatusAsJsonCountsEveryPlannedRunDone) {
  RunResult text = run_orch({"status", file_, "--db", db_});
  RunResult json = run_orch({"status", file_, "--db", db_, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(contains(text.out, "4 runs: done 4, running 0, failed 0, pending 0")) << text.out;
  const auto document = nlohmann::json::parse(json.out);
  EXPECT_EQ(document.at("format"), "orch.status");
  EXPECT_EQ(document.at("runs"), nlohmann::json::parse(
                                     R"({"total": 4, "done": 4, "running": 0, "failed": 0,
                                         "pending": 0})"));
  EXPECT_TRUE(document.at("submission").is_null());
  EXPECT_TRUE(document.at("failed").empty());
}

// `orch plan --json` after the sweep: the recorded run keys, each done, and a memory
// forecast for the batch sizes the sweep asks for.
TEST_F(SweptTest, PlanAsJsonListsTheRecordedRunsAsDoneWithAMemoryForecast) {
  RunResult result = run_orch({"plan", file_, "--db", db_, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto document = nlohmann::json::parse(result.out);
  EXPECT_EQ(document.at("format"), "orch.plan");
  EXPECT_EQ(document.at("runs_total"), 4);
  EXPECT_EQ(document.at("would_run"), 0);
  for (const auto& run : document.at("runs")) {
    EXPECT_EQ(run.at("state"), "done");
    EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok' AND run_key = '" +
                             run.at("run_key").get<std::string>() + "'"),
              1);
  }
  ASSERT_TRUE(document.at("memory").is_array());
  std::set<std::int64_t> forecast;
  for (const auto& group : document.at("memory")) {
    for (const auto& size : group.at("batch_sizes"))
      forecast.insert(size.at("batch_size").get<std::int64_t>());
  }
  EXPECT_EQ(forecast, (std::set<std::int64_t>{4, 8}));
}

// A failed run reaches a script with its status and the first line of its error.
TEST_F(FaultyTest, StatusAsJsonListsFailedRunsWithTheirError) {
  RunResult result =
      run_orch({"status", path("throws.toml"), "--db", db_, "--plugin-dir", kFaultyDir, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto document = nlohmann::json::parse(result.out);
  EXPECT_EQ(document.at("runs").at("failed"), 2);
  ASSERT_EQ(document.at("failed").size(), 2u);
  EXPECT_EQ(document.at("failed").at(0).at("status"), "failed");
  EXPECT_TRUE(contains(document.at("failed").at(0).at("error").get<std::string>(),
                       "fixture model failed on purpose"))
      << result.out;
}

TEST_F(SweptTest, SqlAsCsvQuotesWhatNeedsQuotingAndLeavesNullEmpty) {
  RunResult result = run_orch({"sql",
                               "SELECT 'a,b' AS text, 'say \"hi\"' AS quote, NULL AS "
                               "missing, 1.5 AS half, COUNT(*) AS runs FROM runs",
                               "--db", db_, "--format", "csv"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "text,quote,missing,half,runs\r\n\"a,b\",\"say \"\"hi\"\"\",,1.5,4\r\n");
  RunResult bad = run_orch({"sql", "SELECT 1", "--db", db_, "--format", "xml"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_TRUE(contains(bad.err, "xml")) << bad.err;
}

TEST_F(SweptTest, SqlRefusesWritesAndLeavesTheDataUnchanged) {
  for (const char* write :
       {"INSERT INTO experiments(name, created_at) VALUES('x', 'now')", "DELETE FROM runs",
        "DROP TABLE epochs", "SELECT 1; DELETE FROM runs"}) {
    RunResult result = run_orch({"sql", write, "--db", db_});
    EXPECT_NE(result.exit_code, 0) << write;
    EXPECT_EQ(result.err.rfind("orch: error: ", 0), 0u) << write << ": " << result.err;
    EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
  }
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM experiments"), 1);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 4);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs"), 6);
}

TEST_F(CliTest, SqlOnAMissingDatabaseSaysToRunFirstAndCreatesNothing) {
  RunResult result = run_orch({"sql", "SELECT 1", "--db", db_});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "orch run")) << result.err;
  EXPECT_FALSE(fs::exists(db_));
}

// ---- 7. report and best ----

TEST_F(SweptTest, ReportShowsEveryRunOfTheLatestExperiment) {
  RunResult result = run_orch({"report", "--db", db_});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "experiment 'tiny'")) << result.out;
  int ok_rows = 0;
  for (const auto& line : lines_of(result.out)) {
    ok_rows += contains(line, "train.batch_size=") && contains(line, " ok ");
  }
  EXPECT_EQ(ok_rows, 4) << result.out;
  EXPECT_TRUE(has_line_starting_with(result.out, "best (lowest epoch_s):")) << result.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs"), 4);
}

TEST_F(SweptTest, BestNamesTheFastestOkRunAndItsKey) {
  RunResult result = run_orch({"best", "-e", "tiny", "--db", db_});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_TRUE(has_line_starting_with(result.out, "best (lowest epoch_s): train.batch_size="))
      << result.out;
  // The keys it prints are those of the configuration with the smallest mean epoch time
  // projected from the median step (what rankings compare). Epoch time is per epoch, so
  // the runs of one batch size with 1 and 2 epochs are one configuration.
  const std::string best_batch =
      text_value(db_,
                 "SELECT batch_size FROM runs_flat WHERE experiment = 'tiny' AND status = 'ok' "
                 "GROUP BY batch_size ORDER BY AVG(COALESCE(median_epoch_s, epoch_s)) LIMIT 1");
  for (const std::string& key : lines_of(text_value(
           db_,
           "SELECT GROUP_CONCAT(run_key, char(10)) FROM runs_flat WHERE experiment = 'tiny' "
           "AND status = 'ok' AND batch_size = " +
               best_batch))) {
    EXPECT_TRUE(contains(result.out, "key " + key)) << result.out;
  }
}

TEST_F(SweptTest, ReportOnAnUnknownExperimentNameSaysSo) {
  RunResult result = run_orch({"report", "-e", "nope", "--db", db_});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(contains(result.err, "no experiment named 'nope'")) << result.err;
}

TEST_F(CliTest, ReportAndBestOnAMissingDatabaseSayToRunFirstAndCreateNothing) {
  for (const char* command : {"report", "best"}) {
    RunResult result = run_orch({command, "--db", db_});
    EXPECT_NE(result.exit_code, 0) << command;
    EXPECT_TRUE(contains(result.err, "orch run")) << command << ": " << result.err;
    EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
    EXPECT_FALSE(fs::exists(db_)) << command << " created the database";
  }
}

// ---- 8. the README's quickstart ----

TEST_F(CliTest, QuickstartFilePlansSixRuns) {
  RunResult result = run_orch({"plan", kQuickstart, "--db", db_});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "experiment 'quickstart': 6 runs (6 would run)")) << result.out;
  int would_run = 0;
  for (const auto& line : lines_of(result.out)) {
    would_run += contains(line, "would run") && !contains(line, "runs (");
  }
  EXPECT_EQ(would_run, 6) << result.out;
  EXPECT_TRUE(contains(result.out, "train.batch_size=2 train.epochs=1")) << result.out;
  EXPECT_TRUE(contains(result.out, "train.batch_size=8 train.epochs=2")) << result.out;
  EXPECT_TRUE(result.err.empty()) << result.err;
  EXPECT_FALSE(fs::exists(db_));
}

// ---- 9. the sweep language: ranges, zips, exclusion rules, plugin sweeps, --set ----

// mlp against the fixture model memory_hog (1 MiB per sample), each with its own values.
ExperimentFile two_model_experiment() {
  ExperimentFile file;
  file.name = "two_models";
  file.model = "[model.mlp]\nhidden = 16\n\n[model.memory_hog]\nmib_per_sample = 1\n";
  file.sweep =
      "\"model.plugin\" = [\"mlp\", \"memory_hog\"]\n"
      "\"train.epochs\" = { from = 1, to = 2, step = 1 }\n\n"
      "[[sweep.zip]]\n"
      "\"train.batch_size\" = [4, 8, 16]\n"
      "\"train.lr\" = { from = 1e-3, to = 4e-3, count = 3, scale = \"log\" }\n\n"
      "[[sweep.exclude]]\n"
      "\"model.plugin\" = \"memory_hog\"\n"
      "\"train.batch_size\" = { at_least = 8 }\n\n"
      "[[sweep.exclude]]\n"
      "\"train.epochs\" = 3\n";
  return file;
}

TEST_F(CliTest, PlanShowsTheProductItsRulesThePluginsAndTheOverrides) {
  const std::string file = write_file("two.toml", two_model_experiment().text());
  // A --set before the file takes one value and leaves the file to the command.
  RunResult result = run_orch({"plan", "--set", "dataset.samples=64", file, "--db", db_,
                               "--plugin-dir", kFaultyDir, "--set", "train.warmup_steps=0"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // 2 plugins x 2 epoch counts x 3 zipped points = 12; memory_hog with batch 8 or 16 is
  // left out for both epoch counts.
  EXPECT_TRUE(contains(result.out, "experiment 'two_models': 8 runs (8 would run)")) << result.out;
  EXPECT_TRUE(contains(result.out,
                       "12 combinations (from 2 model.plugin x 2 train.epochs x 3 "
                       "zip(train.batch_size, train.lr)), 4 excluded by rules (rule at line 35: "
                       "4, rule at line 39: 0) -> 8 configurations"))
      << result.out;
  EXPECT_TRUE(contains(result.out, "model mlp | memory_hog")) << result.out;
  EXPECT_TRUE(
      contains(result.out, "overrides: --set dataset.samples=64 --set train.warmup_steps=0"))
      << result.out;
  EXPECT_TRUE(contains(result.out,
                       "model.plugin=\"memory_hog\" train.epochs=2 train.batch_size=4 "
                       "train.lr=0.001"))
      << result.out;
  // The rule that matches nothing is a warning on stderr, with its line.
  EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
  EXPECT_TRUE(contains(result.err, "orch: warning: ")) << result.err;
  EXPECT_TRUE(contains(result.err,
                       "two.toml:39:1: the [[sweep.exclude]] rule at line 39 removes "
                       "no combination"))
      << result.err;
  EXPECT_FALSE(fs::exists(db_)) << "plan must not create the database";
}

TEST_F(CliTest, ASweepOverTheModelPluginRunsEachModelWithItsOwnParameters) {
  ExperimentFile file = two_model_experiment();
  file.sweep = "\"model.plugin\" = [\"mlp\", \"memory_hog\"]\n";
  RunResult result = run_file(write_file("models.toml", file.text()), {"--plugin-dir", kFaultyDir});
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 2);
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT run_key) FROM runs"), 2);
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT memory_key) FROM runs"), 2);
  auto params_of = [&](const std::string& plugin) {
    return text_value(db_,
                      "SELECT group_concat(p.key || '=' || p.value_text, ' ') FROM params p "
                      "JOIN params m ON m.run_id = p.run_id AND m.key = 'model.plugin' "
                      "WHERE m.value_text = '" +
                          plugin +
                          "' AND p.key LIKE 'model.%' "
                          "AND p.key != 'model.plugin' ORDER BY p.key");
  };
  EXPECT_EQ(params_of("mlp"), "model.hidden=16 model.layers=2");
  EXPECT_EQ(params_of("memory_hog"),
            "model.late_after=0 model.late_mib_per_sample=0 model.mib_per_sample=1");
}

TEST_F(CliTest, SetRunsAReducedSweepAndTheStoredFileSaysSo) {
  RunResult result = run_file(write_file("sweep.toml", ExperimentFile().text()),
                              {"--set", "train.epochs=1", "--set", "train.batch_size=16", "--set",
                               "model.plugin=mlp", "--set", "model.hidden=8"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "experiment 'tiny': 1 runs")) << result.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 1);
  EXPECT_EQ(count(db_, "SELECT value_num FROM params WHERE key = 'train.batch_size'"), 16);
  EXPECT_EQ(count(db_, "SELECT value_num FROM params WHERE key = 'model.hidden'"), 8);
  const std::string text = text_value(db_, "SELECT file_text FROM experiments");
  EXPECT_TRUE(contains(text, ExperimentFile().text())) << text;
  EXPECT_TRUE(contains(text, "# --set train.batch_size=16  (given on the command line)")) << text;
}

TEST_F(CliTest, ABadSetIsRefusedNamingTheFlag) {
  const std::string file = write_file("sweep.toml", ExperimentFile().text());
  expect_bad_input(run_file(file, {"--set", "train.epochs=0"}),
                   {"--set train.epochs: train.epochs = 0 is out of range"}, db_);
  expect_bad_input(run_file(file, {"--set", "model.hiden=8"}),
                   {"--set model.hiden: unknown parameter 'hiden'", "hidden, layers"}, db_);
  expect_bad_input(run_file(file, {"--set", "train.epochs"}), {"write --set KEY=VALUE"}, db_);
}

TEST_F(CliTest, AValueTheSweptPluginDoesNotTakeIsRefusedBeforeAnythingRuns) {
  ExperimentFile file = two_model_experiment();
  file.model = "hidden = 16\n";
  file.sweep = "\"model.plugin\" = [\"mlp\", \"memory_hog\"]\n";
  RunResult result = run_file(write_file("models.toml", file.text()), {"--plugin-dir", kFaultyDir});
  expect_bad_input(result,
                   {"models.toml:16:",
                    "model.hidden is not a parameter of model plugin "
                    "'memory_hog'",
                    "model.plugin=\"memory_hog\"", "[model.mlp]", "[[sweep.exclude]]"},
                   db_);
}

}  // namespace
