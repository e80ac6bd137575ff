// End-to-end tests of orch's memory guards through the real binary: budgets, out-of-memory
// at each layer, timeouts, on_oom, infeasible batches, probe, batch_size = "auto", Ctrl-C
// and kill -9 of the host, and budgets refused before anything is written.
//
// The memory_hog fixture holds batch_size * mib_per_sample MiB per step on top of what a
// forked worker holds before training (about 89 MiB here), so budgets are a few hundred
// MiB and datasets tiny: the cost of a run is the memory it touches.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "e2e_support.h"
#include "host/probe/memory_model.h"

namespace {

using namespace orch::e2e;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kOrch = ORCH_BINARY;
const std::string kFaultyDir = std::string(ORCH_FIXTURE_DIR) + "/faulty";

constexpr std::int64_t kMiB = 1 << 20;
constexpr std::int64_t kBudget = 384 * kMiB;  // "384MiB"

// A hung orch must fail its test, not stall the whole suite.
constexpr auto kOrchTimeout = std::chrono::seconds(60);

// A tiny experiment on the memory_hog fixture: one thread, 64 samples of 8 features.
struct GuardFile {
  std::string name = "guard";
  std::string dataset = "samples = 64\nval_samples = 16\nfeatures = 8\n";
  std::string model = "plugin = \"memory_hog\"\nmib_per_sample = 8\n";
  std::string train = "epochs = 1\nwarmup_steps = 1\n";
  std::string sweep;

  std::string text() const {
    return "[experiment]\nname = \"" + name + "\"\nseed = 7\n\n" +
           "[backend]\nplugin = \"cpu\"\nthreads = 1\n\n" + "[dataset]\nplugin = \"synthetic\"\n" +
           dataset + "\n" + "[model]\n" + model + "\n" + "[train]\n" + train + "\n" +
           (sweep.empty() ? "" : "[sweep]\n" + sweep);
  }
};

GuardFile hog_file(const std::string& name, const std::string& train_extra,
                   const std::string& sweep) {
  GuardFile file;
  file.name = name;
  file.train += train_extra;
  file.sweep = sweep;
  return file;
}

// The heap_fragmenter fixture: 4 MiB alive per sample, and freed blocks that do not fit
// the holes the last ones left, so the heap keeps far more resident than is alive.
GuardFile fragmenter_file(const std::string& name) {
  GuardFile file;
  file.name = name;
  file.dataset = "samples = 256\nval_samples = 16\nfeatures = 8\n";
  file.model = "plugin = \"heap_fragmenter\"\nmib_per_sample = 4\n";
  file.train = "epochs = 1\nwarmup_steps = 1\n";
  return file;
}

// An MLP sweep whose runs take about a second each: long enough to stop one mid-run.
GuardFile long_mlp_file(const std::string& name, int epochs) {
  GuardFile file;
  file.name = name;
  file.dataset = "samples = 20000\nval_samples = 16\nfeatures = 8\n";
  file.model = "plugin = \"mlp\"\nhidden = 16\n";
  file.train = "epochs = " + std::to_string(epochs) + "\nwarmup_steps = 1\n";
  file.sweep = "\"train.batch_size\" = [4, 8, 16]\n";
  return file;
}

Started start_orch_in(const std::string& dir, const std::vector<std::string>& args) {
  return start_in(dir, kOrch, args);
}

RunResult wait_orch(Started& started, std::chrono::milliseconds limit = kOrchTimeout) {
  return wait_for(started, limit);
}

RunResult run_orch_in(const std::string& dir, const std::vector<std::string>& args) {
  Started started = start_orch_in(dir, args);
  return wait_orch(started);
}

// A background orch that a failing test left running is killed, not leaked.
struct KillOnExit {
  Started& started;
  ~KillOnExit() {
    if (started.pid > 0) {
      ::kill(-started.pid, SIGKILL);
      ::waitpid(started.pid, nullptr, 0);
    }
  }
};

// Gone, or a zombie that nobody has reaped yet (it holds no memory and runs nothing).
bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return true;
  char state = stat[paren + 2];
  return state == 'Z' || state == 'X';
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Each test gets a fresh temp directory, removed afterwards, with history.db as its --db.
class GuardTest : public FreshDirectoryTest {
 protected:
  GuardTest() : FreshDirectoryTest("guard_test") {}
  void SetUp() override {
    FreshDirectoryTest::SetUp();
    db_ = path("history.db");
  }

  RunResult run_orch(const std::vector<std::string>& args) { return run_orch_in(dir_, args); }

  // orch run FILE with the fixture plugins, into this test's database.
  RunResult run_file(const std::string& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"run", file, "--db", db_, "--plugin-dir", kFaultyDir};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_orch(args);
  }

  std::int64_t runs(const std::string& where) {
    return count(db_, "SELECT COUNT(*) FROM runs WHERE " + where);
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
    for (const char* noise : {"terminate called", "what():", "Aborted", "Exception raised from"}) {
      EXPECT_FALSE(contains(result.err, noise)) << result.err;
    }
    EXPECT_TRUE(result.out.empty()) << "stdout: " << result.out;
    EXPECT_FALSE(fs::exists(db)) << "bad input created " << db;
    EXPECT_FALSE(fs::exists(db + "-wal"));
    EXPECT_FALSE(fs::exists(db + "-journal"));
  }

  std::string db_;
};

// ---- 1. out of memory is an ordinary, recorded outcome ----

