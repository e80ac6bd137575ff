#include "storage/store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "storage/schema.h"
#include "tests/support/unit_test_support.h"

namespace orch::storage {
namespace {

namespace fs = std::filesystem;

using orch::testing::contains;

class StoreTest : public orch::testing::FreshDirectoryTest {
 protected:
  void SetUp() override {
    FreshDirectoryTest::SetUp();
    db_path_ = path("orch.db");
  }

  static ExperimentRecord experiment(const std::string& name) {
    return {name,     "exp.toml",          "[experiment]\nname = \"" + name + "\"\n",
            "abc123", R"({"cpu":"test"})", 0,
            ""};
  }

  static RunRecord run(const std::string& key, const std::string& swept = "") {
    RunRecord r;
    r.run_key = key;
    r.params_json = R"({"train.batch_size":4,"train.optimizer":"adam"})";
    r.params = {{"train.batch_size", "4", 4.0}, {"train.optimizer", "adam", std::nullopt}};
    r.swept = swept;
    return r;
  }

  static EpochRecord epoch(int n, double seconds, double samples_per_s, double train_loss,
                           double val_accuracy) {
    EpochRecord e;
    e.epoch = n;
    e.seconds = seconds;
    e.samples_per_s = samples_per_s;
    e.train_loss = train_loss;
    e.val_accuracy = val_accuracy;
    e.steps = 10;
    return e;
  }

  static RunOutcome ok() { return {RunStatus::kOk, 1.5, 1000, std::nullopt, "", ""}; }

  static RunRecord sized_run(const std::string& key, const std::string& memory_key,
                             std::int64_t budget_bytes, std::int64_t batch_size) {
    RunRecord r = run(key);
    r.memory_key = memory_key;
    r.budget_bytes = budget_bytes;
    r.batch_size = batch_size;
    return r;
  }

  static RunOutcome outcome(RunStatus status, const std::string& stop_layer = "") {
    RunOutcome o;
    o.status = status;
    o.stop_layer = stop_layer;
    return o;
  }

  static ProbeTrial trial(std::int64_t batch_size, RunStatus status, std::int64_t peak_rss_bytes,
                          const std::string& stop_layer = "", const std::string& error = "") {
    return {"mlp/synthetic/cpu/adam", 1 << 30,    batch_size, status,
            peak_rss_bytes,           stop_layer, error};
  }

  static std::vector<std::string> strings(std::initializer_list<const char*> items) {
    return std::vector<std::string>(items.begin(), items.end());
  }

  std::string db_path_;
};

TEST_F(StoreTest, NewFileHasCurrentSchemaVersionAndWalMode) {
  Store store = Store::Open(db_path_);
  EXPECT_EQ(store.schema_version(), kSchemaVersion);
  EXPECT_EQ(store.path(), db_path_);

  SQLite::Database raw(db_path_, SQLite::OPEN_READONLY);
  EXPECT_EQ(raw.execAndGet("PRAGMA user_version").getInt(), kSchemaVersion);
  EXPECT_EQ(raw.execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST_F(StoreTest, ReopeningKeepsDataAndDoesNotMigrateAgain) {
  {
    Store store = Store::Open(db_path_);
    store.add_runs(store.begin_experiment(experiment("exp")), {run("a")});
  }
  const auto schema_before =
      query_read_only(db_path_, "SELECT type, name, sql FROM sqlite_master ORDER BY name").rows;

  Store store = Store::Open(db_path_);
  EXPECT_EQ(store.schema_version(), kSchemaVersion);
  EXPECT_EQ(store.latest_experiment_name(), "exp");
  ASSERT_EQ(store.latest_runs("exp").size(), 1u);
  EXPECT_EQ(
      query_read_only(db_path_, "SELECT type, name, sql FROM sqlite_master ORDER BY name").rows,
      schema_before);
}

TEST_F(StoreTest, DatabaseFromNewerOrchIsRefused) {
  { Store::Open(db_path_); }
  {
    SQLite::Database raw(db_path_, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = 99");
  }
  try {
    Store::Open(db_path_);
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), db_path_));
    EXPECT_TRUE(contains(e.what(), "99"));
  }
}

TEST_F(StoreTest, AStatusWordOrchNeverWritesIsRefusedNamingTheDatabase) {
  // A database edited by hand: the report must say what is wrong, not guess a status.
  Store store = Store::Open(db_path_);
  const auto ids = store.add_runs(store.begin_experiment(experiment("exp")), {run("bs=4")});
  store.finish_run(ids[0], ok());
  {
    SQLite::Database raw(db_path_, SQLite::OPEN_READWRITE);
    raw.exec("UPDATE runs SET status = 'done' WHERE id = " + std::to_string(ids[0]));
  }
  try {
    store.latest_runs("exp");
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), db_path_)) << e.what();
    EXPECT_TRUE(contains(e.what(), "unknown run status 'done'")) << e.what();
  }
}

TEST_F(StoreTest, RunRoundTripShowsInLatestRuns) {
  Store store = Store::Open(db_path_);
  const auto experiment_id = store.begin_experiment(experiment("exp"));
  const auto ids = store.add_runs(experiment_id, {run("bs=4", "train.batch_size=4"), run("bs=8")});
  ASSERT_EQ(ids.size(), 2u);

  store.mark_running(ids[0], 4242);
  store.record_epoch(ids[0], epoch(1, 2.0, 100.0, 0.9, 0.5));
  store.record_epoch(ids[0], epoch(2, 4.0, 300.0, 0.4, 0.8));
  store.finish_run(ids[0], ok());

  const auto runs = store.latest_runs("exp");
  ASSERT_EQ(runs.size(), 2u);
  const RunSummary& first = runs[0];
  EXPECT_EQ(first.run_id, ids[0]);
  EXPECT_EQ(first.run_key, "bs=4");
  EXPECT_EQ(first.swept, "train.batch_size=4");
  EXPECT_EQ(first.attempt, 1);
  EXPECT_EQ(first.status, RunStatus::kOk);
  EXPECT_EQ(first.epochs, 2);
  EXPECT_DOUBLE_EQ(first.wall_s, 1.5);
  EXPECT_DOUBLE_EQ(first.epoch_s, 3.0);
  EXPECT_DOUBLE_EQ(first.samples_per_s, 200.0);
  EXPECT_DOUBLE_EQ(first.train_loss, 0.4);
  EXPECT_DOUBLE_EQ(first.val_accuracy, 0.8);
  EXPECT_EQ(first.peak_rss_bytes, 1000);
  EXPECT_EQ(first.error, "");

  EXPECT_EQ(runs[1].run_key, "bs=8");
  EXPECT_EQ(runs[1].status, RunStatus::kPending);
  EXPECT_EQ(runs[1].epochs, 0);

  const auto row = query_read_only(
      db_path_,
      "SELECT worker_pid, started_at IS NOT NULL, finished_at LIKE '____-__-__T__:__:__.___Z', "
      "exit_signal, error FROM runs WHERE id = " +
          std::to_string(ids[0]));
  EXPECT_EQ(row.rows.at(0), (std::vector<std::string>{"4242", "1", "1", "NULL", "NULL"}));
}

