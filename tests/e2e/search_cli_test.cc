// A sampled search through the real binary, with real workers: what `orch plan` says it
// will run first is what `orch run` runs; a search killed with kill -9 resumes without
// running a point twice; two orch processes on one database share one search.
#include <signal.h>

#include <functional>
#include <set>

#include "e2e_support.h"

namespace {

using namespace orch::e2e;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kOrch = ORCH_BINARY;
constexpr auto kOrchTimeout = std::chrono::seconds(180);

// An MLP search over a log range of learning rates, a width range and two batch sizes;
// `samples` sets how long each run takes (12000: about a second on one core).
std::string search_file(const std::string& search, int samples = 512, int epochs = 3) {
  return "[experiment]\nname = \"searching\"\nseed = 3\n\n[backend]\nplugin = \"cpu\"\n"
         "threads = 1\n\n[dataset]\nplugin = \"synthetic\"\nsamples = " +
         std::to_string(samples) +
         "\nval_samples = 256\nfeatures = 16\n\n[model]\nplugin = \"mlp\"\nhidden = 32\n\n"
         "[train]\nepochs = " +
         std::to_string(epochs) +
         "\nbatch_size = 16\nwarmup_steps = 1\n\n[sweep]\n"
         "\"train.lr\" = { from = 1e-4, to = 1e-1, scale = \"log\" }\n"
         "\"model.hidden\" = { from = 8, to = 64 }\n\"train.batch_size\" = [16, 32]\n\n"
         "[objective]\nmetric = \"val_accuracy\"\n\n[search]\n" +
         search;
}

class SearchCliTest : public FreshDirectoryTest {
 protected:
  SearchCliTest() : FreshDirectoryTest("search_cli_test") {}
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
                      "SELECT GROUP_CONCAT(id || ':' || status || ' ' || swept, '; ') "
                      "FROM runs");
  }
  // Polls the database (being written by another process) until `ready` holds.
  bool wait_until(const std::function<bool()>& ready) {
    const auto deadline = Clock::now() + std::chrono::seconds(90);
    while (Clock::now() < deadline) {
      try {
        if (fs::exists(db_) && ready()) return true;
      } catch (const SQLite::Exception&) {
        // the schema is being made, or a write holds the lock: ask again
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  std::string db_;
};

TEST_F(SearchCliTest, PlanShowsTheSpaceAndThePointsRunThenRunsExactlyThose) {
  const std::string file =
      write_file("s.toml", search_file("strategy = \"bayes\"\nmax_runs = 5\nseed = 11\n"));
  RunResult plan = orch({"plan", file, "--db", db_});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_TRUE(contains(plan.out, "bayes search, up to 5 points, seed 11")) << plan.out;
  EXPECT_TRUE(contains(plan.out, "train.lr          reals 0.0001 .. 0.1, log scale")) << plan.out;
  EXPECT_TRUE(contains(plan.out, "model.hidden      integers 8 .. 64")) << plan.out;
  EXPECT_TRUE(contains(plan.out, "train.batch_size  one of 16, 32")) << plan.out;

  RunResult run = orch({"run", file, "--db", db_});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM search_points"), 5);
  EXPECT_EQ(runs("status = 'ok'"), 5) << all_runs();
  // Bayes starts from quasi-random points: the plan's first points are the runs' points.
  for (int i = 1; i <= 5; ++i) {
    const std::string swept =
        text_value(db_, "SELECT swept FROM runs WHERE id = " + std::to_string(i));
    EXPECT_TRUE(contains(plan.out, "  " + std::to_string(i) + "  " + swept + "\n"))
        << swept << " is not point " << i << " of the plan:\n"
        << plan.out;
  }
  EXPECT_TRUE(contains(run.out, "best (highest val_accuracy)")) << run.out;
  // Running the file again finds the search done: no new run.
  RunResult again = orch({"run", file, "--db", db_});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs"), 5);
}

TEST_F(SearchCliTest, ASearchKilledWithSigkillResumesWithoutRunningAPointTwice) {
  const std::string file =
      write_file("s.toml", search_file("strategy = \"sobol\"\nmax_runs = 5\n", 12000, 1));
  Started victim = start_in(dir_, kOrch, {"run", file, "--db", db_});
  ASSERT_TRUE(wait_until([&] { return runs("status = 'ok'") >= 2 && runs("status = 'running'"); }))
      << "the third point never started";
  ::kill(-victim.pid, SIGKILL);  // orch and its worker, as a crash or an OOM killer would
  wait_for(victim, kOrchTimeout);
  ASSERT_EQ(runs("status = 'running'"), 1) << all_runs();

  RunResult resumed = orch({"run", file, "--db", db_});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err << resumed.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM search_points"), 5);
  EXPECT_EQ(runs("status = 'ok'"), 5) << all_runs();
  EXPECT_EQ(runs("status = 'interrupted'"), 1) << "the killed run: " << all_runs();
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT run_key) FROM runs WHERE status = 'ok'"), 5)
      << "a point finished twice: " << all_runs();
  // The killed point ran again and finished: every point has an ok run.
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM search_points p WHERE NOT EXISTS (SELECT 1 FROM "
                  "runs r WHERE r.config_key = p.config_key AND r.status = 'ok')"),
            0)
      << all_runs();
}