TEST_F(GuardTest, BatchOverTheBudgetIsRecordedAsOomAndTheNextRunIsOk) {
  // 64 samples x 8 MiB is far over 384 MiB; 2 x 8 MiB fits easily.
  GuardFile file =
      hog_file("over", "memory_limit = \"384MiB\"\n", "\"train.batch_size\" = [64, 2]\n");
  RunResult result = run_file(write_file("over.toml", file.text()));
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;

  ASSERT_EQ(runs("batch_size = 64"), 1);
  EXPECT_EQ(text_value(db_, "SELECT status FROM runs WHERE batch_size = 64"), "oom");
  const std::string layer = text_value(db_, "SELECT stop_layer FROM runs WHERE batch_size = 64");
  EXPECT_TRUE(layer == "watchdog" || layer == "cgroup") << "stop_layer: " << layer;
  EXPECT_EQ(count(db_, "SELECT budget_bytes FROM runs WHERE batch_size = 64"), kBudget);
  // Stopped where the budget is, not far below it: the user asked for 384 MiB.
  const std::int64_t peak = count(db_, "SELECT peak_rss_bytes FROM runs WHERE batch_size = 64");
  EXPECT_GE(peak, kBudget * 9 / 10)
      << "the oom run was stopped at a peak of " << peak / kMiB << " MiB, budget 384 MiB; error: "
      << text_value(db_, "SELECT error FROM runs WHERE batch_size = 64");
  EXPECT_EQ(runs("batch_size = 64 AND error LIKE '%memory%'"), 1)
      << text_value(db_, "SELECT error FROM runs WHERE batch_size = 64");
  EXPECT_EQ(runs("batch_size = 64 AND exit_signal IS NOT NULL AND status = 'crashed'"), 0);

  // The next point of the same sweep ran after it and is ok, with its epoch recorded.
  EXPECT_EQ(runs("batch_size = 2 AND status = 'ok'"), 1);
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM runs small JOIN runs big ON big.batch_size = 64 "
                  "WHERE small.batch_size = 2 AND small.id > big.id"),
            1);
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM epochs e JOIN runs r ON r.id = e.run_id "
                  "WHERE r.batch_size = 2"),
            1);
  EXPECT_TRUE(contains(result.out, "oom")) << result.out;
}

TEST_F(GuardTest, ImpossibleAllocationIsOomStoppedByTheAllocator) {
  GuardFile file;
  file.name = "impossible";
  file.model = "plugin = \"impossible_allocation\"\n";
  file.train += "batch_size = 4\n";
  RunResult result = run_file(write_file("impossible.toml", file.text()));
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  ASSERT_EQ(runs("1"), 1);
  EXPECT_EQ(runs("status = 'oom' AND stop_layer = 'allocator' AND exit_signal IS NULL"), 1)
      << text_value(db_, "SELECT status || ' ' || IFNULL(stop_layer, '-') FROM runs");
  EXPECT_EQ(runs("error LIKE '%allocate%'"), 1) << text_value(db_, "SELECT error FROM runs");
  EXPECT_EQ(runs("peak_rss_bytes > 0"), 1);
}

// ---- 2. timeouts ----

TEST_F(GuardTest, HangingRunsTimeOutAndTheSweepGoesOn) {
  GuardFile file;
  file.name = "hangs";
  file.model = "plugin = \"hangs\"\n";
  file.train += "timeout = 1\n";
  file.sweep = "\"train.batch_size\" = [4, 8]\n";
  auto start = Clock::now();
  RunResult result = run_file(write_file("hangs.toml", file.text()));
  const double elapsed = seconds_since(start);
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  EXPECT_EQ(runs("1"), 2);
  EXPECT_EQ(runs("status = 'timeout' AND stop_layer = 'timeout'"), 2);
  EXPECT_EQ(runs("wall_s >= 1 AND wall_s < 5"), 2)
      << "wall_s: " << text_value(db_, "SELECT GROUP_CONCAT(wall_s, ', ') FROM runs");
  EXPECT_EQ(runs("error LIKE '%time%'"), 2) << text_value(db_, "SELECT error FROM runs");
  EXPECT_TRUE(contains(result.out, "[2/2]")) << result.out;
  EXPECT_LT(elapsed, 10.0) << "two 1 s timeouts took " << elapsed << " s";
}

// ---- 3. what happens after an out-of-memory run ----

TEST_F(GuardTest, HalveRetriesWithHalfTheBatchAndTwiceTheAccumulationUntilItFits) {
  // 64 x 8 MiB does not fit in 384 MiB; 32 x 8 MiB (about 345 MiB with the worker) does.
  GuardFile file = hog_file("halve", "memory_limit = \"384MiB\"\non_oom = \"halve\"\n",
                            "\"train.batch_size\" = [64]\n");
  const std::string path = write_file("halve.toml", file.text());
  RunResult result = run_file(path);
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;

  const std::int64_t first = count(db_, "SELECT MIN(id) FROM runs");
  EXPECT_EQ(
      runs("id = " + std::to_string(first) +
           " AND attempt = 1 AND batch_size = 64 AND status = 'oom' AND parent_run_id IS NULL"),
      1);
  // Every retry: same point (run key), attempt 2+, linked to the first attempt.
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT run_key) FROM runs"), 1);
  EXPECT_EQ(runs("id <> " + std::to_string(first) + " AND (attempt < 2 OR parent_run_id IS NOT " +
                 std::to_string(first) + ")"),
            0);
  // The first retry is half the batch with twice the accumulation, and it fits.
  const std::string retry = "(SELECT MIN(id) FROM runs WHERE id > " + std::to_string(first) + ")";
  EXPECT_EQ(count(db_, "SELECT value_num FROM params WHERE key = 'train.batch_size' AND run_id = " +
                           retry),
            32);
  EXPECT_EQ(count(db_,
                  "SELECT value_num FROM params WHERE key = 'train.accumulation_steps' "
                  "AND run_id = " +
                      retry),
            2);
  EXPECT_EQ(count(db_, "SELECT attempt FROM runs WHERE id = " + retry), 2);
  EXPECT_EQ(text_value(db_, "SELECT status FROM runs WHERE id = " + retry), "ok")
      << "the retry at 32 x 8 MiB should fit in 384 MiB: "
      << text_value(db_, "SELECT error FROM runs WHERE id = " + retry) << "\n"
      << result.out;
  // However many retries it took, the last attempt is ok and keeps the effective batch.
  const std::string last = "(SELECT MAX(id) FROM runs)";
  EXPECT_EQ(text_value(db_, "SELECT status FROM runs WHERE id = " + last), "ok") << result.out;
  EXPECT_EQ(count(db_,
                  "SELECT b.value_num * a.value_num FROM params b JOIN params a "
                  "ON a.run_id = b.run_id AND a.key = 'train.accumulation_steps' "
                  "WHERE b.key = 'train.batch_size' AND b.run_id = " +
                      last),
            64);
  EXPECT_EQ(runs("status = 'ok'"), 1);
  EXPECT_TRUE(contains(result.out, "halved to train.batch_size=32")) << result.out;

  // The point finished ok: running the file again runs nothing.
  const std::int64_t before = runs("1");
  RunResult again = run_file(path);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(runs("1"), before);
  EXPECT_TRUE(contains(again.out, "1 of 1 runs already finished ok")) << again.out;
}