TEST_F(StoreTest, ExperimentRowKeepsFileAndTimestamp) {
  Store store = Store::Open(db_path_);
  store.begin_experiment(experiment("exp"));
  const auto result = query_read_only(
      db_path_,
      "SELECT name, file_path, file_hash, json_extract(host, '$.cpu'), "
      "created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z' FROM experiments");
  EXPECT_EQ(result.rows.at(0),
            (std::vector<std::string>{"exp", "exp.toml", "abc123", "test", "1"}));
}

TEST_F(StoreTest, RecordingAnEpochTwiceKeepsOneRowWithTheLastValues) {
  Store store = Store::Open(db_path_);
  const auto id = store.add_runs(store.begin_experiment(experiment("exp")), {run("a")})[0];
  store.record_epoch(id, epoch(1, 2.0, 100.0, 0.9, 0.5));
  store.record_epoch(id, epoch(1, 3.0, 150.0, 0.7, 0.6));

  const auto result = query_read_only(db_path_, "SELECT epoch, seconds, train_loss FROM epochs");
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_EQ(result.rows[0], (std::vector<std::string>{"1", "3", "0.7"}));
  EXPECT_EQ(store.latest_runs("exp").at(0).epochs, 1);
}

TEST_F(StoreTest, MedianProjectionAndContentionOfEpochsAndRunsReadBackAndNullWhenUnmeasured) {
  Store store = Store::Open(db_path_);
  const auto ids = store.add_runs(store.begin_experiment(experiment("exp")), {run("a"), run("b")});
  EpochRecord measured = epoch(1, 2.0, 100.0, 0.9, 0.5);
  measured.median_epoch_s = 1.8;
  measured.median_epoch_low_s = 1.7;
  measured.median_epoch_high_s = 1.9;
  measured.untimed_seconds = 0.05;
  measured.other_cpu_cores = 0.9;
  measured.run_queue = 2.5;
  measured.step_dispersion = 9.0;
  store.record_epoch(ids[0], measured);
  store.record_epoch(ids[1], epoch(1, 2.0, 100.0, 0.9, 0.5));
  RunOutcome busy = ok();
  busy.other_cpu_cores = 0.9;
  busy.run_queue = 2.5;
  busy.busy = "machine busy: other processes used 0.9 cores during this run";
  busy.projected_s = 12.5;
  store.finish_run(ids[0], busy);
  store.finish_run(ids[1], ok());

  const auto runs = store.latest_runs("exp");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_DOUBLE_EQ(runs[0].median_epoch_s, 1.8);
  EXPECT_DOUBLE_EQ(runs[0].median_epoch_low_s, 1.7);
  EXPECT_DOUBLE_EQ(runs[0].median_epoch_high_s, 1.9);
  EXPECT_DOUBLE_EQ(runs[0].other_cpu_cores, 0.9);
  EXPECT_DOUBLE_EQ(runs[0].run_queue, 2.5);
  EXPECT_DOUBLE_EQ(runs[0].projected_s, 12.5);
  EXPECT_DOUBLE_EQ(runs[0].step_dispersion, 9.0);
  EXPECT_EQ(runs[0].busy, busy.busy);
  const auto epochs = store.epochs_of(ids[0]);
  EXPECT_DOUBLE_EQ(epochs.at(0).untimed_seconds, 0.05);
  EXPECT_DOUBLE_EQ(epochs.at(0).other_cpu_cores, 0.9);
  // Not measured reads back as NaN and is NULL for SQL users.
  EXPECT_TRUE(std::isnan(runs[1].median_epoch_s));
  EXPECT_TRUE(std::isnan(runs[1].other_cpu_cores));
  EXPECT_TRUE(std::isnan(runs[1].projected_s));
  EXPECT_TRUE(runs[1].busy.empty());
  EXPECT_EQ(query_read_only(db_path_,
                            "SELECT COUNT(*) FROM runs WHERE busy IS NULL "
                            "AND other_cpu_cores IS NULL AND projected_s IS NULL")
                .rows.at(0)
                .at(0),
            "1");
}

TEST_F(StoreTest, ProbeAnswerKeepsWhatItRestsOnAndItsCorrection) {
  Store store = Store::Open(db_path_);
  ProbeAnswer answer;
  answer.max_batch_size = 14;
  answer.predicted_peak_bytes = 900 << 20;
  answer.margin_bytes = 60 << 20;
  answer.fixed_bytes = 320 << 20;
  answer.per_sample_bytes = 41 << 20;
  answer.noise_bytes = 20 << 20;
  answer.growth_bytes = 10 << 20;
  answer.corrected_by_run_id = 7;
  answer.note = "run 7 ran out of memory at batch 16";
  answer.rehearsed_peak_bytes = 950 << 20;
  answer.epoch_excess_bytes = 50 << 20;
  store.record_probe_answer("unet", 1 << 30, answer);

  auto read = store.probe_answer("unet", 1 << 30);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->max_batch_size, 14);
  EXPECT_EQ(read->predicted_peak_bytes, 900 << 20);
  EXPECT_EQ(read->margin_bytes, 60 << 20);
  EXPECT_EQ(read->fixed_bytes, 320 << 20);
  EXPECT_EQ(read->per_sample_bytes, 41 << 20);
  EXPECT_EQ(read->noise_bytes, 20 << 20);
  EXPECT_EQ(read->growth_bytes, 10 << 20);
  EXPECT_EQ(read->corrected_by_run_id, 7);
  EXPECT_EQ(read->note, answer.note);
  EXPECT_EQ(read->rehearsed_peak_bytes, 950 << 20);
  EXPECT_EQ(read->epoch_excess_bytes, 50 << 20);
  EXPECT_FALSE(read->created_at.empty());
  ASSERT_EQ(store.probe_answers("unet").size(), 1u);
  EXPECT_EQ(store.probe_answers("unet")[0].first, 1 << 30);
}

