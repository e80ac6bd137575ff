// Several machines in one history: real SQLite files written through Store and merged as
// `orch merge` merges them, then read back as a user would.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/merge.h"
#include "storage/schema.h"
#include "storage/store.h"
#include "tests/support/unit_test_support.h"

namespace orch::storage {
namespace {

using orch::testing::contains;

class MachinesTest : public orch::testing::FreshDirectoryTest {
 protected:
  static MachineRecord machine(const std::string& name, const std::string& fingerprint,
                               int cores = 4) {
    MachineRecord record;
    record.name = name;
    record.fingerprint = fingerprint;
    record.facts_json = R"({"cpu":"Test CPU","cores":)" + std::to_string(cores) + "}";
    record.named_by_user = true;
    return record;
  }

  static ExperimentRecord experiment(std::int64_t machine_id) {
    ExperimentRecord record{"sweep",
                            "sweep.toml",
                            "[experiment]\nname = \"sweep\"\n",
                            "abc",
                            R"({"cpu":"test"})",
                            4242,
                            "node7",
                            ""};
    record.machine_id = machine_id;
    return record;
  }

  static RunRecord run(const std::string& key) {
    RunRecord r;
    r.run_key = key;
    r.params_json = R"({"train.batch_size":4})";
    r.params = {{"train.batch_size", "4", 4.0}};
    r.swept = "train.batch_size=4";
    r.config_key = key + "-config";
    return r;
  }