TEST_F(GuardTest, StopEndsTheSweepAfterTheFirstOomAndSkipsTheRest) {
  GuardFile file = hog_file("stop", "memory_limit = \"384MiB\"\non_oom = \"stop\"\n",
                            "\"train.batch_size\" = [64, 2, 1]\n");
  RunResult result = run_file(write_file("stop.toml", file.text()));
  EXPECT_EQ(result.exit_code, 0) << result.err << result.out;
  EXPECT_EQ(runs("1"), 3);
  EXPECT_EQ(runs("batch_size = 64 AND status = 'oom'"), 1);
  EXPECT_EQ(runs("batch_size IN (1, 2) AND status = 'skipped' AND error LIKE '%on_oom%'"), 2)
      << text_value(db_,
                    "SELECT GROUP_CONCAT(status || ': ' || IFNULL(error, ''), '; ') FROM runs");
  // Not run at all: no worker, no time, no epochs.
  EXPECT_EQ(runs("batch_size IN (1, 2) AND (wall_s IS NULL OR wall_s = 0) AND worker_pid IS NULL"),
            2);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs"), 0);
  EXPECT_TRUE(contains(result.out, "on_oom")) << result.out;
  // All three did not finish ok and all three run again next time; the summary says so.
  EXPECT_TRUE(contains(result.out, "3 run(s) did not finish ok")) << result.out;
}

TEST_F(GuardTest, LargerBatchThanAKnownOomIsSkippedUnlessRunInfeasible) {
  // 32 x 8 MiB plus the worker (about 345 MiB) does not fit in 256 MiB; 64 cannot either.
  GuardFile file =
      hog_file("infeasible", "memory_limit = \"256MiB\"\n", "\"train.batch_size\" = [32, 64]\n");
  const std::string path = write_file("infeasible.toml", file.text());
  RunResult result = run_file(path);
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  EXPECT_EQ(runs("batch_size = 32 AND status = 'oom'"), 1)
      << text_value(db_, "SELECT status FROM runs WHERE batch_size = 32");
  EXPECT_EQ(runs("batch_size = 64 AND status = 'skipped'"), 1);
  const std::string why = text_value(db_, "SELECT error FROM runs WHERE batch_size = 64");
  EXPECT_TRUE(contains(why, "32")) << why;
  EXPECT_TRUE(contains(why, "--run-infeasible")) << why;
  // Skipped without being run.
  EXPECT_EQ(runs("batch_size = 64 AND (wall_s IS NULL OR wall_s = 0) AND worker_pid IS NULL "
                 "AND started_at IS NULL"),
            1);

  // The flag runs both again, and 64 now really runs out of memory.
  RunResult forced = run_file(path, {"--run-infeasible"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err << forced.out;
  EXPECT_EQ(runs("batch_size = 64 AND attempt = 2 AND status = 'oom' AND wall_s > 0 "
                 "AND stop_layer IS NOT NULL"),
            1)
      << forced.out;
  EXPECT_EQ(runs("status = 'skipped'"), 1);  // only the first sweep's
}

// ---- 4. probe and batch_size = "auto" ----

// One `orch probe` at 384 MiB shared by the tests below, each on its own copy of the history.
class ProbedTest : public GuardTest {
 protected:
  static GuardFile probe_file() {
    GuardFile file;
    file.name = "probe";
    return file;
  }
  static void SetUpTestSuite() {
    shared_dir_ = new std::string(make_temp_dir("guard_test"));
    const std::string file = write_file_in(*shared_dir_, "probe.toml", probe_file().text());
    auto start = Clock::now();
    probe_ = new RunResult(
        run_orch_in(*shared_dir_, {"probe", file, "--db", "history.db", "--plugin-dir", kFaultyDir,
                                   "--memory-limit", "384MiB", "--start", "16"}));
    probe_seconds_ = seconds_since(start);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*shared_dir_, ignored);
    delete shared_dir_;
    delete probe_;
  }
  void SetUp() override {
    GuardTest::SetUp();
    ASSERT_EQ(probe_->exit_code, 0) << probe_->err << probe_->out;
    for (const auto& item : fs::directory_iterator(*shared_dir_)) {
      if (item.is_regular_file()) fs::copy_file(item.path(), path(item.path().filename().string()));
    }
    file_ = path("probe.toml");
  }

  std::int64_t answer() { return count(db_, "SELECT max_batch_size FROM probe_answers"); }
  double answer_value(const std::string& column) {
    return real_value(db_, "SELECT " + column + " FROM probe_answers");
  }
  std::string trials_text() {
    return text_value(db_,
                      "SELECT GROUP_CONCAT(batch_size || ':' || status || ':' || "
                      "(peak_rss_bytes / 1048576), ' ') FROM probe_trials");
  }
  // The smallest batch size whose full run ran out of memory, from batch `from` upwards
  // one at a time: the largest batch whose whole run fits, found the long way.
  std::int64_t largest_full_run_that_fits(std::int64_t from, int epochs) {
    GuardFile file = probe_file();
    file.name = "long_way";
    file.train =
        "epochs = " + std::to_string(epochs) + "\nwarmup_steps = 1\nmemory_limit = \"384MiB\"\n";
    std::string sizes;
    for (std::int64_t b = from; b < from + 10; ++b)
      sizes += (sizes.empty() ? "" : ", ") + std::to_string(b);
    file.sweep = "\"train.batch_size\" = [" + sizes + "]\n";
    RunResult result = run_file(write_file("long_way.toml", file.text()));
    EXPECT_EQ(result.exit_code, 0) << result.err << result.out;
    return count(db_,
                 "SELECT COALESCE(MIN(batch_size), 0) - 1 FROM runs r JOIN experiments e "
                 "ON e.id = r.experiment_id WHERE e.name = 'long_way' AND status = 'oom'");
  }

  static std::string* shared_dir_;
  static RunResult* probe_;
  static double probe_seconds_;
  std::string file_;
};
std::string* ProbedTest::shared_dir_ = nullptr;
RunResult* ProbedTest::probe_ = nullptr;
double ProbedTest::probe_seconds_ = 0;

TEST_F(ProbedTest, ProbeAnswersTheLargestBatchThatFitsWithAMeasuredMarginAndStoresIt) {
  ASSERT_EQ(count(db_, "SELECT COUNT(*) FROM probe_answers"), 1);
  EXPECT_EQ(count(db_, "SELECT budget_bytes FROM probe_answers"), kBudget);
  const std::int64_t b = answer();
  ASSERT_GT(b, 0) << trials_text();
  // The answer was tried and fitted, with the peak measured until it stopped growing.
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM probe_trials WHERE status = 'ok' AND batch_size = " +
                           std::to_string(b) + " AND steps >= 4 AND plateau_step > 0"),
            1)
      << trials_text();
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM probe_trials WHERE status = 'ok' "
                  "AND peak_rss_bytes > budget_bytes"),
            0)
      << "trials that fit but peaked over the 384 MiB budget (batch:status:MiB): " << trials_text();
  EXPECT_TRUE(contains(
      probe_->out, "largest batch size whose whole run fits in 384.0 MiB: " + std::to_string(b)))
      << probe_->out;
  EXPECT_TRUE(contains(probe_->out, "% headroom")) << probe_->out;
  // And one whole epoch at the answer, validation included, fitted under the budget.
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM probe_trials WHERE kind = 'rehearsal' AND "
                  "status = 'ok' AND peak_rss_bytes <= budget_bytes AND batch_size = " +
                      std::to_string(b)),
            1)
      << trials_text();
  EXPECT_EQ(count(db_, "SELECT rehearsed_peak_bytes FROM probe_answers"),
            count(db_,
                  "SELECT peak_rss_bytes FROM probe_trials WHERE kind = 'rehearsal' "
                  "AND batch_size = " +
                      std::to_string(b)));
  EXPECT_TRUE(contains(probe_->out, "rehearsed: one epoch at " + std::to_string(b) +
                                        ", validation included, peaked at"))
      << probe_->out;

  // The memory model saw what the fixture holds: 8 MiB per sample.
  EXPECT_NEAR(answer_value("per_sample_bytes") / kMiB, 8.0, 0.5) << trials_text();
  // Its prediction at the answer is the measured peak there, within 10%.
  const double measured = real_value(db_,
                                     "SELECT MAX(peak_rss_bytes) FROM probe_trials WHERE "
                                     "status = 'ok' AND batch_size = " +
                                         std::to_string(b));
  EXPECT_NEAR(answer_value("predicted_peak_bytes") / measured, 1.0, 0.10) << trials_text();
  // The margin is kept: predicted peak plus margin within the budget; and the next size
  // would not keep it.
  // The margin is what was measured: three standard deviations of the single peaks'
  // scatter around the model plus the growth a whole run may add, but never less than 2%
  // of the budget (this fixture holds exactly 8 MiB per sample, so its scatter is a few
  // KiB and the floor is what is kept).
  const double margin = answer_value("margin_bytes");
  // (The scatter's share widens away from the measured batch sizes, up to about twice.)
  // What the rehearsed epoch held above the model's prediction joins it.
  const double noise = answer_value("noise_bytes"), growth = answer_value("growth_bytes");
  const double excess = answer_value("epoch_excess_bytes");
  const double floor = orch::kMinMarginShare * static_cast<double>(kBudget);
  EXPECT_GE(margin, std::max(3 * noise + growth, floor) + excess - 1);
  EXPECT_LE(margin, std::max(2 * 3 * noise + growth, floor) + excess + 1);
  EXPECT_TRUE(contains(probe_->out, "margin kept")) << probe_->out;
  EXPECT_TRUE(contains(probe_->out, "the least kept, 2% of the budget")) << probe_->out;
  EXPECT_LE(answer_value("predicted_peak_bytes") + margin, static_cast<double>(kBudget));
  EXPECT_GT(answer_value("fixed_bytes") + answer_value("per_sample_bytes") * (b + 1) + margin,
            static_cast<double>(kBudget) - answer_value("per_sample_bytes"))
      << "the answer is more than one batch size below what the margin allows";
  EXPECT_LT(probe_seconds_, 60.0);
}