TEST_F(StoreTest, MemoryObservationsAreFittingTrialsAndOkRunsOfTheKey) {
  Store store = Store::Open(db_path_);
  ProbeTrial fitted = trial(8, RunStatus::kOk, 100 << 20);
  fitted.steps = 12;
  fitted.plateau_step = 6;
  fitted.growth_bytes = 1 << 20;
  fitted.accumulation_steps = 2;
  store.record_probe_trial(fitted);
  store.record_probe_trial(trial(64, RunStatus::kOom, 1 << 30, "watchdog"));
  // A rehearsal is a whole epoch of the run: a full-run peak, not a trial's.
  ProbeTrial rehearsal = trial(12, RunStatus::kOk, 150 << 20);
  rehearsal.kind = "rehearsal";
  rehearsal.seconds = 4.5;
  rehearsal.memory_trims = 26;
  rehearsal.held_peak_bytes = 140 << 20;
  store.record_probe_trial(rehearsal);
  const auto ids = store.add_runs(store.begin_experiment(experiment("exp")),
                                  {sized_run("a", "mlp/synthetic/cpu/adam", 1 << 30, 16),
                                   sized_run("b", "mlp/synthetic/cpu/adam", 1 << 30, 32),
                                   sized_run("c", "other", 1 << 30, 16)});
  RunOutcome finished = ok();
  finished.peak_rss_bytes = 200 << 20;
  store.finish_run(ids[0], finished);
  store.finish_run(ids[1], outcome(RunStatus::kOom, "watchdog"));
  store.finish_run(ids[2], finished);

  const auto seen = store.memory_observations("mlp/synthetic/cpu/adam");
  ASSERT_EQ(seen.size(), 3u);
  std::map<std::int64_t, MemoryObservation> by_batch;
  for (const auto& observation : seen) by_batch[observation.batch_size] = observation;
  EXPECT_EQ(by_batch[8].peak_rss_bytes, 100 << 20);
  EXPECT_FALSE(by_batch[8].full_run);
  EXPECT_EQ(by_batch[12].peak_rss_bytes, 150 << 20);
  EXPECT_TRUE(by_batch[12].full_run);
  EXPECT_EQ(by_batch[16].peak_rss_bytes, 200 << 20);
  EXPECT_TRUE(by_batch[16].full_run);
  EXPECT_TRUE(store.knows_memory_key("other"));
  EXPECT_FALSE(store.knows_memory_key("never"));
  const auto trials = store.probe_trials("mlp/synthetic/cpu/adam", 1 << 30);
  EXPECT_EQ(trials.at(0).steps, 12);
  EXPECT_EQ(trials.at(0).kind, "trial");
  EXPECT_EQ(trials.at(2).kind, "rehearsal");
  EXPECT_DOUBLE_EQ(trials.at(2).seconds, 4.5);
  EXPECT_EQ(trials.at(2).memory_trims, 26);
  EXPECT_EQ(trials.at(2).held_peak_bytes, 140 << 20);
  EXPECT_EQ(trials.at(0).memory_trims, 0);
  EXPECT_EQ(trials.at(0).held_peak_bytes, 0);
  EXPECT_EQ(trials.at(0).plateau_step, 6);
  EXPECT_EQ(trials.at(0).growth_bytes, 1 << 20);
  EXPECT_EQ(trials.at(0).accumulation_steps, 2);
}

TEST_F(StoreTest, FinishedOkOnlyForStatusOkAcrossExperimentsOfTheSameName) {
  Store store = Store::Open(db_path_);
  const auto first =
      store.add_runs(store.begin_experiment(experiment("exp")), {run("a"), run("b")});
  store.finish_run(first[0], ok());
  store.finish_run(first[1], {RunStatus::kCrashed, 0.1, 0, 11, "worker killed by SIGSEGV", ""});
  // A resumed experiment is a new row with the same name.
  store.begin_experiment(experiment("exp"));
  const auto other = store.add_runs(store.begin_experiment(experiment("other")), {run("c")});
  store.finish_run(other[0], ok());

  EXPECT_TRUE(store.finished_ok("exp", "a"));
  EXPECT_FALSE(store.finished_ok("exp", "b"));
  EXPECT_FALSE(store.finished_ok("exp", "c"));
  EXPECT_FALSE(store.finished_ok("other", "a"));
  EXPECT_TRUE(store.finished_ok("other", "c"));
  EXPECT_FALSE(store.finished_ok("missing", "a"));

  // What plan and merge ask of a database: the keys that finished ok, or ended at all.
  const auto pending = store.add_runs(store.begin_experiment(experiment("exp")), {run("d")});
  using Keys = std::vector<std::string>;
  EXPECT_EQ(store.run_keys("exp", Store::KeysThat::kFinishedOk), Keys({"a"}));
  EXPECT_EQ(store.run_keys("exp", Store::KeysThat::kEnded), Keys({"a", "b"}));
  EXPECT_EQ(store.run_keys("it's quoted", Store::KeysThat::kEnded), Keys());
  EXPECT_EQ(pending.size(), 1u);
}

TEST_F(StoreTest, LatestHostJsonIsTheNewestExperimentsMachine) {
  Store store = Store::Open(db_path_);
  EXPECT_EQ(store.latest_host_json("it's"), "");
  ExperimentRecord older = experiment("it's");
  older.host_json = R"({"cpu":"old"})";
  store.begin_experiment(older);
  ExperimentRecord newer = experiment("it's");
  newer.host_json = R"({"cpu":"new"})";
  store.begin_experiment(newer);
  EXPECT_EQ(store.latest_host_json("it's"), R"({"cpu":"new"})");
}

TEST_F(StoreTest, RetriedRunKeyGetsNextAttemptAndPointsToFirst) {
  Store store = Store::Open(db_path_);
  const auto first = store.add_runs(store.begin_experiment(experiment("exp")), {run("a")})[0];
  store.finish_run(first, {RunStatus::kFailed, 0.1, 0, std::nullopt, "loss is NaN", ""});
  const auto second = store.add_runs(store.begin_experiment(experiment("exp")), {run("a")})[0];
  const auto third = store.add_runs(store.begin_experiment(experiment("exp")), {run("a")})[0];
  const auto fresh = store.add_runs(store.begin_experiment(experiment("other")), {run("a")})[0];

  const auto result =
      query_read_only(db_path_, "SELECT id, attempt, parent_run_id FROM runs ORDER BY id");
  ASSERT_EQ(result.rows.size(), 4u);
  const auto id = [](std::int64_t v) { return std::to_string(v); };
  EXPECT_EQ(result.rows[0], (std::vector<std::string>{id(first), "1", "NULL"}));
  EXPECT_EQ(result.rows[1], (std::vector<std::string>{id(second), "2", id(first)}));
  EXPECT_EQ(result.rows[2], (std::vector<std::string>{id(third), "3", id(first)}));
  EXPECT_EQ(result.rows[3], (std::vector<std::string>{id(fresh), "1", "NULL"}));
}

TEST_F(StoreTest, LatestRunsReturnsOnlyTheLatestAttemptPerKey) {
  Store store = Store::Open(db_path_);
  const auto first =
      store.add_runs(store.begin_experiment(experiment("exp")), {run("a"), run("b")});
  store.finish_run(first[0], ok());
  store.finish_run(first[1], {RunStatus::kInterrupted, 0.2, 0, 2, "", ""});
  const auto retry = store.add_runs(store.begin_experiment(experiment("exp")), {run("b")})[0];
  store.finish_run(retry, ok());

  const auto runs = store.latest_runs("exp");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].run_id, first[0]);
  EXPECT_EQ(runs[0].attempt, 1);
  EXPECT_EQ(runs[1].run_id, retry);
  EXPECT_EQ(runs[1].run_key, "b");
  EXPECT_EQ(runs[1].attempt, 2);
  EXPECT_EQ(runs[1].status, RunStatus::kOk);
  EXPECT_TRUE(store.latest_runs("nothing").empty());
}

