// `orch run -j N` and several orch processes on one database, driven through the real
// binary with real workers and read back from the SQLite file they wrote.
#include <sched.h>

#include <functional>

#include "e2e_support.h"

namespace {

using namespace orch::e2e;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kOrch = ORCH_BINARY;
constexpr auto kOrchTimeout = std::chrono::seconds(120);

int usable_cores() {
  cpu_set_t set;
  return ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

// An MLP sweep of four points, each about a second on one core.
std::string sweep_file(const std::string& name, const std::string& backend,
                       const std::string& train_extra = "", int samples = 12000) {
  return "[experiment]\nname = \"" + name + "\"\nseed = 3\n\n[backend]\nplugin = \"cpu\"\n" +
         backend + "\n\n[dataset]\nplugin = \"synthetic\"\nsamples = " + std::to_string(samples) +
         "\nval_samples = 64\nfeatures = 16\n\n[model]\nplugin = \"mlp\"\nhidden = 32\n\n"
         "[train]\nepochs = 1\nwarmup_steps = 1\n" +
         train_extra + "\n[sweep]\n\"train.batch_size\" = [8, 16]\n\"train.lr\" = [0.01, 0.001]\n";
}

// Pairs of runs whose worker lifetimes overlapped (timestamps are in milliseconds).
const char* kOverlappingPairs =
    "SELECT COUNT(*) FROM runs a JOIN runs b ON a.id < b.id "
    "WHERE a.started_at < b.finished_at AND b.started_at < a.finished_at";

class ParallelTest : public FreshDirectoryTest {
 protected:
  ParallelTest() : FreshDirectoryTest("parallel_test") {}
  void SetUp() override {
    FreshDirectoryTest::SetUp();
    db_ = path("history.db");
  }
  RunResult orch(const std::vector<std::string>& args) {
    return run_in(dir_, kOrch, args, {}, kOrchTimeout);
  }
  std::int64_t runs(const std::string& where) {
    return count(db_, "SELECT COUNT(*) FROM runs WHERE " + where);
  }
  std::string all_runs() {
    return text_value(db_,
                      "SELECT GROUP_CONCAT(id || ':' || status || ' ' || IFNULL(cpu_set, '-') "
                      "|| ' ' || IFNULL(started_at, '-') || '..' || IFNULL(finished_at, '-'), "
                      "'; ') FROM runs");
  }
  std::string db_;
};

TEST_F(ParallelTest, JobsRunPointsAtOnceEachPinnedToItsShareOfTheCores) {
  const int cores = usable_cores();
  if (cores < 2) GTEST_SKIP() << "needs 2 cores to run two pinned workers at once; has " << cores;
  const std::string file = write_file_in(dir_, "p.toml", sweep_file("parallel", "threads = 0"));
  RunResult result = orch({"run", file, "--db", db_, "-j", "2"});
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  EXPECT_TRUE(contains(result.out, "2 runs at once")) << result.out;

  EXPECT_EQ(runs("status = 'ok'"), 4) << all_runs();
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT run_key) FROM runs"), 4);
  EXPECT_EQ(runs("1"), 4) << "a point ran twice: " << all_runs();
  // Each worker had its half of the cores, and its thread count followed.
  const std::string share = std::to_string(cores / 2);
  EXPECT_EQ(runs("backend = 'cpu, " + share + " intra-op threads'"), 4)
      << text_value(db_, "SELECT GROUP_CONCAT(backend, '; ') FROM runs");
  EXPECT_EQ(runs("cpu_set IS NOT NULL"), 4);
  // They did run side by side, never on the same cores.
  EXPECT_GE(count(db_, kOverlappingPairs), 1) << all_runs();
  EXPECT_EQ(count(db_, std::string(kOverlappingPairs) + " AND a.cpu_set = b.cpu_set"), 0)
      << all_runs();
  // Every run's lines name it, so that interleaved output stays readable.
  EXPECT_TRUE(has_line_starting_with(result.out, "  run 1: ok")) << result.out;
}

TEST_F(ParallelTest, ThreadsTheFileFixesAreKeptAndTheRunsTakeTurns) {
  const int cores = usable_cores();
  const std::string threads = "threads = " + std::to_string(cores);
  const std::string file = write_file_in(dir_, "f.toml", sweep_file("fixed", threads, "", 6000));
  RunResult result = orch({"run", file, "--db", db_, "-j", "2"});
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  EXPECT_EQ(runs("status = 'ok'"), 4) << all_runs();
  EXPECT_EQ(runs("backend = 'cpu, " + std::to_string(cores) + " intra-op threads'"), 4);
  // Each needs every core, so no two shared the machine.
  EXPECT_EQ(count(db_, kOverlappingPairs), 0) << all_runs();
}

TEST_F(ParallelTest, MemoryAdmissionHoldsBackARunWhoseBudgetDoesNotFitBesideTheOthers) {
  if (usable_cores() < 2) GTEST_SKIP() << "needs 2 cores";
  // Two budgets of 60% of the available memory do not fit together; two of 20% do.
  const std::string big =
      write_file_in(dir_, "big.toml", sweep_file("big", "threads = 0", "memory_limit = \"60%\"\n"));
  RunResult held = orch({"run", big, "--db", db_, "-j", "2"});
  ASSERT_EQ(held.exit_code, 0) << held.err << held.out;
  EXPECT_EQ(runs("status = 'ok'"), 4) << all_runs();
  EXPECT_EQ(count(db_, kOverlappingPairs), 0) << "two 60% budgets ran at once: " << all_runs();

  const std::string small_db = dir_ + "/small.db";
  const std::string small = write_file_in(
      dir_, "small.toml", sweep_file("small", "threads = 0", "memory_limit = \"20%\"\n"));
  RunResult side_by_side = orch({"run", small, "--db", small_db, "-j", "2"});
  ASSERT_EQ(side_by_side.exit_code, 0) << side_by_side.err << side_by_side.out;
  EXPECT_GE(count(small_db, kOverlappingPairs), 1)
      << "two 20% budgets never ran at once: " << side_by_side.out;
}

TEST_F(ParallelTest, DefaultBudgetIsSplitBetweenTheRunsAtOnce) {
  const std::string file =
      write_file_in(dir_, "d.toml", sweep_file("split", "threads = 1", "", 2000));
  RunResult one = orch({"run", file, "--db", db_});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const std::int64_t whole = count(db_, "SELECT MAX(budget_bytes) FROM runs");
  const std::string db2 = dir_ + "/two.db";
  RunResult two = orch({"run", file, "--db", db2, "-j", "2"});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const std::int64_t half = count(db2, "SELECT MAX(budget_bytes) FROM runs");
  EXPECT_GT(half, 0);
  EXPECT_LE(half, whole / 2) << "with -j 2 each run gets at most half the default budget";
  EXPECT_GE(half, whole / 2 - (256 << 20)) << "rounded down to 256 MiB at most";
}

TEST_F(ParallelTest, CtrlCStopsEveryRunningWorkerAndRecordsThemInterrupted) {
  if (usable_cores() < 2) GTEST_SKIP() << "needs 2 cores";
  const std::string file =
      write_file_in(dir_, "l.toml", sweep_file("long", "threads = 0", "", 400000));
  Started orch = start_in(dir_, kOrch, {"run", file, "--db", db_, "-j", "2"});
  auto running = [&] {
    try {
      return fs::exists(db_) &&
             count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'running'") == 2;
    } catch (const SQLite::Exception&) {
      return false;
    }
  };
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!running() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!running()) {
    ::kill(-orch.pid, SIGKILL);
    wait_for(orch, kOrchTimeout);
    FAIL() << "never saw two runs running";
  }
  ::kill(orch.pid, SIGINT);
  RunResult result = wait_for(orch, std::chrono::seconds(20));
  EXPECT_EQ(result.exit_code, 130) << result.err << result.out;
  EXPECT_EQ(runs("status = 'interrupted' AND stop_layer = 'interrupt' AND worker_pid IS NOT NULL"),
            2)
      << all_runs();
  EXPECT_EQ(runs("status IN ('pending', 'running')"), 0) << all_runs();
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM claims"), 0);
}

