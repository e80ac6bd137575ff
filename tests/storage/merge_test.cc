// Merging shard databases into the main one: real SQLite files written through Store, as
// the array tasks of `orch submit` write them, then read back as a user would.
#include "storage/merge.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "storage/store.h"
#include "tests/support/unit_test_support.h"

namespace orch::storage {
namespace {

namespace fs = std::filesystem;

using orch::testing::contains;

class MergeTest : public orch::testing::FreshDirectoryTest {
 protected:
  void SetUp() override {
    FreshDirectoryTest::SetUp();
    main_ = path("orch.db");
  }

  static ExperimentRecord experiment(const std::string& shard = "") {
    return {"sweep",
            "/exp/sweep.toml",
            "[experiment]\nname = \"sweep\"\n",
            "abc123",
            R"({"cpu":"test"})",
            4242,
            "node7",
            shard};
  }

  static RunRecord run(const std::string& key, std::int64_t batch_size = 4) {
    RunRecord r;
    r.run_key = key;
    r.params_json = R"({"train.batch_size":)" + std::to_string(batch_size) + "}";
    r.params = {{"train.batch_size", std::to_string(batch_size), double(batch_size)},
                {"train.optimizer", "adam", std::nullopt}};
    r.swept = "train.batch_size=" + std::to_string(batch_size);
    r.memory_key = "mem";
    r.budget_bytes = 1ll << 30;
    r.batch_size = batch_size;
    r.config_key = key + "-config";
    return r;
  }

  // A run that went through a worker: started, two epochs with step times, finished.
  static std::int64_t run_to_end(Store& store, std::int64_t experiment_id, const std::string& key,
                                 RunStatus status, std::int64_t batch_size = 4) {
    const std::int64_t id = store.add_runs(experiment_id, {run(key, batch_size)}).at(0);
    store.mark_running(id, 999, "cpu, 1 intra-op thread", "0");
    for (int e = 1; e <= 2; ++e) {
      EpochRecord epoch;
      epoch.epoch = e;
      epoch.seconds = 0.5 * e;
      epoch.samples_per_s = 100;
      epoch.train_loss = 1.0 / e;
      epoch.val_accuracy = 0.5;
      epoch.steps = 3;
      epoch.step_seconds = {0.1, 0.2, 0.3};
      store.record_epoch(id, epoch);
    }
    store.finish_run(id, {status, 1.5, 100 << 20, std::nullopt,
                          status == RunStatus::kOk ? "" : "out of memory\nat step 3", ""});
    return id;
  }

  static std::int64_t count(const std::string& db, const std::string& sql) {
    SQLite::Database database(db, SQLite::OPEN_READONLY);
    return database.execAndGet(sql).getInt64();
  }
  static std::string text(const std::string& db, const std::string& sql) {
    SQLite::Database database(db, SQLite::OPEN_READONLY);
    SQLite::Statement query(database, sql);
    if (!query.executeStep() || query.getColumn(0).isNull()) return "";
    return query.getColumn(0).getString();
  }

  // Every count a user would look at, to compare before and after.
  std::vector<std::int64_t> counts(const std::string& db) const {
    std::vector<std::int64_t> all;
    for (const char* table : {"experiments", "runs", "params", "epochs", "metrics", "probe_answers",
                              "probe_trials", "claims"}) {
      all.push_back(count(db, std::string("SELECT COUNT(*) FROM ") + table));
    }
    return all;
  }