TEST_F(StoreTest, ParamsStoreNumbersNumericallyAndStringsAsText) {
  Store store = Store::Open(db_path_);
  store.add_runs(store.begin_experiment(experiment("exp")), {run("a")});

  SQLite::Database raw(db_path_, SQLite::OPEN_READONLY);
  SQLite::Statement query(raw, "SELECT key, value_text, value_num FROM params ORDER BY key");
  ASSERT_TRUE(query.executeStep());
  EXPECT_EQ(query.getColumn(0).getString(), "train.batch_size");
  EXPECT_EQ(query.getColumn(1).getString(), "4");
  EXPECT_TRUE(query.getColumn(2).isFloat());
  EXPECT_DOUBLE_EQ(query.getColumn(2).getDouble(), 4.0);
  ASSERT_TRUE(query.executeStep());
  EXPECT_EQ(query.getColumn(0).getString(), "train.optimizer");
  EXPECT_EQ(query.getColumn(1).getString(), "adam");
  EXPECT_TRUE(query.getColumn(2).isNull());
  EXPECT_FALSE(query.executeStep());

  // What users do with it: compare numerically.
  EXPECT_EQ(query_read_only(db_path_, "SELECT COUNT(*) FROM params WHERE value_num > 3").rows,
            (std::vector<std::vector<std::string>>{{"1"}}));
}

TEST_F(StoreTest, AddRunsIsAllOrNothing) {
  Store store = Store::Open(db_path_);
  const auto experiment_id = store.begin_experiment(experiment("exp"));
  RunRecord broken = run("b");
  broken.params.push_back(broken.params.front());  // duplicate key violates the primary key
  EXPECT_THROW(store.add_runs(experiment_id, {run("a"), broken}), StoreError);
  EXPECT_TRUE(store.latest_runs("exp").empty());
  EXPECT_THROW(store.add_runs(experiment_id + 100, {run("a")}), StoreError);
}

TEST_F(StoreTest, WritingToAnUnknownRunNamesTheRunAndFile) {
  Store store = Store::Open(db_path_);
  try {
    store.finish_run(77, ok());
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), "run 77"));
    EXPECT_TRUE(contains(e.what(), db_path_));
  }
  // Foreign keys are on: an epoch cannot belong to no run.
  EXPECT_THROW(store.record_epoch(77, epoch(1, 1, 1, 1, 1)), StoreError);
}

TEST_F(StoreTest, QueryReturnsColumnsAndFormattedRows) {
  Store store = Store::Open(db_path_);
  store.begin_experiment(experiment("exp"));
  const auto result = query_read_only(
      db_path_, "SELECT name, 1.0/3, 12345678901234, NULL AS missing, 2.5 FROM experiments");
  EXPECT_EQ(result.columns,
            (std::vector<std::string>{"name", "1.0/3", "12345678901234", "missing", "2.5"}));
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_EQ(result.rows[0],
            (std::vector<std::string>{"exp", "0.333333", "12345678901234", "NULL", "2.5"}));

  const auto summary = query_read_only(db_path_, "SELECT * FROM run_summary");
  EXPECT_EQ(summary.columns, (std::vector<std::string>{"experiment",
                                                       "run_id",
                                                       "run_key",
                                                       "swept",
                                                       "repeat",
                                                       "attempt",
                                                       "status",
                                                       "epochs",
                                                       "wall_s",
                                                       "epoch_s",
                                                       "samples_per_s",
                                                       "train_loss",
                                                       "val_accuracy",
                                                       "peak_rss_bytes",
                                                       "error",
                                                       "batch_size",
                                                       "stop_layer",
                                                       "step_median_s",
                                                       "step_p95_s",
                                                       "data_fraction",
                                                       "backend",
                                                       "log_path",
                                                       "config_key",
                                                       "val_loss",
                                                       "median_epoch_s",
                                                       "median_epoch_low_s",
                                                       "median_epoch_high_s",
                                                       "other_cpu_cores",
                                                       "run_queue",
                                                       "busy",
                                                       "projected_s",
                                                       "start_s",
                                                       "step_dispersion",
                                                       "median_samples_per_s"}));
}

TEST_F(StoreTest, QueryRefusesWritesAndLeavesDataIntact) {
  {
    Store store = Store::Open(db_path_);
    store.begin_experiment(experiment("exp"));
  }
  for (const std::string sql :
       {"INSERT INTO experiments(name, created_at) VALUES('x', 'now')", "DROP TABLE runs",
        "DELETE FROM experiments", "PRAGMA user_version = 5"}) {
    try {
      query_read_only(db_path_, sql);
      ADD_FAILURE() << "expected StoreError for " << sql;
    } catch (const StoreError& e) {
      EXPECT_TRUE(contains(e.what(), "read-only")) << sql;
      EXPECT_TRUE(contains(e.what(), db_path_)) << sql;
    }
  }
  Store store = Store::Open(db_path_);
  EXPECT_EQ(store.latest_experiment_name(), "exp");
  EXPECT_EQ(store.schema_version(), kSchemaVersion);
  EXPECT_EQ(query_read_only(db_path_, "SELECT COUNT(*) FROM experiments").rows.at(0).at(0), "1");
}

TEST_F(StoreTest, QueryRefusesASecondStatement) {
  { Store::Open(db_path_).begin_experiment(experiment("exp")); }
  try {
    query_read_only(db_path_, "SELECT 1; DELETE FROM experiments");
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), "one SQL statement"));
  }
  // A trailing semicolon or comment is still one statement.
  EXPECT_EQ(query_read_only(db_path_, "SELECT COUNT(*) FROM experiments; -- done").rows.at(0).at(0),
            "1");
}

TEST_F(StoreTest, QueryReportsInvalidSql) {
  { Store::Open(db_path_); }
  try {
    query_read_only(db_path_, "SELECT * FROM no_such_table");
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), "query failed"));
    EXPECT_TRUE(contains(e.what(), "no such table: no_such_table"));
  }
  EXPECT_THROW(query_read_only(db_path_, "SELEC 1"), StoreError);
  EXPECT_THROW(query_read_only(db_path_, "  "), StoreError);
}

TEST_F(StoreTest, QueryOnMissingFileSaysSoAndDoesNotCreateIt) {
  const std::string missing = (dir_ / "missing.db").string();
  try {
    query_read_only(missing, "SELECT 1");
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), "cannot open database '" + missing + "'"));
    EXPECT_TRUE(contains(e.what(), "orch run"));
  }
  EXPECT_FALSE(fs::exists(missing));
}

TEST_F(StoreTest, QueryReadsWhileTheStoreIsOpen) {
  Store store = Store::Open(db_path_);
  store.add_runs(store.begin_experiment(experiment("exp")), {run("a")});
  EXPECT_EQ(query_read_only(db_path_, "SELECT run_key FROM runs").rows.at(0).at(0), "a");
}

TEST_F(StoreTest, OpenInMissingDirectoryThrowsNamingThePath) {
  const std::string path = (dir_ / "no_such_dir" / "orch.db").string();
  try {
    Store::Open(path);
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), path));
    EXPECT_TRUE(contains(e.what(), "does not exist"));
  }
  EXPECT_FALSE(fs::exists(dir_ / "no_such_dir"));
}