TEST_F(ParallelTest, TwoOrchProcessesOnOneDatabaseRunEveryPointOnce) {
  const std::string file =
      write_file_in(dir_, "s.toml", sweep_file("shared", "threads = 1", "", 40000));
  Started first = start_in(dir_, kOrch, {"run", file, "--db", db_});
  Started second = start_in(dir_, kOrch, {"run", file, "--db", db_});
  RunResult a = wait_for(first, kOrchTimeout);
  RunResult b = wait_for(second, kOrchTimeout);
  ASSERT_EQ(a.exit_code, 0) << a.err << a.out;
  ASSERT_EQ(b.exit_code, 0) << b.err << b.out;

  EXPECT_EQ(runs("1"), 4) << "a point ran twice: " << all_runs();
  EXPECT_EQ(runs("status = 'ok'"), 4) << all_runs();
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT run_key) FROM runs"), 4);
  // They shared the work: each process ran some points and left the others alone.
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT experiment_id) FROM runs"), 2) << a.out << "\n----\n"
                                                                             << b.out;
  EXPECT_TRUE(contains(a.out + b.out, "another orch")) << a.out << b.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM claims"), 0);
}

TEST_F(ParallelTest, ClaimOfAnOrchThatStoppedIsTakenBackAfterTheGracePeriod) {
  // One long point and one short one.
  const std::string file = write_file_in(
      dir_, "t.toml",
      "[experiment]\nname = \"takeover\"\nseed = 3\n\n[backend]\nplugin = \"cpu\"\nthreads = 1\n\n"
      "[dataset]\nplugin = \"synthetic\"\nsamples = 40000\nval_samples = 64\nfeatures = 16\n\n"
      "[model]\nplugin = \"mlp\"\nhidden = 32\n\n[train]\nepochs = 1\nwarmup_steps = 1\n\n"
      "[sweep]\n\"train.batch_size\" = [4, 512]\n");
  Started victim = start_in(dir_, kOrch, {"run", file, "--db", db_});
  auto first_running = [&] {
    try {
      return fs::exists(db_) &&
             count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'running'") == 1;
    } catch (const SQLite::Exception&) {
      return false;
    }
  };
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!first_running() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(first_running()) << "the first point never started";
  ::kill(victim.pid, SIGKILL);  // its worker dies with it
  wait_for(victim, kOrchTimeout);
  // As if that orch had run on another machine: this one cannot see whether it is alive.
  {
    SQLite::Database db(db_, SQLite::OPEN_READWRITE);
    db.exec("UPDATE experiments SET hostname = 'other-node'");
  }

  // Within the grace period the claim stands: the point is left to its owner.
  RunResult early = orch({"run", file, "--db", db_, "--claim-grace", "600"});
  ASSERT_EQ(early.exit_code, 0) << early.err << early.out;
  EXPECT_TRUE(contains(early.out, "other-node")) << early.out;
  EXPECT_EQ(runs("status = 'ok'"), 1) << all_runs();
  EXPECT_EQ(runs("status = 'running'"), 1) << all_runs();

  // Past it, the claim is taken back and the point runs here.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  RunResult late = orch({"run", file, "--db", db_, "--claim-grace", "1"});
  ASSERT_EQ(late.exit_code, 0) << late.err << late.out;
  EXPECT_TRUE(contains(late.out, "took over")) << late.out;
  EXPECT_EQ(runs("status = 'ok'"), 2) << all_runs();
  EXPECT_EQ(runs("status = 'interrupted' AND error LIKE '%heartbeat%'"), 1) << all_runs();
  EXPECT_EQ(runs("status IN ('pending', 'running')"), 0) << all_runs();
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM claims"), 0);
}

}  // namespace