TEST_F(ProbedTest, AFullRunAtTheAnswerFitsEveryTimeAndTheAnswerIsNotTimid) {
  const std::int64_t b = answer();
  ASSERT_GT(b, 0) << trials_text();
  // What the user does next: the whole training (two epochs, validation included) at the
  // answer, under the same budget, three times.
  GuardFile file = probe_file();
  file.name = "at_the_answer";
  file.train =
      "epochs = 2\nwarmup_steps = 1\nmemory_limit = \"384MiB\"\nbatch_size = " + std::to_string(b) +
      "\n";
  file.dataset = "samples = 64\nval_samples = 64\nfeatures = 8\n";
  std::string text = file.text();
  text.replace(text.find("seed = 7\n"), 9, "seed = 7\nrepeats = 3\n");
  RunResult result = run_file(write_file("at_the_answer.toml", text));
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  EXPECT_EQ(runs("status = 'ok' AND batch_size = " + std::to_string(b)), 3) << result.out;
  EXPECT_EQ(runs("status = 'ok' AND peak_rss_bytes > budget_bytes"), 0);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs WHERE val_seconds IS NOT NULL"), 6);

  // The long way: full runs from the answer upwards until one runs out of memory.
  const std::int64_t largest = largest_full_run_that_fits(b, 2);
  ASSERT_GT(largest, 0) << "no full run from " << b << " to " << b + 9 << " ran out of memory";
  EXPECT_GE(static_cast<double>(b), 0.85 * static_cast<double>(largest))
      << "the probe answered " << b << "; full runs fit up to " << largest;
}