TEST_F(StoreTest, OpenOnADirectoryThrowsNamingThePath) {
  try {
    Store::Open(dir_.string());
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), dir_.string()));
    EXPECT_TRUE(contains(e.what(), "directory"));
  }
}

TEST_F(StoreTest, OpenOnANonDatabaseFileThrowsAndLeavesItUntouched) {
  const std::string toml = (dir_ / "exp.toml").string();
  const std::string content = "[experiment]\nname = \"quickstart\"\n";
  { std::ofstream(toml) << content; }
  EXPECT_THROW(Store::Open(toml), StoreError);
  std::stringstream after;
  after << std::ifstream(toml).rdbuf();
  EXPECT_EQ(after.str(), content);
}

TEST_F(StoreTest, LatestExperimentNameIsTheLastStarted) {
  Store store = Store::Open(db_path_);
  EXPECT_EQ(store.latest_experiment_name(), "");
  store.begin_experiment(experiment("first"));
  store.begin_experiment(experiment("second"));
  EXPECT_EQ(store.latest_experiment_name(), "second");
  store.begin_experiment(experiment("first"));
  EXPECT_EQ(store.latest_experiment_name(), "first");
}

TEST_F(StoreTest, VersionOneDatabaseMigratesKeepingItsRows) {
  {
    // Exactly what the previous orch left behind: the v1 schema and one pending run with an epoch.
    SQLite::Database raw(db_path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec(migration_sql(0));
    raw.exec("PRAGMA user_version = 1");
    raw.exec(
        "INSERT INTO experiments(id, name, created_at, host) "
        "VALUES(1, 'old', '2024-01-01T00:00:00Z', '{}')");
    raw.exec(
        "INSERT INTO runs(id, experiment_id, run_key, swept, status, wall_s) "
        "VALUES(7, 1, 'bs=4', 'train.batch_size=4', 'ok', 2.5)");
    raw.exec(
        "INSERT INTO runs(id, experiment_id, run_key, status) VALUES(8, 1, 'bs=8', 'pending')");
    raw.exec("INSERT INTO epochs(run_id, epoch, seconds, train_loss) VALUES(7, 1, 2.0, 0.5)");
  }

  Store store = Store::Open(db_path_);
  EXPECT_EQ(store.schema_version(), kSchemaVersion);
  EXPECT_EQ(store.latest_experiment_name(), "old");

  const auto runs = store.latest_runs("old");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].run_id, 7);
  EXPECT_EQ(runs[0].swept, "train.batch_size=4");
  EXPECT_EQ(runs[0].status, RunStatus::kOk);
  EXPECT_EQ(runs[0].epochs, 1);
  EXPECT_DOUBLE_EQ(runs[0].train_loss, 0.5);
  EXPECT_EQ(runs[0].batch_size, 0);
  EXPECT_EQ(runs[0].stop_layer, "");

  EXPECT_EQ(query_read_only(db_path_,
                            "SELECT memory_key, budget_bytes, batch_size, stop_layer FROM runs "
                            "WHERE id = 7")
                .rows.at(0),
            strings({"NULL", "NULL", "NULL", "NULL"}));
  EXPECT_EQ(query_read_only(db_path_, "SELECT host_pid, hostname FROM experiments").rows.at(0),
            strings({"NULL", "NULL"}));
  EXPECT_EQ(query_read_only(
                db_path_, "SELECT run_id, batch_size, stop_layer FROM run_summary ORDER BY run_id")
                .rows,
            (std::vector<std::vector<std::string>>{strings({"7", "NULL", "NULL"}),
                                                   strings({"8", "NULL", "NULL"})}));

  // The old pending run is reported as abandoned, with no host to check it against.
  const auto unfinished = store.unfinished_runs("old");
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_EQ(unfinished[0].run_id, 8);
  EXPECT_EQ(unfinished[0].host_pid, 0);
  EXPECT_EQ(unfinished[0].hostname, "");

  // The new tables exist and work on the migrated file.
  EXPECT_EQ(query_read_only(db_path_,
                            "SELECT name FROM sqlite_master WHERE name IN ('probe_trials', "
                            "'probe_answers', 'runs_memory_key_budget') ORDER BY name")
                .rows,
            (std::vector<std::vector<std::string>>{
                {"probe_answers"}, {"probe_trials"}, {"runs_memory_key_budget"}}));
  store.record_probe_trial(trial(8, RunStatus::kOk, 100));
  store.record_probe_answer("mlp/synthetic/cpu/adam", 1 << 30, {8});
  EXPECT_EQ(store.probe_trials("mlp/synthetic/cpu/adam", 1 << 30).size(), 1u);
  EXPECT_EQ(store.probe_answer("mlp/synthetic/cpu/adam", 1 << 30)->max_batch_size, 8);
}

TEST_F(StoreTest, MigratedDatabaseHasTheSameSchemaAsANewOne) {
  const std::string fresh_path = (dir_ / "fresh.db").string();
  { Store::Open(fresh_path); }
  {
    SQLite::Database raw(db_path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec(migration_sql(0));
    raw.exec("PRAGMA user_version = 1");
  }
  { Store::Open(db_path_); }
  // Columns added by ALTER TABLE print differently in sqlite_master, so compare column lists.
  const std::string columns =
      "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master m, "
      "pragma_table_info(m.name) p ORDER BY m.name, p.cid";
  EXPECT_EQ(query_read_only(db_path_, columns).rows, query_read_only(fresh_path, columns).rows);
  const std::string names = "SELECT type, name FROM sqlite_master ORDER BY name";
  EXPECT_EQ(query_read_only(db_path_, names).rows, query_read_only(fresh_path, names).rows);
}

TEST_F(StoreTest, BeginExperimentStoresHostPidAndHostname) {
  Store store = Store::Open(db_path_);
  ExperimentRecord record = experiment("exp");
  record.host_pid = 31337;
  record.hostname = "gpu-box-3";
  store.begin_experiment(record);
  // Unknown host details stay NULL rather than 0 or ''.
  store.begin_experiment(experiment("other"));

  EXPECT_EQ(
      query_read_only(db_path_, "SELECT name, host_pid, hostname FROM experiments ORDER BY id")
          .rows,
      (std::vector<std::vector<std::string>>{strings({"exp", "31337", "gpu-box-3"}),
                                             strings({"other", "NULL", "NULL"})}));
}

TEST_F(StoreTest, MemoryKeyBudgetBatchAndStopLayerShowInLatestRunsAndRunSummary) {
  Store store = Store::Open(db_path_);
  const auto ids = store.add_runs(
      store.begin_experiment(experiment("exp")),
      {sized_run("bs=64", "mlp/cpu", 1 << 30, 64), sized_run("bs=8", "mlp/cpu", 1 << 30, 8)});
  store.finish_run(ids[0], outcome(RunStatus::kOom, "cgroup"));
  store.finish_run(ids[1], ok());

  const auto runs = store.latest_runs("exp");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].batch_size, 64);
  EXPECT_EQ(runs[0].status, RunStatus::kOom);
  EXPECT_EQ(runs[0].stop_layer, "cgroup");
  EXPECT_EQ(runs[1].batch_size, 8);
  EXPECT_EQ(runs[1].stop_layer, "");

  EXPECT_EQ(
      query_read_only(db_path_,
                      "SELECT memory_key, budget_bytes, batch_size, stop_layer FROM runs "
                      "ORDER BY id")
          .rows,
      (std::vector<std::vector<std::string>>{strings({"mlp/cpu", "1073741824", "64", "cgroup"}),
                                             strings({"mlp/cpu", "1073741824", "8", "NULL"})}));
  EXPECT_EQ(query_read_only(db_path_,
                            "SELECT run_key, status, batch_size, stop_layer FROM run_summary "
                            "ORDER BY run_id")
                .rows,
            (std::vector<std::vector<std::string>>{strings({"bs=64", "oom", "64", "cgroup"}),
                                                   strings({"bs=8", "ok", "8", "NULL"})}));
}