  std::string main_;
};

TEST_F(MergeTest, CopiesFinishedRunsWithTheirParamsEpochsMetricsAndExperiment) {
  const std::string shard_path = path("shard-0.db");
  {
    Store shard = Store::Open(shard_path);
    const std::int64_t experiment_id = shard.begin_experiment(experiment("0/2"));
    run_to_end(shard, experiment_id, "k4", RunStatus::kOk, 4);
    run_to_end(shard, experiment_id, "k8", RunStatus::kOom, 8);
    shard.record_probe_trial({"mem", 1ll << 30, 16, RunStatus::kOom, 1 << 30, "cgroup", "too big"});
    shard.record_probe_answer("mem", 1ll << 30, {8});
    ASSERT_EQ(shard.claim_run(experiment_id, "k16", 60).outcome, ClaimOutcome::kClaimed);
  }
  MergeReport report = merge_shard(main_, shard_path);

  EXPECT_EQ(report.runs_merged, 2);
  EXPECT_EQ(report.runs_already_present, 0);
  EXPECT_EQ(report.experiments_added, 1);
  EXPECT_TRUE(report.conflicts.empty());
  EXPECT_TRUE(report.unfinished.empty());
  // The experiment row is the shard's: same uid, file, host and shard.
  for (const char* column : {"uid", "name", "file_text", "host", "hostname", "host_pid", "shard",
                             "created_at", "file_path"}) {
    const std::string sql = std::string("SELECT ") + column + " FROM experiments";
    EXPECT_EQ(text(main_, sql), text(shard_path, sql)) << column;
  }
  EXPECT_EQ(text(main_, "SELECT shard FROM experiments"), "0/2");
  // The runs keep their uid, outcome and measurements.
  EXPECT_EQ(count(main_,
                  "SELECT COUNT(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                  "WHERE e.name = 'sweep'"),
            2);
  EXPECT_EQ(
      text(main_, "SELECT group_concat(uid || status, ',') FROM (SELECT * FROM runs ORDER BY id)"),
      text(shard_path,
           "SELECT group_concat(uid || status, ',') FROM (SELECT * FROM runs ORDER BY id)"));
  EXPECT_EQ(text(main_, "SELECT error FROM runs WHERE run_key = 'k8'"), "out of memory\nat step 3");
  EXPECT_EQ(text(main_, "SELECT cpu_set FROM runs WHERE run_key = 'k4'"), "0");
  EXPECT_EQ(count(main_, "SELECT COUNT(*) FROM params"), 4);
  EXPECT_EQ(count(main_, "SELECT COUNT(*) FROM epochs"), 4);
  EXPECT_EQ(count(main_, "SELECT COUNT(*) FROM metrics WHERE name = 'step_s'"), 12);
  // Children point at the main database's run ids.
  EXPECT_EQ(count(main_, "SELECT COUNT(*) FROM epochs WHERE run_id NOT IN (SELECT id FROM runs)"),
            0);
  EXPECT_EQ(text(main_,
                 "SELECT value_text FROM params p JOIN runs r ON r.id = p.run_id "
                 "WHERE r.run_key = 'k8' AND p.key = 'train.batch_size'"),
            "8");
  EXPECT_EQ(text(main_, "SELECT ROUND(val_accuracy, 2) FROM run_summary WHERE run_key = 'k4'"),
            "0.5");
  // Probes come along; claims belong to the shard's own orch processes.
  EXPECT_EQ(count(main_, "SELECT max_batch_size FROM probe_answers"), 8);
  EXPECT_EQ(count(main_, "SELECT COUNT(*) FROM probe_trials"), 1);
  EXPECT_EQ(count(main_, "SELECT COUNT(*) FROM claims"), 0);
  // The main database is usable by Store afterwards.
  Store main = Store::Open(main_);
  EXPECT_TRUE(main.finished_ok("sweep", "k4"));
  EXPECT_EQ(main.latest_runs("sweep").size(), 2u);
}

TEST_F(MergeTest, MergingTwiceAddsNothing) {
  const std::string a = path("shard-0.db"), b = path("shard-1.db");
  {
    Store shard = Store::Open(a);
    const std::int64_t id = shard.begin_experiment(experiment("0/2"));
    run_to_end(shard, id, "k1", RunStatus::kOk);
    run_to_end(shard, id, "k2", RunStatus::kFailed);
    shard.record_probe_trial({"mem", 1ll << 30, 16, RunStatus::kOk, 1 << 20, "", ""});
    shard.record_probe_answer("mem", 1ll << 30, {16});
  }
  {
    Store shard = Store::Open(b);
    run_to_end(shard, shard.begin_experiment(experiment("1/2")), "k3", RunStatus::kOk);
  }
  merge_shard(main_, a);
  merge_shard(main_, b);
  const auto once = counts(main_);
  EXPECT_EQ(once[1], 3);  // runs

  MergeReport again = merge_shard(main_, a);
  merge_shard(main_, b);
  EXPECT_EQ(counts(main_), once);
  EXPECT_EQ(again.runs_merged, 0);
  EXPECT_EQ(again.runs_already_present, 2);
  EXPECT_EQ(again.experiments_added, 0);
}

TEST_F(MergeTest, RunAlreadyOkInMainIsAConflictAndNotMerged) {
  std::int64_t main_ok = 0;
  {
    Store main = Store::Open(main_);
    main_ok = run_to_end(main, main.begin_experiment(experiment()), "k1", RunStatus::kOk);
  }
  const std::string shard_path = path("shard-1.db");
  {
    Store shard = Store::Open(shard_path);
    const std::int64_t id = shard.begin_experiment(experiment("1/3"));
    run_to_end(shard, id, "k1", RunStatus::kOk);
    run_to_end(shard, id, "k2", RunStatus::kOk);
  }
  MergeReport report = merge_shard(main_, shard_path);

  EXPECT_EQ(report.runs_merged, 1);
  ASSERT_EQ(report.conflicts.size(), 1u);
  EXPECT_EQ(report.conflicts[0].run_key, "k1");
  EXPECT_EQ(report.conflicts[0].main_run_id, main_ok);
  const std::string said = describe(report.conflicts[0]);
  EXPECT_TRUE(contains(said, "k1"));
  EXPECT_TRUE(contains(said, "train.batch_size=4"));
  EXPECT_TRUE(contains(said, "run " + std::to_string(main_ok)));
  EXPECT_TRUE(contains(said, "host node7"));
  // Run keys stay unique among ok runs.
  EXPECT_EQ(count(main_, "SELECT COUNT(*) FROM runs WHERE run_key = 'k1'"), 1);
  EXPECT_EQ(count(main_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 2);
  // Still reported, still not merged, the second time.
  MergeReport again = merge_shard(main_, shard_path);
  EXPECT_EQ(again.conflicts.size(), 1u);
  EXPECT_EQ(count(main_, "SELECT COUNT(*) FROM runs"), 2);
}

TEST_F(MergeTest, AttemptsAreNumberedAfterMainsAndKeepTheirOrder) {
  std::int64_t first = 0;
  {
    Store main = Store::Open(main_);
    first = run_to_end(main, main.begin_experiment(experiment()), "k1", RunStatus::kOom);
  }
  const std::string shard_path = path("shard-0.db");
  {
    Store shard = Store::Open(shard_path);
    const std::int64_t id = shard.begin_experiment(experiment("0/1"));
    run_to_end(shard, id, "k1", RunStatus::kCrashed);
    run_to_end(shard, id, "k1", RunStatus::kOk);
  }
  MergeReport report = merge_shard(main_, shard_path);
  EXPECT_EQ(report.runs_merged, 2);
  EXPECT_TRUE(report.conflicts.empty());
  EXPECT_EQ(text(main_,
                 "SELECT group_concat(attempt || ':' || status, ' ') FROM "
                 "(SELECT * FROM runs WHERE run_key = 'k1' ORDER BY id)"),
            "1:oom 2:crashed 3:ok");
  EXPECT_EQ(count(main_,
                  "SELECT COUNT(*) FROM runs WHERE run_key = 'k1' AND attempt > 1 "
                  "AND parent_run_id = " +
                      std::to_string(first)),
            2);
}

TEST_F(MergeTest, UnfinishedRunsWaitForALaterMerge) {
  const std::string shard_path = path("shard-0.db");
  std::int64_t running = 0;
  {
    Store shard = Store::Open(shard_path);
    const std::int64_t id = shard.begin_experiment(experiment("0/1"));
    run_to_end(shard, id, "k1", RunStatus::kOk);
    running = shard.add_runs(id, {run("k2")}).at(0);
    shard.mark_running(running, 1234);
    shard.add_runs(id, {run("k3")});  // claimed, not started
  }
  MergeReport first = merge_shard(main_, shard_path);
  EXPECT_EQ(first.runs_merged, 1);
  ASSERT_EQ(first.unfinished.size(), 2u);
  EXPECT_EQ(first.unfinished[0].run_key, "k2");
  EXPECT_EQ(first.unfinished[0].status, RunStatus::kRunning);
  EXPECT_EQ(first.unfinished[1].status, RunStatus::kPending);
  EXPECT_TRUE(contains(describe(first.unfinished[0]), "still running"));
  EXPECT_EQ(count(main_, "SELECT COUNT(*) FROM runs WHERE run_key IN ('k2', 'k3')"), 0);

  {
    Store shard = Store::Open(shard_path);
    shard.finish_run(running, {RunStatus::kOk, 2.0, 1 << 20, std::nullopt, "", ""});
  }
  MergeReport second = merge_shard(main_, shard_path);
  EXPECT_EQ(second.runs_merged, 1);
  EXPECT_EQ(second.runs_already_present, 1);
  EXPECT_EQ(second.unfinished.size(), 1u);
  EXPECT_EQ(text(main_, "SELECT status FROM runs WHERE run_key = 'k2'"), "ok");
}

TEST_F(MergeTest, FailureHalfwayLeavesMainAsItWas) {
  {
    Store main = Store::Open(main_);
    run_to_end(main, main.begin_experiment(experiment()), "k0", RunStatus::kOk);
    // Makes the merge fail after it copied runs and params, before it finishes.
    SQLite::Database db(main_, SQLite::OPEN_READWRITE);
    db.exec(
        "CREATE TRIGGER refuse_metrics BEFORE INSERT ON metrics WHEN NEW.run_id > 1 "
        "BEGIN SELECT RAISE(ABORT, 'disk full, say'); END");
  }
  const std::string shard_path = path("shard-0.db");
  {
    Store shard = Store::Open(shard_path);
    const std::int64_t id = shard.begin_experiment(experiment("0/1"));
    run_to_end(shard, id, "k1", RunStatus::kOk);
    shard.record_probe_answer("mem", 1ll << 30, {8});
  }
  const auto before = counts(main_);
  try {
    merge_shard(main_, shard_path);
    FAIL() << "the merge should have failed";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), shard_path));
    EXPECT_TRUE(contains(e.what(), "nothing was merged"));
  }
  EXPECT_EQ(counts(main_), before);
}

TEST_F(MergeTest, NewerSchemaShardIsRefusedAndMainUntouched) {
  {
    Store main = Store::Open(main_);
    run_to_end(main, main.begin_experiment(experiment()), "k0", RunStatus::kOk);
  }
  const std::string shard_path = path("shard-0.db");
  {
    Store shard = Store::Open(shard_path);
    run_to_end(shard, shard.begin_experiment(experiment("0/1")), "k1", RunStatus::kOk);
  }
  {
    SQLite::Database db(shard_path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1));
  }
  const auto before = counts(main_);
  try {
    merge_shard(main_, shard_path);
    FAIL() << "a newer shard should be refused";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), shard_path));
    EXPECT_TRUE(contains(e.what(), "schema version " + std::to_string(kSchemaVersion + 1)));
    EXPECT_TRUE(contains(e.what(), "newer"));
  }
  EXPECT_EQ(counts(main_), before);
}