TEST_F(ProbedTest, SecondProbePrintsTheStoredAnswerWithoutNewTrials) {
  const std::int64_t trials = count(db_, "SELECT COUNT(*) FROM probe_trials");
  const std::int64_t b = answer();
  RunResult again = run_orch(
      {"probe", file_, "--db", db_, "--plugin-dir", kFaultyDir, "--memory-limit", "384MiB"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM probe_trials"), trials);
  EXPECT_TRUE(contains(
      again.out, "largest batch size whose whole run fits in 384.0 MiB: " + std::to_string(b)))
      << again.out;
  EXPECT_TRUE(contains(again.out, "earlier probe")) << again.out;
}

TEST_F(ProbedTest, ProbeAgainRunsNewTrialsAndGivesTheSameAnswer) {
  const std::int64_t trials = count(db_, "SELECT COUNT(*) FROM probe_trials");
  const std::int64_t b = answer();
  RunResult again = run_orch({"probe", file_, "--db", db_, "--plugin-dir", kFaultyDir,
                              "--memory-limit", "384MiB", "--again", "--start", "16"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_GT(count(db_, "SELECT COUNT(*) FROM probe_trials"), trials);
  EXPECT_FALSE(contains(again.out, "earlier probe")) << again.out;
  // Repeatable: the same file, budget and machine give the same answer.
  EXPECT_EQ(answer(), b) << again.out;
}

TEST_F(ProbedTest, AutoBatchSizeRunsAtTheProbedBatch) {
  // Same model, data and backend as the probe, and the same budget: its answer applies.
  GuardFile file = probe_file();
  file.name = "auto";
  file.train += "batch_size = \"auto\"\nmemory_limit = \"384MiB\"\n";
  RunResult result = run_file(write_file("auto.toml", file.text()));
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  const std::int64_t b = answer();
  ASSERT_EQ(runs("1"), 1) << result.out;
  EXPECT_EQ(count(db_, "SELECT batch_size FROM runs"), b);
  EXPECT_EQ(count(db_, "SELECT value_num FROM params WHERE key = 'train.batch_size'"), b);
  EXPECT_EQ(text_value(db_, "SELECT status FROM runs"), "ok")
      << text_value(db_, "SELECT error FROM runs") << "\n"
      << result.out;
  EXPECT_EQ(runs("peak_rss_bytes > budget_bytes"), 0)
      << "the run at the probed batch peaked at "
      << count(db_, "SELECT peak_rss_bytes FROM runs") / kMiB << " MiB, over 384 MiB";
  EXPECT_TRUE(contains(result.out, "train.batch_size=" + std::to_string(b))) << result.out;
}

TEST_F(ProbedTest, PlanForecastsEveryBatchSizeAndTheFullRunsPeakWhereItSaid) {
  const std::int64_t b = answer();
  ASSERT_GT(b, 8) << trials_text();
  // The table practitioners write by hand, before anything runs: batch sizes well inside,
  // at, and far over what fits.
  GuardFile file = probe_file();
  file.name = "forecast";
  file.train = "epochs = 1\nwarmup_steps = 1\nmemory_limit = \"384MiB\"\n";
  // (The data stays the probe's: its size is part of what memory a run holds.)
  const std::vector<std::int64_t> sizes = {4, b / 2, b, std::min<std::int64_t>(b + 16, 64)};
  file.sweep = "\"train.batch_size\" = [" + std::to_string(sizes[0]) + ", " +
               std::to_string(sizes[1]) + ", " + std::to_string(sizes[2]) + ", " +
               std::to_string(sizes[3]) + "]\n";
  const std::string path = write_file("forecast.toml", file.text());
  RunResult plan = run_orch({"plan", path, "--db", db_, "--plugin-dir", kFaultyDir});
  ASSERT_EQ(plan.exit_code, 0) << plan.err << plan.out;
  EXPECT_TRUE(contains(plan.out, "predicted peak")) << plan.out;
  EXPECT_TRUE(contains(plan.out, "does not fit")) << plan.out;
  EXPECT_TRUE(contains(plan.out, "probe answer for this budget: batch size " + std::to_string(b)))
      << plan.out;
  // Nothing ran: plan only reads.
  EXPECT_EQ(runs("1"), 0);

  // Then the user runs what fits, and each whole run peaks where the plan said.
  RunResult run = run_file(path);
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const double fixed = answer_value("fixed_bytes");
  const double per_sample = answer_value("per_sample_bytes");
  for (std::int64_t size : {sizes[0], sizes[1], sizes[2]}) {
    const std::string where = "batch_size = " + std::to_string(size);
    ASSERT_EQ(runs("status = 'ok' AND " + where), 1) << run.out;
    const double measured = real_value(db_, "SELECT peak_rss_bytes FROM runs WHERE " + where);
    EXPECT_NEAR((fixed + per_sample * static_cast<double>(size)) / measured, 1.0, 0.10)
        << "batch " << size << ": measured " << measured / kMiB << " MiB\n"
        << plan.out;
  }
  // The size it said does not fit is the one that ran out of memory (or was skipped
  // because a smaller one had).
  EXPECT_EQ(runs("status IN ('oom', 'skipped') AND batch_size = " + std::to_string(sizes[3])), 1)
      << run.out;
}

TEST_F(GuardTest, FreedHeapMemoryIsHandedBackNearTheBudgetSoARunStopsOnlyForWhatItUses) {
  // A model whose heap keeps about as much freed memory resident as it holds alive
  // (64 MiB of tensors at batch 16, on a worker's 90 MiB).
  GuardFile file = fragmenter_file("fragmented");
  file.train += "batch_size = 16\n";
  const std::string path = write_file("fragmented.toml", file.text());
  // With room to spare, the freed memory stays resident and the peak shows it ...
  RunResult roomy = run_file(path, {"--memory-limit", "1GiB"});
  ASSERT_EQ(roomy.exit_code, 0) << roomy.err << roomy.out;
  ASSERT_EQ(runs("status = 'ok'"), 1) << roomy.out;
  EXPECT_GT(count(db_, "SELECT peak_rss_bytes FROM runs"), 200 * kMiB)
      << "the fixture should hold freed memory above 200 MiB when nothing presses it";
  // ... and under a budget its live memory fits but that would not, the run finishes ok:
  // the worker returns the freed memory as it nears the budget.
  RunResult tight = run_file(path, {"--memory-limit", "200MiB"});
  ASSERT_EQ(tight.exit_code, 0) << tight.err << tight.out;
  EXPECT_EQ(runs("status = 'ok' AND budget_bytes = " + std::to_string(200 * kMiB)), 1)
      << text_value(db_, "SELECT error FROM runs ORDER BY id DESC LIMIT 1") << "\n"
      << tight.out;
  EXPECT_EQ(runs("peak_rss_bytes > budget_bytes"), 0);
}

TEST_F(GuardTest, AProbeAnswersByTheMemoryARunHoldsAliveNotByWhatItsHeapKept) {
  // The heap of this fixture keeps about three times as much freed memory resident as it
  // holds alive, until freed pages go back to the kernel; runs near their budget hand them
  // back. A probe that sized batches by the kept memory would answer a fraction of what
  // fits; its trials hand freed memory back throughout and see what the steps hold.
  GuardFile file = fragmenter_file("fragmented_probe");
  const std::string probe_path = write_file("fragmented_probe.toml", file.text());
  RunResult probe = run_orch({"probe", probe_path, "--db", db_, "--plugin-dir", kFaultyDir,
                              "--memory-limit", "200MiB", "--start", "4"});
  ASSERT_EQ(probe.exit_code, 0) << probe.err << probe.out;
  const std::int64_t answer = count(db_, "SELECT max_batch_size FROM probe_answers");
  ASSERT_GT(answer, 1) << probe.out;
  EXPECT_GT(count(db_, "SELECT MIN(memory_trims) FROM probe_trials WHERE kind = 'trial'"), 0)
      << "every trial should have handed freed memory back\n"
      << probe.out;
  // Its epoch ran near the budget, handing memory back, and the probe says so, with the
  // largest size whose runs never do.
  EXPECT_TRUE(contains(probe.out, "handed freed memory back")) << probe.out;
  EXPECT_TRUE(contains(probe.out, "is the largest predicted to stay under 90% of the budget"))
      << probe.out;

  // What the user does next: the whole run at the answer fits ...
  file.train = "epochs = 2\nwarmup_steps = 1\nmemory_limit = \"200MiB\"\nbatch_size = " +
               std::to_string(answer) + "\n";
  RunResult at_answer = run_file(write_file("fragmented_at_answer.toml", file.text()));
  ASSERT_EQ(at_answer.exit_code, 0) << at_answer.err << at_answer.out;
  EXPECT_EQ(runs("status = 'ok' AND batch_size = " + std::to_string(answer)), 1)
      << text_value(db_, "SELECT error FROM runs") << "\n"
      << probe.out << at_answer.out;
  // ... and the answer is not timid, at least 85% of the largest batch whose whole run
  // fits: the smallest batch of which it would be less runs out of memory.
  const std::int64_t larger = answer * 100 / 85 + 1;
  file.train = "epochs = 2\nwarmup_steps = 1\nmemory_limit = \"200MiB\"\nbatch_size = " +
               std::to_string(larger) + "\n";
  RunResult above = run_file(write_file("fragmented_above.toml", file.text()));
  EXPECT_EQ(runs("status = 'oom' AND batch_size = " + std::to_string(larger)), 1)
      << "batch " << larger << " fits as well: the probe's answer " << answer << " is timid\n"
      << probe.out << above.out;
}

TEST_F(GuardTest, ARehearsalCatchesMemoryThatGrowsLaterThanTheTrialsLookAndTheRunFits) {
  // Memory that grows by half after 12 forward calls: later than this fixture's trials
  // look (its peak is flat, so each stops after 8 steps and a validation batch: 9 forward
  // calls), early in an epoch of 1024 samples. The trials alone would answer a batch size
  // whose whole run runs out of memory; the epoch rehearsed at it shows that. (2 MiB per
  // sample under 192 MiB: each step touches about 100 MiB, few enough to keep the test
  // short on a loaded machine.)
  GuardFile file;
  file.name = "late_in_the_epoch";
  file.dataset = "samples = 1024\nval_samples = 16\nfeatures = 8\n";
  file.model =
      "plugin = \"memory_hog\"\nmib_per_sample = 2\nlate_after = 12\n"
      "late_mib_per_sample = 1\n";
  const std::string probe_path = write_file("late.toml", file.text());
  RunResult probe = run_orch({"probe", probe_path, "--db", db_, "--plugin-dir", kFaultyDir,
                              "--memory-limit", "192MiB", "--start", "16"});
  ASSERT_EQ(probe.exit_code, 0) << probe.err << probe.out;
  const std::int64_t b = count(db_, "SELECT max_batch_size FROM probe_answers");
  ASSERT_GT(b, 2) << probe.out;
  const std::int64_t largest_trial =
      count(db_, "SELECT MAX(batch_size) FROM probe_trials WHERE kind = 'trial' AND status = 'ok'");
  EXPECT_LT(b, largest_trial) << "the rehearsal should have lowered the trials' answer\n"
                              << probe.out;
  EXPECT_GE(count(db_,
                  "SELECT COUNT(*) FROM probe_trials WHERE kind = 'rehearsal' "
                  "AND status = 'oom'"),
            1)
      << probe.out;
  // The answer is the size whose rehearsed epoch fitted, and it says so.
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM probe_trials WHERE kind = 'rehearsal' "
                  "AND status = 'ok' AND batch_size = " +
                      std::to_string(b)),
            1)
      << probe.out;
  EXPECT_GT(count(db_, "SELECT rehearsed_peak_bytes FROM probe_answers"), 0);
  EXPECT_TRUE(contains(probe.out, "one epoch: oom")) << probe.out;
  EXPECT_TRUE(contains(probe.out, "rehearsed: one epoch at " + std::to_string(b))) << probe.out;

  // Without the rehearsal, the trials' own answer, said to be unrehearsed.
  RunResult unrehearsed =
      run_orch({"probe", probe_path, "--db", path("unrehearsed.db"), "--plugin-dir", kFaultyDir,
                "--memory-limit", "192MiB", "--start", "16", "--no-rehearsal"});
  ASSERT_EQ(unrehearsed.exit_code, 0) << unrehearsed.err << unrehearsed.out;
  EXPECT_GT(count(path("unrehearsed.db"), "SELECT max_batch_size FROM probe_answers"), b);
  EXPECT_TRUE(contains(unrehearsed.out, "not rehearsed")) << unrehearsed.out;

  // What the user does next: the whole training, two epochs, at the answer.
  file.train =
      "epochs = 2\nwarmup_steps = 1\nmemory_limit = \"192MiB\"\nbatch_size = " + std::to_string(b) +
      "\n";
  RunResult full = run_file(write_file("late_full.toml", file.text()));
  ASSERT_EQ(full.exit_code, 0) << full.err << full.out;
  EXPECT_EQ(runs("status = 'ok' AND batch_size = " + std::to_string(b)), 1)
      << text_value(db_, "SELECT error FROM runs") << "\n"
      << full.out;
}

TEST_F(GuardTest, AFullRunThatRunsOutOfMemoryCorrectsTheProbeAnswerThatAutoThenUses) {
  // Memory that grows after 40 forward calls: after the trials (9 calls) and after the
  // epoch rehearsed at their answer (1024 samples at about 50: 21 calls), so the probe does
  // not see it; the second epoch of a three-epoch run does (a cache that fills late).
  GuardFile file;
  file.name = "late";
  file.dataset = "samples = 1024\nval_samples = 16\nfeatures = 8\n";
  file.model =
      "plugin = \"memory_hog\"\nmib_per_sample = 2\nlate_after = 40\n"
      "late_mib_per_sample = 1\n";
  file.train = "epochs = 3\nwarmup_steps = 1\n";
  const std::string probe_path = write_file("late.toml", file.text());
  RunResult probe = run_orch({"probe", probe_path, "--db", db_, "--plugin-dir", kFaultyDir,
                              "--memory-limit", "192MiB", "--start", "16"});
  ASSERT_EQ(probe.exit_code, 0) << probe.err << probe.out;
  const std::int64_t probed = count(db_, "SELECT max_batch_size FROM probe_answers");
  ASSERT_GT(probed, 2);

  file.train += "batch_size = \"auto\"\nmemory_limit = \"192MiB\"\n";
  RunResult first = run_file(write_file("late_auto.toml", file.text()));
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  ASSERT_EQ(runs("batch_size = " + std::to_string(probed) + " AND status = 'oom'"), 1)
      << "the late memory should not fit at the probed " << probed << ": " << first.out;
  // One truth: the stored answer is lowered, says why, and names the run.
  const std::int64_t corrected = count(db_, "SELECT max_batch_size FROM probe_answers");
  EXPECT_LT(corrected, probed);
  EXPECT_GT(corrected, 0);
  EXPECT_EQ(count(db_, "SELECT corrected_by_run_id FROM probe_answers"),
            count(db_, "SELECT id FROM runs WHERE status = 'oom'"));
  EXPECT_TRUE(contains(text_value(db_, "SELECT note FROM probe_answers"),
                       "ran out of memory at batch size " + std::to_string(probed)));
  EXPECT_TRUE(contains(first.out, "lowered from " + std::to_string(probed))) << first.out;

  // The next auto run starts from the corrected answer, not the disproved one.
  RunResult second = run_file(path("late_auto.toml"), {"--run-infeasible"});
  ASSERT_EQ(second.exit_code, 0) << second.err << second.out;
  EXPECT_EQ(count(db_, "SELECT batch_size FROM runs ORDER BY id DESC LIMIT 1"), corrected)
      << second.out;
  // That run learns only that the memory outgrows the budget (the watchdog stops it at the
  // budget), so it may lower the answer again, never raise it.
  const std::int64_t now = count(db_, "SELECT max_batch_size FROM probe_answers");
  EXPECT_LE(now, corrected);
  // And the probe itself now prints the stored answer and why, without new trials.
  RunResult reprobe = run_orch(
      {"probe", probe_path, "--db", db_, "--plugin-dir", kFaultyDir, "--memory-limit", "192MiB"});
  EXPECT_TRUE(contains(reprobe.out,
                       "fits in 192.0 MiB: " + std::to_string(now) + " (from an earlier probe"))
      << reprobe.out;
  EXPECT_TRUE(contains(reprobe.out, "ran out of memory at batch size")) << reprobe.out;
}

// ---- 5. Ctrl-C and kill -9 of the host ----

TEST_F(GuardTest, CtrlCInterruptsTheRunningRunAndTheRerunCompletes) {
  const std::string path = write_file("long.toml", long_mlp_file("ctrl_c", 1).text());
  Started orch = start_orch_in(dir_, {"run", path, "--db", db_});
  KillOnExit cleanup{orch};
  ASSERT_TRUE(wait_until(
      [&] {
        return count_while_running(db_, "SELECT COUNT(*) FROM runs WHERE status = 'running'") > 0;
      },
      std::chrono::seconds(30)))
      << "no run was ever marked running";
  const std::int64_t worker = count(db_, "SELECT worker_pid FROM runs WHERE status = 'running'");
  ASSERT_GT(worker, 0);

  auto sent = Clock::now();
  ASSERT_EQ(::kill(orch.pid, SIGINT), 0);  // the orch process only, as a terminal would
  RunResult result = wait_orch(orch, std::chrono::seconds(10));
  const double took = seconds_since(sent);
  EXPECT_EQ(result.exit_code, 130) << result.err << result.out;
  EXPECT_LT(took, 5.0) << "orch took " << took << " s to stop after Ctrl-C";

  EXPECT_EQ(runs("status = 'interrupted' AND stop_layer = 'interrupt' AND worker_pid = " +
                 std::to_string(worker)),
            1)
      << text_value(db_,
                    "SELECT GROUP_CONCAT(status || ':' || IFNULL(stop_layer, '-'), ' ') FROM runs");
  EXPECT_EQ(runs("status = 'interrupted' AND error LIKE '%not started%'"),
            3 - 1 - runs("status = 'ok'"));
  EXPECT_EQ(runs("status NOT IN ('ok', 'interrupted')"), 0);
  EXPECT_TRUE(process_gone(static_cast<pid_t>(worker))) << "worker " << worker << " survived";

  RunResult rerun = run_orch({"run", path, "--db", db_});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err << rerun.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT run_key) FROM runs"), 3);
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM (SELECT run_key FROM runs GROUP BY run_key "
                  "HAVING SUM(status = 'ok') = 1)"),
            3);
}