TEST_F(StoreTest, UnfinishedRunsArePendingOrRunningOfThatNameOnly) {
  Store store = Store::Open(db_path_);
  ExperimentRecord record = experiment("exp");
  record.host_pid = 4242;
  record.hostname = "box";
  const auto ids = store.add_runs(
      store.begin_experiment(record),
      {run("pending"), run("running"), run("ok"), run("failed"), run("interrupted")});
  store.mark_running(ids[1], 100);
  store.mark_running(ids[2], 101);
  store.finish_run(ids[2], ok());
  store.finish_run(ids[3], outcome(RunStatus::kFailed));
  store.finish_run(ids[4], outcome(RunStatus::kInterrupted));
  const auto other = store.add_runs(store.begin_experiment(experiment("other")), {run("x")});
  // A later orch on the same experiment name left a run of its own.
  ExperimentRecord resumed = experiment("exp");
  resumed.host_pid = 5151;
  resumed.hostname = "box2";
  const auto later = store.add_runs(store.begin_experiment(resumed), {run("later")});

  const auto unfinished = store.unfinished_runs("exp");
  ASSERT_EQ(unfinished.size(), 3u);
  EXPECT_EQ(unfinished[0].run_id, ids[0]);
  EXPECT_EQ(unfinished[0].status, RunStatus::kPending);
  EXPECT_EQ(unfinished[0].host_pid, 4242);
  EXPECT_EQ(unfinished[0].hostname, "box");
  EXPECT_EQ(unfinished[1].run_id, ids[1]);
  EXPECT_EQ(unfinished[1].status, RunStatus::kRunning);
  EXPECT_EQ(unfinished[2].run_id, later[0]);
  EXPECT_EQ(unfinished[2].host_pid, 5151);
  EXPECT_EQ(unfinished[2].hostname, "box2");

  ASSERT_EQ(store.unfinished_runs("other").size(), 1u);
  EXPECT_EQ(store.unfinished_runs("other")[0].run_id, other[0]);
  EXPECT_TRUE(store.unfinished_runs("missing").empty());
}

TEST_F(StoreTest, SmallestOomBatchIsTheMinimumOverOomRunsOfTheSameKeyAndBudget) {
  Store store = Store::Open(db_path_);
  constexpr std::int64_t kBudget = 1 << 30;
  EXPECT_EQ(store.smallest_oom_batch("mlp", kBudget), std::nullopt);

  const auto first =
      store.add_runs(store.begin_experiment(experiment("exp")),
                     {sized_run("a", "mlp", kBudget, 128), sized_run("b", "mlp", kBudget, 64),
                      sized_run("c", "mlp", kBudget, 16), sized_run("d", "cnn", kBudget, 8),
                      sized_run("e", "mlp", kBudget / 2, 4), sized_run("f", "mlp", kBudget, 0)});
  store.finish_run(first[0], outcome(RunStatus::kOom, "cgroup"));
  store.finish_run(first[1], outcome(RunStatus::kOom, "allocator"));
  store.finish_run(first[2], ok());                                // not oom: ignored
  store.finish_run(first[3], outcome(RunStatus::kOom, "cgroup"));  // other key: ignored
  store.finish_run(first[4], outcome(RunStatus::kOom, "cgroup"));  // other budget: ignored
  store.finish_run(first[5], outcome(RunStatus::kOom, "cgroup"));  // batch size unknown: ignored
  // Another experiment counts too, and a timeout is not an oom.
  const auto second =
      store.add_runs(store.begin_experiment(experiment("other")),
                     {sized_run("g", "mlp", kBudget, 32), sized_run("h", "mlp", kBudget, 2)});
  store.finish_run(second[0], outcome(RunStatus::kOom, "watchdog"));
  store.finish_run(second[1], outcome(RunStatus::kTimeout, "timeout"));

  EXPECT_EQ(store.smallest_oom_batch("mlp", kBudget), 32);
  EXPECT_EQ(store.smallest_oom_batch("cnn", kBudget), 8);
  EXPECT_EQ(store.smallest_oom_batch("mlp", kBudget / 2), 4);
  EXPECT_EQ(store.smallest_oom_batch("cnn", kBudget / 2), std::nullopt);
  EXPECT_EQ(store.smallest_oom_batch("rnn", kBudget), std::nullopt);
}

TEST_F(StoreTest, ProbeTrialsRoundTripInTheOrderRecorded) {
  Store store = Store::Open(db_path_);
  store.record_probe_trial(trial(64, RunStatus::kOom, 900, "cgroup", "killed by the cgroup"));
  store.record_probe_trial(trial(8, RunStatus::kOk, 200));
  store.record_probe_trial(trial(32, RunStatus::kOk, 600));
  ProbeTrial elsewhere = trial(4, RunStatus::kOk, 50);
  elsewhere.budget_bytes = 1 << 20;
  store.record_probe_trial(elsewhere);

  const auto trials = store.probe_trials("mlp/synthetic/cpu/adam", 1 << 30);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].memory_key, "mlp/synthetic/cpu/adam");
  EXPECT_EQ(trials[0].budget_bytes, 1 << 30);
  EXPECT_EQ(trials[0].batch_size, 64);
  EXPECT_EQ(trials[0].status, RunStatus::kOom);
  EXPECT_EQ(trials[0].peak_rss_bytes, 900);
  EXPECT_EQ(trials[0].stop_layer, "cgroup");
  EXPECT_EQ(trials[0].error, "killed by the cgroup");
  EXPECT_EQ(trials[1].batch_size, 8);
  EXPECT_EQ(trials[1].stop_layer, "");
  EXPECT_EQ(trials[1].error, "");
  EXPECT_EQ(trials[2].batch_size, 32);
  EXPECT_EQ(trials[2].peak_rss_bytes, 600);

  ASSERT_EQ(store.probe_trials("mlp/synthetic/cpu/adam", 1 << 20).size(), 1u);
  EXPECT_TRUE(store.probe_trials("unknown", 1 << 30).empty());
  EXPECT_EQ(query_read_only(db_path_,
                            "SELECT COUNT(*) FROM probe_trials WHERE stop_layer IS NULL AND "
                            "created_at GLOB '[0-9][0-9][0-9][0-9]-*Z'")
                .rows.at(0)
                .at(0),
            "3");
}