TEST_F(SearchCliTest, TwoOrchProcessesOnOneDatabaseShareOneSearch) {
  const std::string file =
      write_file("s.toml", search_file("strategy = \"random\"\nmax_runs = 6\n", 6000, 1));
  Started a = start_in(dir_, kOrch, {"run", file, "--db", db_});
  Started b = start_in(dir_, kOrch, {"run", file, "--db", db_});
  RunResult first = wait_for(a, kOrchTimeout);
  RunResult second = wait_for(b, kOrchTimeout);
  const std::string both = "first orch:\n" + first.err + first.out + "\n----\nsecond orch:\n" +
                           second.err + second.out + "\n----\n" + all_runs();
  ASSERT_EQ(first.exit_code, 0) << both;
  ASSERT_EQ(second.exit_code, 0) << both;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM search_points"), 6) << "one search, not two";
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT config_key) FROM search_points"), 6);
  EXPECT_EQ(runs("status = 'ok'"), 6) << all_runs();
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT run_key) FROM runs"), 6) << all_runs();
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT experiment_id) FROM runs"), 2)
      << "both processes ran points:\n"
      << first.out << "\n----\n"
      << second.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM claims"), 0);
}

TEST_F(SearchCliTest, ASearchCannotBeShardedOrSubmittedAsAnArrayAndSaysHowToShareIt) {
  const std::string file =
      write_file("s.toml", search_file("strategy = \"random\"\nmax_runs = 4\n"));
  RunResult run = orch({"run", file, "--db", db_, "--shard", "0/2"});
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_TRUE(contains(run.err, "start orch run on the same --db from several processes"))
      << run.err;
  EXPECT_FALSE(fs::exists(db_)) << "nothing written";
  RunResult submit = orch({"submit", file, "--db", db_, "--slurm", "--dry-run"});
  EXPECT_EQ(submit.exit_code, 2) << submit.out;
  EXPECT_TRUE(contains(submit.err, "Slurm array tasks each write their own database"))
      << submit.err;
  EXPECT_FALSE(fs::exists(db_)) << "nothing written";
}

// promote = true with one point: asha pauses it at epoch 1 and at epoch 2 (nobody goes on
// from a rung alone), and as the search has nothing else to run and no answer yet, it takes
// the run up from its checkpoint each time until it finishes. The answer is the one an
// uninterrupted run of that point gives, weights and all, and no checkpoint is left.
TEST_F(SearchCliTest, APausedRunGoesOnFromItsCheckpointAndEndsAsAnUninterruptedRun) {
  const std::string search =
      "strategy = \"random\"\nmax_runs = 1\nprune = \"asha\"\nmin_epochs = 1\n"
      "reduction = 2\npromote = true\n";
  const std::string file = write_file("s.toml", search_file(search, 512, 4));
  RunResult run = orch({"run", file, "--db", db_});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(runs("status = 'pruned' AND error LIKE 'paused by asha: val_accuracy % at epoch 1, "
                 "an ASHA rung, ranked 1st of 1 runs there: not in the best 1/2 (none goes on "
                 "before 2 runs reached it)%'"),
            1)
      << all_runs();
  EXPECT_EQ(runs("status = 'pruned' AND error LIKE 'paused by asha: % at epoch 2,%'"), 1)
      << all_runs();
  EXPECT_EQ(runs("status = 'ok' AND resumed_from_epoch = 2"), 1) << all_runs();
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT run_key) FROM runs"), 1);
  EXPECT_TRUE(contains(run.out,
                       "goes on from its pause after epoch 1: the best at the deepest "
                       "rung, so that a run finishes"))
      << run.out;
  // Each epoch was trained once: the later attempts carry the earlier ones' rows.
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs WHERE from_run_id IS NULL"), 4);
  const std::string ok_run = text_value(db_, "SELECT id FROM runs WHERE status = 'ok'");
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs WHERE run_id = " + ok_run), 4);
  EXPECT_TRUE(fs::is_empty(path("history-checkpoints"))) << "a paused run's checkpoint was left";

  // The same point trained straight through, in a database of its own.
  const std::string swept = text_value(db_, "SELECT swept FROM runs WHERE id = " + ok_run);
  std::string plain = search_file("", 512, 4);
  plain.erase(plain.find("[sweep]"), plain.find("[objective]") - plain.find("[sweep]"));
  std::vector<std::string> straight_args = {"run", write_file("plain.toml", plain), "--db",
                                            path("straight.db")};
  std::istringstream words(swept);
  for (std::string word; words >> word;) {
    straight_args.push_back("--set");
    straight_args.push_back(word);
  }
  RunResult straight = orch(straight_args);
  ASSERT_EQ(straight.exit_code, 0) << straight.err << straight.out;
  const std::string losses =
      "SELECT GROUP_CONCAT(v, ' ') FROM (SELECT printf('%.9g/%.9g', e.train_loss, "
      "e.val_accuracy) AS v FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.status = 'ok' "
      "ORDER BY e.epoch)";
  EXPECT_EQ(count(path("straight.db"), "SELECT COUNT(*) FROM epochs"), 4);
  EXPECT_EQ(text_value(db_, losses), text_value(path("straight.db"), losses));
}