TEST_F(GuardTest, KillNineOfTheHostKillsTheWorkerAndTheRerunCompletesWithoutDuplicates) {
  const std::string path = write_file("long.toml", long_mlp_file("kill9", 2).text());
  Started orch = start_orch_in(dir_, {"run", path, "--db", db_});
  KillOnExit cleanup{orch};
  // Mid-sweep: one run finished ok, the next one running.
  ASSERT_TRUE(wait_until(
      [&] {
        return count_while_running(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'") >= 1 &&
               count_while_running(db_, "SELECT COUNT(*) FROM runs WHERE status = 'running'") >= 1;
      },
      std::chrono::seconds(40)))
      << "never saw one run ok and the next running";
  const std::int64_t worker = count(db_, "SELECT worker_pid FROM runs WHERE status = 'running'");
  ASSERT_GT(worker, 0);

  ASSERT_EQ(::kill(orch.pid, SIGKILL), 0);
  RunResult killed = wait_orch(orch, std::chrono::seconds(10));
  EXPECT_EQ(killed.exit_code, 128 + SIGKILL);
  EXPECT_TRUE(
      wait_until([&] { return process_gone(static_cast<pid_t>(worker)); }, std::chrono::seconds(2)))
      << "worker " << worker << " outlived the killed host";
  const std::int64_t ok_before = runs("status = 'ok'");

  RunResult rerun = run_orch({"run", path, "--db", db_});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err << rerun.out;
  EXPECT_TRUE(contains(rerun.out, "left unfinished")) << rerun.out;
  EXPECT_TRUE(contains(rerun.out, "marked interrupted")) << rerun.out;
  EXPECT_TRUE(contains(rerun.out, std::to_string(ok_before) + " of 3 runs already finished ok"))
      << rerun.out;
  // Nothing is left pending or running, and the killed run is on record as interrupted.
  EXPECT_EQ(runs("status IN ('pending', 'running')"), 0);
  EXPECT_EQ(runs("status = 'interrupted' AND worker_pid = " + std::to_string(worker)), 1);
  // Every point has exactly one ok row, and each ok run has exactly its epochs.
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT run_key) FROM runs"), 3);
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM (SELECT run_key FROM runs GROUP BY run_key "
                  "HAVING SUM(status = 'ok') = 1)"),
            3);
  EXPECT_EQ(runs("status = 'ok'"), 3);
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM runs r JOIN params p ON p.run_id = r.id "
                  "AND p.key = 'train.epochs' WHERE r.status = 'ok' AND p.value_num = "
                  "(SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id)"),
            3);
}