TEST_F(StoreTest, ASecondProbeAnswerReplacesTheFirst) {
  Store store = Store::Open(db_path_);
  store.record_probe_answer("mlp", 1 << 30, {32});
  store.record_probe_answer("mlp", 1 << 20, {2});
  store.record_probe_answer("mlp", 1 << 30, {48});

  EXPECT_EQ(store.probe_answer("mlp", 1 << 30)->max_batch_size, 48);
  EXPECT_EQ(store.probe_answer("mlp", 1 << 20)->max_batch_size, 2);
  EXPECT_EQ(query_read_only(db_path_, "SELECT COUNT(*) FROM probe_answers").rows.at(0).at(0), "2");
}

TEST_F(StoreTest, ProbeAnswerIsNothingForAnUnknownKeyOrBudget) {
  Store store = Store::Open(db_path_);
  EXPECT_EQ(store.probe_answer("mlp", 1 << 30), std::nullopt);
  store.record_probe_answer("mlp", 1 << 30, {32});
  EXPECT_EQ(store.probe_answer("cnn", 1 << 30), std::nullopt);
  EXPECT_EQ(store.probe_answer("mlp", 1 << 20), std::nullopt);
}

TEST_F(StoreTest, ProbeAndSummaryErrorsNameTheFile) {
  Store store = Store::Open(db_path_);
  {
    // A damaged file: someone dropped the probe tables behind orch's back.
    SQLite::Database raw(db_path_, SQLite::OPEN_READWRITE);
    raw.exec("DROP TABLE probe_trials; DROP TABLE probe_answers; DROP VIEW run_summary");
  }
  const auto expect_store_error = [&](const char* what, auto&& call) {
    try {
      call();
      ADD_FAILURE() << "expected StoreError from " << what;
    } catch (const StoreError& e) {
      EXPECT_TRUE(contains(e.what(), db_path_)) << what;
    }
  };
  expect_store_error("record_probe_trial",
                     [&] { store.record_probe_trial(trial(8, RunStatus::kOk, 1)); });
  expect_store_error("probe_trials", [&] { store.probe_trials("mlp", 1); });
  expect_store_error("record_probe_answer", [&] { store.record_probe_answer("mlp", 1, {8}); });
  expect_store_error("probe_answer", [&] { store.probe_answer("mlp", 1); });
  expect_store_error("latest_runs", [&] { store.latest_runs("exp"); });
}

}  // namespace
}  // namespace orch::storage

namespace orch::storage {
namespace {

class StoreV3Test : public orch::testing::FreshDirectoryTest {
 protected:
  void SetUp() override {
    FreshDirectoryTest::SetUp();
    db_path_ = path("orch.db");
  }

  // One finished run with batch size `batch` and two epochs of step timings.
  std::int64_t finished_run(Store& store, std::int64_t experiment_id, const std::string& key,
                            double batch, double epoch_seconds) {
    RunRecord record;
    record.run_key = key;
    record.params = {{"train.batch_size", std::to_string(batch), batch},
                     {"model.plugin", "mlp", std::nullopt}};
    auto id = store.add_runs(experiment_id, {record})[0];
    store.mark_running(id, 42, "cpu, 2 intra-op threads");
    store.set_log_path(id, "/tmp/run.log");
    for (int n = 1; n <= 2; ++n) {
      EpochRecord e;
      e.epoch = n;
      e.seconds = epoch_seconds;
      e.data_seconds = epoch_seconds / 4;
      e.compute_seconds = epoch_seconds * 3 / 4;
      e.step_median_s = 0.01 * n;
      e.step_p95_s = 0.02 * n;
      e.samples_per_s = 1000 / epoch_seconds;
      e.step_seconds = {0.01, 0.02, 0.03};
      store.record_epoch(id, e);
    }
    store.finish_run(id, {RunStatus::kOk, 3.0, 1 << 20, std::nullopt, "", ""});
    return id;
  }