TEST_F(MergeTest, OlderSchemaShardIsRefusedWithHowToUpgrade) {
  const std::string shard_path = path("old.db");
  {
    SQLite::Database db(shard_path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec(
        "CREATE TABLE experiments(id INTEGER PRIMARY KEY); CREATE TABLE runs(id INTEGER "
        "PRIMARY KEY); PRAGMA user_version = 3");
  }
  try {
    check_mergeable(shard_path);
    FAIL() << "an older shard should be refused";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), "schema version 3, older"));
    EXPECT_TRUE(contains(e.what(), "orch --db " + shard_path + " report"));
  }
}

TEST_F(MergeTest, MissingFileOrNotADatabaseIsRefusedBeforeMainIsCreated) {
  try {
    merge_shard(main_, path("nope.db"));
    FAIL() << "a missing shard should be refused";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), path("nope.db") + "' does not exist"));
  }
  std::ofstream(path("notes.db")) << "these are my notes, not a database\n";
  try {
    merge_shard(main_, path("notes.db"));
    FAIL() << "a text file should be refused";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), path("notes.db") + "' is not an orch database"));
  }
  {
    SQLite::Database db(path("other.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE things(x)");
  }
  try {
    merge_shard(main_, path("other.db"));
    FAIL() << "a database of something else should be refused";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), "is not an orch database"));
  }
  EXPECT_FALSE(fs::exists(main_));
  EXPECT_FALSE(fs::exists(path("nope.db")));
}