// A worker that would never finish on its own shows that it dies with the host, rather
// than merely finishing its run soon after.
TEST_F(GuardTest, KillNineOfTheHostAlsoKillsAWorkerThatWouldNeverFinish) {
  GuardFile file;
  file.name = "hang_kill9";
  file.model = "plugin = \"hangs\"\n";
  file.train += "batch_size = 4\n";  // and no timeout
  const std::string path = write_file("hang.toml", file.text());
  Started orch = start_orch_in(dir_, {"run", path, "--db", db_, "--plugin-dir", kFaultyDir});
  KillOnExit cleanup{orch};
  ASSERT_TRUE(wait_until(
      [&] {
        return count_while_running(db_, "SELECT COUNT(*) FROM runs WHERE status = 'running'") > 0;
      },
      std::chrono::seconds(30)))
      << "no run was ever marked running";
  const auto worker =
      static_cast<pid_t>(count(db_, "SELECT worker_pid FROM runs WHERE status = 'running'"));
  ASSERT_GT(worker, 0);

  ASSERT_EQ(::kill(orch.pid, SIGKILL), 0);
  wait_orch(orch, std::chrono::seconds(10));
  const bool gone = wait_until([&] { return process_gone(worker); }, std::chrono::seconds(2));
  if (!gone) ::kill(worker, SIGKILL);  // this test's own orphan: do not leak it
  EXPECT_TRUE(gone) << "worker " << worker << " kept running after its host was killed";
}