  std::string db_path_;
};

TEST_F(StoreV3Test, StepTimesAreKeptInOrderAndRewritingAnEpochDoesNotDuplicateThem) {
  Store store = Store::Open(db_path_);
  auto experiment_id = store.begin_experiment({"e", "", "", "", "{}", 1, "h"});
  auto id = finished_run(store, experiment_id, "k1", 8, 2.0);
  EXPECT_EQ(store.metric_values(id, "step_s"),
            (std::vector<double>{0.01, 0.02, 0.03, 0.01, 0.02, 0.03}));
  EpochRecord again;
  again.epoch = 1;
  again.step_seconds = {0.01, 0.02, 0.03};
  store.record_epoch(id, again);
  EXPECT_EQ(store.metric_values(id, "step_s").size(), 6u);
}

TEST_F(StoreV3Test, ARewrittenEpochKeepsOnlyItsNewStepsAndLongEpochsKeepEveryStep) {
  Store store = Store::Open(db_path_);
  auto experiment_id = store.begin_experiment({"e", "", "", "", "{}", 1, "h"});
  auto id = store.add_runs(experiment_id, {RunRecord{}})[0];
  EpochRecord long_epoch;
  long_epoch.epoch = 1;
  // More steps than one INSERT statement carries, and not a multiple of it.
  for (int i = 0; i < 2503; ++i) long_epoch.step_seconds.push_back(i * 1e-3);
  store.record_epoch(id, long_epoch);
  EXPECT_EQ(store.metric_values(id, "step_s"), long_epoch.step_seconds);
  EpochRecord shorter = long_epoch;
  shorter.step_seconds = {0.5, 0.25};
  store.record_epoch(id, shorter);
  EXPECT_EQ(store.metric_values(id, "step_s"), (std::vector<double>{0.5, 0.25}));
}

TEST_F(StoreV3Test, SummaryCarriesStepDistributionDataShareBackendAndLog) {
  Store store = Store::Open(db_path_);
  auto experiment_id = store.begin_experiment({"e", "", "", "", "{}", 1, "h"});
  finished_run(store, experiment_id, "k1", 8, 2.0);
  auto runs = store.latest_runs("e");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_DOUBLE_EQ(runs[0].step_median_s, 0.015);  // mean of the epochs' medians
  EXPECT_DOUBLE_EQ(runs[0].step_p95_s, 0.03);
  EXPECT_DOUBLE_EQ(runs[0].data_fraction, 0.25);
  EXPECT_EQ(runs[0].backend, "cpu, 2 intra-op threads");
  EXPECT_EQ(runs[0].log_path, "/tmp/run.log");
}

TEST_F(StoreV3Test, RunsFlatPivotsCommonParametersAndBestRunsPicksTheFastest) {
  {
    Store store = Store::Open(db_path_);
    auto experiment_id = store.begin_experiment({"e", "", "", "", "{}", 1, "h"});
    finished_run(store, experiment_id, "slow", 4, 3.0);
    finished_run(store, experiment_id, "fast", 16, 1.0);
  }
  auto flat = query_read_only(
      db_path_, "SELECT batch_size, model, epoch_s FROM runs_flat ORDER BY batch_size");
  ASSERT_EQ(flat.rows.size(), 2u);
  EXPECT_EQ(flat.rows[0], (std::vector<std::string>{"4", "mlp", "3"}));
  auto best = query_read_only(db_path_, "SELECT run_key, batch_size FROM best_runs");
  ASSERT_EQ(best.rows.size(), 1u);
  EXPECT_EQ(best.rows[0], (std::vector<std::string>{"fast", "16"}));
}

// ---- claims: two orch processes on one database ----

ExperimentRecord orch_on(const std::string& name, const std::string& host, int pid) {
  ExperimentRecord record{name, "exp.toml", "", "", "{}", pid, host};
  return record;
}

TEST_F(StoreTest, APointClaimedByALiveOrchIsHeldForItAndFinishedPointsAreNotClaimed) {
  Store first = Store::Open(db_path_);
  Store second = Store::Open(db_path_);  // another process's connection to the same file
  const std::int64_t a = first.begin_experiment(orch_on("exp", "node-a", 11));
  const std::int64_t b = second.begin_experiment(orch_on("exp", "node-b", 22));

  EXPECT_EQ(first.claim_run(a, "k1", 60).outcome, ClaimOutcome::kClaimed);
  Claim held = second.claim_run(b, "k1", 60);
  EXPECT_EQ(held.outcome, ClaimOutcome::kHeld);
  EXPECT_TRUE(contains(held.holder, "node-a"));
  EXPECT_TRUE(contains(held.holder, "11"));
  // Claiming again is harmless for its holder.
  EXPECT_EQ(first.claim_run(a, "k1", 60).outcome, ClaimOutcome::kClaimed);

  const std::int64_t id = first.add_runs(a, {run("k1")})[0];
  first.finish_run(id, {RunStatus::kOk, 1.0, 1, std::nullopt, "", ""});
  first.release_claim(a, "k1");
  EXPECT_EQ(second.claim_run(b, "k1", 60).outcome, ClaimOutcome::kFinished);
  EXPECT_TRUE(second.claims("exp").empty());
}

TEST_F(StoreTest, AClaimWhoseOrchWentSilentIsTakenOverAndItsRunMarkedInterrupted) {
  Store first = Store::Open(db_path_);
  Store second = Store::Open(db_path_);
  const std::int64_t a = first.begin_experiment(orch_on("exp", "node-a", 11));
  const std::int64_t b = second.begin_experiment(orch_on("exp", "node-b", 22));
  ASSERT_EQ(first.claim_run(a, "k1", 60).outcome, ClaimOutcome::kClaimed);
  const std::int64_t abandoned = first.add_runs(a, {run("k1")})[0];
  first.mark_running(abandoned, 123);
  {
    // Its last heartbeat was two minutes ago.
    SQLite::Database raw(db_path_, SQLite::OPEN_READWRITE);
    raw.exec("UPDATE experiments SET heartbeat_at = heartbeat_at - 120 WHERE id = " +
             std::to_string(a));
  }
  EXPECT_EQ(second.claim_run(b, "k1", 600).outcome, ClaimOutcome::kHeld);  // within 10 min
  Claim taken = second.claim_run(b, "k1", 60);
  EXPECT_EQ(taken.outcome, ClaimOutcome::kClaimed);
  EXPECT_TRUE(contains(taken.taken_from, "node-a"));
  EXPECT_TRUE(contains(taken.taken_from, "silent for 12"));  // 120 s and a little

  auto claims = second.claims("exp");
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].experiment_id, b);
  EXPECT_LT(claims[0].heartbeat_age_s, 60);
  SQLite::Database raw(db_path_, SQLite::OPEN_READONLY);
  SQLite::Statement row(raw,
                        "SELECT status, error FROM runs WHERE id = " + std::to_string(abandoned));
  ASSERT_TRUE(row.executeStep());
  EXPECT_EQ(row.getColumn(0).getString(), "interrupted");
  EXPECT_TRUE(contains(row.getColumn(1).getString(), "heartbeat"));
}

TEST_F(StoreTest, HeartbeatKeepsAClaimFreshAndDroppedClaimsFreeThePoints) {
  Store store = Store::Open(db_path_);
  const std::int64_t a = store.begin_experiment(orch_on("exp", "node-a", 11));
  const std::int64_t b = store.begin_experiment(orch_on("exp", "node-b", 22));
  ASSERT_EQ(store.claim_run(a, "k1", 60).outcome, ClaimOutcome::kClaimed);
  ASSERT_EQ(store.claim_run(a, "k2", 60).outcome, ClaimOutcome::kClaimed);
  {
    SQLite::Database raw(db_path_, SQLite::OPEN_READWRITE);
    raw.exec("UPDATE experiments SET heartbeat_at = heartbeat_at - 120");
  }
  store.heartbeat(a);
  EXPECT_EQ(store.claim_run(b, "k1", 60).outcome, ClaimOutcome::kHeld);
  store.drop_claims(a);
  EXPECT_EQ(store.claim_run(b, "k1", 60).outcome, ClaimOutcome::kClaimed);
  EXPECT_EQ(store.claim_run(b, "k2", 60).outcome, ClaimOutcome::kClaimed);
}

TEST_F(StoreTest, EveryRowHasAUidThatIsUniqueAndTimestampsHaveMilliseconds) {
  Store store = Store::Open(db_path_);
  const std::int64_t a = store.begin_experiment(experiment("exp"));
  auto ids = store.add_runs(a, {run("k1"), run("k2")});
  store.mark_running(ids[0], 5, "cpu", "0-1");
  SQLite::Database raw(db_path_, SQLite::OPEN_READONLY);
  EXPECT_EQ(raw.execAndGet("SELECT COUNT(DISTINCT uid) FROM runs WHERE length(uid) = 32").getInt(),
            2);
  EXPECT_EQ(raw.execAndGet("SELECT COUNT(*) FROM experiments WHERE length(uid) = 32").getInt(), 1);
  EXPECT_EQ(
      raw.execAndGet("SELECT cpu_set FROM runs WHERE id = " + std::to_string(ids[0])).getString(),
      "0-1");
  // 2026-11-22T14:35:31.274Z
  EXPECT_EQ(
      raw.execAndGet("SELECT length(started_at) FROM runs WHERE id = " + std::to_string(ids[0]))
          .getInt(),
      24);
}

TEST_F(StoreTest, LatestRunsShowsThePointsOkRunEvenWhenAnotherOrchRecordedALaterFailure) {
  Store store = Store::Open(db_path_);
  const std::int64_t a = store.begin_experiment(experiment("exp"));
  const std::int64_t ok = store.add_runs(a, {run("k1")})[0];
  store.finish_run(ok, {RunStatus::kOk, 1.0, 1, std::nullopt, "", ""});
  const std::int64_t later = store.add_runs(a, {run("k1")})[0];
  store.finish_run(later, {RunStatus::kInterrupted, 0, 0, std::nullopt, "not started", ""});
  auto latest = store.latest_runs("exp");
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].run_id, ok);
}
}  // namespace
}  // namespace orch::storage