TEST_F(MergeTest, MergingADatabaseIntoItselfIsRefused) {
  {
    Store main = Store::Open(main_);
    run_to_end(main, main.begin_experiment(experiment()), "k0", RunStatus::kOk);
  }
  EXPECT_THROW(merge_shard(main_, main_), StoreError);
  EXPECT_EQ(count(main_, "SELECT COUNT(*) FROM runs"), 1);
}

TEST_F(MergeTest, ReadRunsSeesCommittedRowsWhileAWriterHoldsTheLock) {
  const std::string shard_path = path("shard-0.db");
  Store shard = Store::Open(shard_path);
  const std::int64_t id = shard.begin_experiment(experiment("0/1"));
  run_to_end(shard, id, "k1", RunStatus::kOk);
  ASSERT_EQ(shard.claim_run(id, "k2", 60).outcome, ClaimOutcome::kClaimed);
  shard.heartbeat(id);

  SQLite::Database writer(shard_path, SQLite::OPEN_READWRITE);
  SQLite::Transaction open_write(writer, SQLite::TransactionBehavior::IMMEDIATE);
  writer.exec("UPDATE runs SET status = 'failed'");  // not committed

  DatabaseRuns seen = read_runs(shard_path, "sweep");
  ASSERT_EQ(seen.runs.size(), 1u);
  EXPECT_EQ(seen.runs[0].status, RunStatus::kOk);
  ASSERT_EQ(seen.claims.size(), 1u);
  EXPECT_EQ(seen.claims[0].run_key, "k2");
  EXPECT_GE(seen.claims[0].heartbeat_age_s, 0);
  EXPECT_LT(seen.claims[0].heartbeat_age_s, 30);
  EXPECT_TRUE(read_runs(shard_path, "another").runs.empty());
}

}  // namespace
}  // namespace orch::storage
