// Several machines in one history, driven through the real `orch`: two databases recorded
// as two machines (`--machine`, as two hosts would), merged, and put side by side.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "e2e_support.h"

namespace {

using namespace orch::e2e;

const std::string kOrch = ORCH_BINARY;
constexpr auto kTimeout = std::chrono::seconds(120);

// The same experiment as two machines ran it: machine a with one thread at batch 16 and
// 32, machine b with two threads at batch 16 only.
std::string experiment_text(int threads, const std::string& batch_sizes) {
  return "[experiment]\nname = \"tiny\"\nseed = 1\n\n"
         "[backend]\nplugin = \"cpu\"\nthreads = " +
         std::to_string(threads) +
         "\n\n[dataset]\nplugin = \"synthetic\"\nsamples = 128\nval_samples = 32\nfeatures = 8\n\n"
         "[model]\nplugin = \"mlp\"\nhidden = 8\n\n"
         "[train]\nepochs = 1\nbatch_size = 16\n\n"
         "[sweep]\n\"train.batch_size\" = [" +
         batch_sizes + "]\n";
}

class MachinesCliTest : public FreshDirectoryTest {
 protected:
  MachinesCliTest() : FreshDirectoryTest("machines_cli_test") {}

  RunResult orch(const std::vector<std::string>& args) {
    return run_in(dir_, kOrch, args, {}, kTimeout);
  }
};

TEST_F(MachinesCliTest, TwoMachinesDatabasesMergeIntoOneHistoryAndShowSideBySide) {
  write_file("a.toml", experiment_text(1, "16, 32"));
  write_file("b.toml", experiment_text(2, "16"));
  RunResult a = orch({"run", "a.toml", "--db", "a.db", "--machine", "a"});
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  EXPECT_TRUE(contains(a.out, "machine 'a' (")) << a.out;
  RunResult b = orch({"run", "b.toml", "--db", "b.db", "--machine", "b"});
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;

  RunResult merged = orch({"merge", "a.db", "b.db", "--db", "all.db"});
  EXPECT_EQ(merged.exit_code, 0) << merged.out << merged.err;
  const std::string all = path("all.db");
  EXPECT_EQ(count(all, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 3);
  EXPECT_EQ(count(all, "SELECT COUNT(*) FROM machines"), 2);

  // Rows are configurations, columns the machines with their threads, each cell a time
  // and its ratio to the row's fastest; b never ran batch 32.
  RunResult compared = orch({"report", "--by", "machine", "--db", "all.db"});
  ASSERT_EQ(compared.exit_code, 0) << compared.out << compared.err;
  EXPECT_TRUE(contains(compared.out, "epoch time by machine (2 machines)")) << compared.out;
  EXPECT_TRUE(contains(compared.out, "a: cpu, 1 thread")) << compared.out;
  EXPECT_TRUE(contains(compared.out, "b: cpu, 2 threads")) << compared.out;
  EXPECT_TRUE(has_line_starting_with(compared.out, "train.batch_size=32")) << compared.out;
  EXPECT_TRUE(contains(compared.out, "not run")) << compared.out;
  EXPECT_TRUE(contains(compared.out, "1.00x")) << compared.out;
  RunResult json = orch({"report", "--by", "machine", "--json", "--db", "all.db"});
  ASSERT_EQ(json.exit_code, 0) << json.out << json.err;
  EXPECT_TRUE(contains(json.out, "\"format\": \"orch.machines\"")) << json.out;
  EXPECT_TRUE(contains(json.out, "\"missing\": \"not run\"")) << json.out;

  // A ranking ranks one machine's runs and says which.
  RunResult report = orch({"report", "--db", "all.db", "--html", "report.html"});
  ASSERT_EQ(report.exit_code, 0) << report.out << report.err;
  EXPECT_TRUE(contains(report.out, "ranking the runs of machine 'b'")) << report.out;
  EXPECT_TRUE(contains(read_text(path("report.html")), "Machines side by side"));
  RunResult best_a = orch({"best", "--db", "all.db", "--machine", "a"});
  ASSERT_EQ(best_a.exit_code, 0) << best_a.out << best_a.err;
  EXPECT_TRUE(contains(best_a.out, "ranking the runs of machine 'a' (--machine)")) << best_a.out;
  RunResult unknown = orch({"best", "--db", "all.db", "--machine", "c"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "its runs are from 'a', 'b'")) << unknown.err;

  // The same run key on the same machine is still a conflict, and is not merged.
  RunResult again = orch({"run", "a.toml", "--db", "a2.db", "--machine", "a"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  RunResult conflict = orch({"merge", "a2.db", "--db", "all.db"});
  EXPECT_TRUE(contains(conflict.out + conflict.err, "on the same machine 'a'"))
      << conflict.out << conflict.err;
  EXPECT_EQ(count(all, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 3);

  // Resume is per machine: b's run counts as done on b, not on machine c.
  RunResult resumed = orch({"run", "b.toml", "--db", "all.db", "--machine", "b"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_TRUE(contains(resumed.out, "1 of 1 runs already finished ok")) << resumed.out;
  RunResult other = orch({"run", "b.toml", "--db", "all.db", "--machine", "c"});
  ASSERT_EQ(other.exit_code, 0) << other.out << other.err;
  EXPECT_FALSE(contains(other.out, "already finished ok")) << other.out;
  EXPECT_EQ(count(all, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 4);
}

TEST_F(MachinesCliTest, ADeviceTheMachineLacksShowsAsDeviceAbsentBesideTheCpu) {
  write_file("devices.toml",
             "[experiment]\nname = \"devices\"\nseed = 1\n\n[backend]\nplugin = \"cpu\"\n\n"
             "[dataset]\nplugin = \"synthetic\"\nsamples = 128\nval_samples = 32\n"
             "features = 8\n\n[model]\nplugin = \"mlp\"\nhidden = 8\n\n"
             "[train]\nepochs = 1\nbatch_size = 16\n\n"
             "[sweep]\n\"backend.plugin\" = [\"cpu\", \"cuda\"]\n");
  RunResult run = orch({"run", "devices.toml", "--db", "d.db", "--machine", "laptop"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  RunResult compared = orch({"report", "--by", "machine", "--db", "d.db"});
  ASSERT_EQ(compared.exit_code, 0) << compared.out << compared.err;
  EXPECT_TRUE(contains(compared.out, "laptop: cpu")) << compared.out;
  if (count(path("d.db"), "SELECT COUNT(*) FROM runs WHERE status = 'skipped'") == 1) {
    // This build's LibTorch has no CUDA (or no GPU is here): its cuda runs are skipped.
    EXPECT_TRUE(contains(compared.out, "laptop: cuda")) << compared.out;
    EXPECT_TRUE(contains(compared.out, "device absent")) << compared.out;
  }
}

TEST_F(MachinesCliTest, ANameTheDatabaseHoldsForOtherHardwareIsRefusedBeforeAnythingRuns) {
  write_file("a.toml", experiment_text(1, "16"));
  RunResult first = orch({"run", "a.toml", "--db", "h.db", "--machine", "laptop"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  {
    // As if another host with 64 cores had recorded its runs as "laptop" first.
    SQLite::Database db(path("h.db"), SQLite::OPEN_READWRITE);
    db.exec(
        "UPDATE machines SET fingerprint = 'another', "
        "facts = json_set(facts, '$.cores', 64) WHERE name = 'laptop'");
  }
  RunResult refused = orch({"run", "a.toml", "--db", "h.db", "--machine", "laptop"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_TRUE(contains(refused.err, "already has a machine named 'laptop'")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "64 recorded")) << refused.err;
  EXPECT_EQ(count(path("h.db"), "SELECT COUNT(*) FROM runs"), 1);
  EXPECT_EQ(count(path("h.db"), "SELECT COUNT(*) FROM machines"), 1);
}

}  // namespace