// Real workers in benchmark mode: batch 4 is several times slower per sample than batch 64
// on any machine, so after three paired rounds its last repeat is not run.
TEST_F(SearchCliTest, ARaceOnRealRunsStopsRepeatingTheClearlySlowerBatch) {
  const std::string file = write_file(
      "race.toml",
      "[experiment]\nname = \"race\"\nseed = 1\nrepeats = 4\n\n[backend]\nplugin = \"cpu\"\n"
      "threads = 1\n\n[dataset]\nplugin = \"synthetic\"\nsamples = 4096\n\n[model]\n"
      "plugin = \"mlp\"\nhidden = 64\n\n[train]\nepochs = 1\nmode = \"benchmark\"\n\n"
      "[sweep]\n\"train.batch_size\" = [4, 64]\n\n[objective]\nmetric = \"samples_per_s\"\n\n"
      "[search]\nrace = true\n");
  RunResult run = orch({"run", file, "--db", db_});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(runs("status = 'ok'"), 7) << all_runs();
  EXPECT_EQ(runs("status = 'pruned' AND stop_layer = 'race' AND swept = 'train.batch_size=4' "
                 "AND repeat = 3 AND worker_pid IS NULL AND error LIKE 'raced out: %x slower "
                 "than the best (train.batch_size=64) in samples_per_s, paired over 3 rounds%'"),
            1)
      << all_runs();
  EXPECT_TRUE(contains(run.out, "best (highest samples_per_s): train.batch_size=64")) << run.out;
}

// metric = "time_to_target" with real training: each run stops after the epoch that
// reaches the target (fewer epochs than it was given), ends ok, and the report ranks by
// the wall time it took.
TEST_F(SearchCliTest, RealRunsStopAtTheTargetAndAreRankedByTheTimeToIt) {
  const std::string file = write_file(
      "target.toml",
      "[experiment]\nname = \"target\"\nseed = 1\n\n[backend]\nplugin = \"cpu\"\n"
      "threads = 1\n\n[dataset]\nplugin = \"synthetic\"\nsamples = 2048\nval_samples = 512\n\n"
      "[model]\nplugin = \"mlp\"\nhidden = 32\n\n[train]\nepochs = 20\nbatch_size = 32\n\n"
      "[sweep]\n\"train.lr\" = [1e-2, 1e-5]\n\n[objective]\nmetric = \"time_to_target\"\n"
      "target = { val_accuracy = 0.8 }\n");
  RunResult run = orch({"run", file, "--db", db_});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(runs("status = 'ok'"), 2) << all_runs();
  // lr 1e-2 gets there within a few epochs and stops; lr 1e-5 trains all 20 and does not.
  EXPECT_EQ(runs("swept = 'train.lr=0.01' AND stop_layer = 'target' AND error LIKE "
                 "'reached val_accuracy >= 0.8 at epoch %'"),
            1)
      << all_runs();
  EXPECT_LT(count(db_,
                  "SELECT COUNT(*) FROM epochs e JOIN runs r ON r.id = e.run_id WHERE "
                  "r.swept = 'train.lr=0.01'"),
            20);
  EXPECT_TRUE(contains(run.out, "best (fastest to val_accuracy >= 0.8): train.lr=0.01")) << run.out;
  EXPECT_TRUE(contains(run.out, "(1 did not reach val_accuracy >= 0.8)")) << run.out;
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM epochs e JOIN runs r ON r.id = e.run_id WHERE "
                  "r.swept = 'train.lr=1e-05'"),
            20)
      << "it never got there: every epoch it was given";
}

}  // namespace