// ---- 6. budgets refused before anything is written ----

TEST_F(GuardTest, BudgetLargerThanTheMachineIsRefused) {
  GuardFile file = hog_file("big", "memory_limit = \"64TiB\"\n", "");
  expect_bad_input(run_file(write_file("e.toml", file.text())),
                   {"train.memory_limit", "64TiB", "more than this machine has"}, db_);
}

TEST_F(GuardTest, ZeroBudgetIsRefused) {
  GuardFile file = hog_file("zero", "memory_limit = \"0MiB\"\n", "");
  expect_bad_input(run_file(write_file("e.toml", file.text())),
                   {"train.memory_limit", "more than 0"}, db_);
}

TEST_F(GuardTest, MalformedBudgetIsRefused) {
  GuardFile file = hog_file("lots", "memory_limit = \"lots\"\n", "");
  expect_bad_input(run_file(write_file("e.toml", file.text())),
                   {"train.memory_limit", "\"lots\"", "not a memory size"}, db_);
}

TEST_F(GuardTest, ShareOverAHundredPercentIsRefused) {
  GuardFile file = hog_file("share", "memory_limit = \"150%\"\n", "");
  expect_bad_input(run_file(write_file("e.toml", file.text())),
                   {"train.memory_limit", "150%", "100%"}, db_);
}

TEST_F(GuardTest, BadMemoryLimitFlagNamesTheFlag) {
  const std::string file = write_file("e.toml", hog_file("flag", "", "").text());
  expect_bad_input(run_file(file, {"--memory-limit", "lots"}),
                   {"--memory-limit", "not a memory size"}, db_);
  expect_bad_input(run_file(file, {"--memory-limit", "64TiB"}),
                   {"--memory-limit", "more than this machine has"}, db_);
  expect_bad_input(
      run_orch({"probe", file, "--db", db_, "--plugin-dir", kFaultyDir, "--memory-limit", "0MiB"}),
      {"--memory-limit", "more than 0"}, db_);
}

TEST_F(GuardTest, BudgetBelowWhatAWorkerHoldsIsRefusedBeforeAnythingIsWritten) {
  GuardFile file = hog_file("tiny", "memory_limit = \"32MiB\"\n", "");
  expect_bad_input(run_file(write_file("e.toml", file.text())),
                   {"32.0 MiB", "leaves no room to train"}, db_);
}

}  // namespace