  // One run of `key` on the machine named `name`, finished with `status`, in database `db`.
  static void record(const std::string& db, const std::string& name, const std::string& fingerprint,
                     const std::string& key, RunStatus status = RunStatus::kOk) {
    Store store = Store::Open(db);
    const std::int64_t experiment_id =
        store.begin_experiment(experiment(store.machine_id(machine(name, fingerprint))));
    const std::int64_t id = store.add_runs(experiment_id, {run(key)}).at(0);
    RunOutcome outcome;
    outcome.status = status;
    store.finish_run(id, outcome);
  }
};

TEST_F(MachinesTest, AMachineIsFoundAgainByNameAndFingerprint) {
  Store store = Store::Open(path("orch.db"));
  const std::int64_t a = store.machine_id(machine("a", "fa"));
  EXPECT_EQ(store.machine_id(machine("a", "fa")), a);
  EXPECT_NE(store.machine_id(machine("b", "fa")), a);  // --machine b on the same host
  ASSERT_EQ(store.machines().size(), 2u);
  EXPECT_EQ(store.machines()[0].name, "a");
}

TEST_F(MachinesTest, ANameGivenToOtherHardwareIsRefusedSayingWhichFactsDiffer) {
  Store store = Store::Open(path("orch.db"));
  store.machine_id(machine("laptop", "f8", 8));
  try {
    store.machine_id(machine("laptop", "f4", 4));
    FAIL() << "a second machine named laptop was accepted";
  } catch (const StoreError& e) {
    EXPECT_TRUE(contains(e.what(), "already has a machine named 'laptop'")) << e.what();
    EXPECT_TRUE(contains(e.what(), "cores: 4 here, 8 recorded")) << e.what();
    EXPECT_TRUE(contains(e.what(), "--machine")) << e.what();
  }
  EXPECT_EQ(store.machines().size(), 1u);
  // A default name is not the user's promise: the same name with other facts is a second
  // machine, told apart by its fingerprint.
  MachineRecord unnamed = machine("laptop", "f4", 4);
  unnamed.named_by_user = false;
  EXPECT_NO_THROW(store.machine_id(unnamed));
}

TEST_F(MachinesTest, ResumeIsPerMachine) {
  const std::string db = path("orch.db");
  record(db, "a", "fa", "k1");
  Store store = Store::Open(db);
  const std::int64_t a = store.machine_id(machine("a", "fa"));
  const std::int64_t b = store.machine_id(machine("b", "fb"));
  EXPECT_TRUE(store.finished_ok("sweep", "k1", a));
  EXPECT_FALSE(store.finished_ok("sweep", "k1", b));
  EXPECT_EQ(store.run_keys("sweep", Store::KeysThat::kSettled, a).size(), 1u);
  EXPECT_TRUE(store.run_keys("sweep", Store::KeysThat::kSettled, b).empty());
  // Machine b claims the point that machine a finished: it has not run there yet.
  const std::int64_t on_b = store.begin_experiment(experiment(b));
  EXPECT_EQ(store.claim_run(on_b, "k1", 60).outcome, ClaimOutcome::kClaimed);
  const std::int64_t on_a = store.begin_experiment(experiment(a));
  EXPECT_EQ(store.claim_run(on_a, "k1", 60).outcome, ClaimOutcome::kFinished);
}

TEST_F(MachinesTest, MergingAnotherMachinesDatabaseKeepsItsRunsAsThatMachinesResults) {
  record(path("a.db"), "a", "fa", "k1");
  record(path("a.db"), "a", "fa", "k2");
  record(path("b.db"), "b", "fb", "k1");
  const std::string main = path("all.db");
  const MergeReport from_a = merge_shard(main, path("a.db"));
  const MergeReport from_b = merge_shard(main, path("b.db"));
  EXPECT_EQ(from_a.runs_merged, 2);
  EXPECT_EQ(from_b.runs_merged, 1);
  EXPECT_TRUE(from_b.conflicts.empty()) << describe(from_b.conflicts.front());

  Store store = Store::Open(main);
  const auto runs = store.latest_runs("sweep");
  ASSERT_EQ(runs.size(), 3u);
  std::vector<std::string> machines;
  for (const auto& r : runs) machines.push_back(r.machine + "/" + r.run_key);
  EXPECT_EQ(machines, (std::vector<std::string>{"a/k1", "a/k2", "b/k1"}));
  ASSERT_EQ(store.machines().size(), 2u);
  // One machine's runs, for a ranking that must not mix machines.
  const std::int64_t b = store.machine_id(machine("b", "fb"));
  ASSERT_EQ(store.latest_runs("sweep", b).size(), 1u);
}

TEST_F(MachinesTest, TheSameRunKeyOnTheSameMachineIsStillAConflict) {
  record(path("first.db"), "a", "fa", "k1");
  record(path("second.db"), "a", "fa", "k1");
  const std::string main = path("all.db");
  merge_shard(main, path("first.db"));
  const MergeReport report = merge_shard(main, path("second.db"));
  EXPECT_EQ(report.runs_merged, 0);
  ASSERT_EQ(report.conflicts.size(), 1u);
  EXPECT_TRUE(contains(describe(report.conflicts[0]), "on the same machine 'a'"))
      << describe(report.conflicts[0]);
}

TEST_F(MachinesTest, ASchema10DatabaseGetsMachinesFromItsRecordedHostsAndThisHostAdoptsItsOwn) {
  const std::string db = path("old.db");
  {
    SQLite::Database raw(db, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (int version = 0; version < 10; ++version) raw.exec(migration_sql(version));
    raw.exec("PRAGMA user_version = 10");
    raw.exec(
        "INSERT INTO experiments(id, name, created_at, host, uid) VALUES "
        "(1, 'sweep', '2026-01-01T00:00:00.000Z', "
        "'{\"hostname\":\"lab1\",\"cpu\":\"Xeon\",\"cores\":8,\"memory_bytes\":1024}', 'e1'), "
        "(2, 'sweep', '2026-01-02T00:00:00.000Z', "
        "'{\"hostname\":\"lab1\",\"cpu\":\"Xeon\",\"cores\":8,\"memory_bytes\":1024,"
        "\"orch\":\"0.2\"}', 'e2'), "
        "(3, 'sweep', '2026-01-03T00:00:00.000Z', NULL, 'e3')");
    raw.exec(
        "INSERT INTO runs(experiment_id, run_key, status, uid) VALUES "
        "(1, 'k1', 'ok', 'r1'), (2, 'k2', 'ok', 'r2'), (3, 'k3', 'ok', 'r3')");
  }
  Store store = Store::Open(db);
  EXPECT_EQ(store.schema_version(), kSchemaVersion);
  const auto machines = store.machines();
  ASSERT_EQ(machines.size(), 2u);  // lab1 (twice, another orch version), and unknown
  EXPECT_EQ(machines[0].name, "lab1");
  EXPECT_EQ(machines[0].fingerprint, "recorded:lab1/Xeon/8/1024");
  EXPECT_EQ(machines[1].name, "unknown");
  EXPECT_EQ(store.latest_runs("sweep").size(), 3u);

  // The first orch run on lab1 after the upgrade takes that machine over: what it ran
  // before still counts as done there.
  MachineRecord here = machine("Xeon, 8 cores, 1 GiB", "f-real", 8);
  here.named_by_user = false;
  here.recorded_key = "recorded:lab1/Xeon/8/1024";
  const std::int64_t id = store.machine_id(here);
  EXPECT_EQ(id, machines[0].id);
  EXPECT_TRUE(store.finished_ok("sweep", "k1", id));
  EXPECT_TRUE(store.finished_ok("sweep", "k2", id));
  EXPECT_FALSE(store.finished_ok("sweep", "k3", id));
  EXPECT_EQ(store.machines()[0].fingerprint, "f-real");
}

}  // namespace
}  // namespace orch::storage
