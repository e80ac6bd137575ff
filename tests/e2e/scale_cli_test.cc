// End-to-end tests of scaling out: `orch submit --slurm` writing a job array, `orch run
// --shard I/N` splitting a sweep, `orch merge` folding the shard databases together and
// `orch status` counting across them. The real orch binary and plugins throughout; where
// Slurm would run the job script, bash runs it with SLURM_ARRAY_TASK_ID set, as slurmd
// does (a real single-node Slurm is tests/e2e/slurm_submit_test.sh). Only sbatch itself is
// a stand-in here: a script that accepts or refuses the job.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "e2e_support.h"

namespace {

using namespace orch::e2e;
namespace fs = std::filesystem;

const std::string kOrch = ORCH_BINARY;
const std::string kFaultyDir = std::string(ORCH_FIXTURE_DIR) + "/faulty";
constexpr auto kTimeout = std::chrono::seconds(90);

// Six quick runs (3 batch sizes x 2 epoch counts) of a tiny MLP on synthetic data.
std::string sweep_text(const std::string& name = "scale", const std::string& extra_train = "") {
  return "[experiment]\nname = \"" + name +
         "\"\nseed = 7\n\n"
         "[backend]\nplugin = \"cpu\"\nthreads = 1\n\n"
         "[dataset]\nplugin = \"synthetic\"\nsamples = 256\nval_samples = 64\nfeatures = 8\n\n"
         "[model]\nplugin = \"mlp\"\nhidden = 16\n\n"
         "[train]\nepochs = 1\nbatch_size = 8\nwarmup_steps = 1\nmemory_limit = \"1GiB\"\n" +
         extra_train + "\n[sweep]\n\"train.batch_size\" = [4, 8, 16]\n\"train.epochs\" = [1, 2]\n";
}

class ScaleCliTest : public FreshDirectoryTest {
 protected:
  ScaleCliTest() : FreshDirectoryTest("scale_cli_test") {}
  void SetUp() override {
    FreshDirectoryTest::SetUp();
    if (HasFatalFailure()) return;  // no directory to write into
    db_ = path("orch.db");
    file_ = write_file("sweep.toml", sweep_text());
  }
  std::string shard_dir(const std::string& experiment = "scale") const {
    return path("orch-shards/" + experiment);
  }

  RunResult orch(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    return run_in(dir_, kOrch, args, env, kTimeout);
  }

  // A directory holding an `sbatch` that prints `out` and `err` and exits with `code`,
  // recording its arguments in sbatch.args; returns PATH=... for the environment.
  std::string fake_sbatch(const std::string& out, const std::string& err, int code) {
    const std::string bin = path("bin");
    fs::create_directories(bin);
    const std::string script =
        write_file_in(bin, "sbatch",
                      "#!/bin/sh\necho \"$@\" > " + path("sbatch.args") + "\necho '" + out +
                          "'\necho '" + err + "' >&2\nexit " + std::to_string(code) + "\n");
    ::chmod(script.c_str(), 0755);
    return "PATH=" + bin + ":/usr/bin:/bin";
  }

  // Runs one array task of the written job script as slurmd would.
  RunResult run_task(int task, const std::string& experiment = "scale") {
    return run_in(dir_, "/bin/bash", {shard_dir(experiment) + "/job.sbatch"},
                  {"SLURM_ARRAY_TASK_ID=" + std::to_string(task)}, kTimeout);
  }

  std::string db_, file_;
};

TEST_F(ScaleCliTest, DryRunPrintsTheJobArrayScriptAndWritesNothing) {
  RunResult result = orch({"--db", db_, "submit", file_, "--slurm", "--dry-run", "--shards", "3",
                           "--array-parallelism", "2", "--partition", "debug", "--time", "10:00",
                           "--set", "train.lr = 0.01"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& script = result.out;
  EXPECT_EQ(script.rfind("#!/bin/bash\n", 0), 0u) << script;
  EXPECT_TRUE(contains(script, "\n#SBATCH --job-name=orch-scale\n")) << script;
  EXPECT_TRUE(contains(script, "\n#SBATCH --array=0-2%2\n")) << script;
  // The file's 1 GiB budget per run plus room for the orch process itself.
  EXPECT_TRUE(contains(script, "\n#SBATCH --mem=1280M\n")) << script;
  EXPECT_TRUE(contains(script, "\n#SBATCH --cpus-per-task=1\n")) << script;
  EXPECT_TRUE(contains(script, "\n#SBATCH --partition=debug\n")) << script;
  EXPECT_TRUE(contains(script, "\n#SBATCH --time=10:00\n")) << script;
  EXPECT_TRUE(contains(script, "\n#SBATCH --output=" + shard_dir() + "/slurm-%A_%a.out\n"))
      << script;
  EXPECT_TRUE(contains(script, "\nset -euo pipefail\n")) << script;
  EXPECT_TRUE(contains(script, "\nexec " + kOrch + " --db " + shard_dir() +
                                   "/shard-${SLURM_ARRAY_TASK_ID}.db run " + file_ +
                                   " --shard ${SLURM_ARRAY_TASK_ID}/3 -j 1 --memory-limit 1GiB "
                                   "--set 'train.lr = 0.01'\n"))
      << script;
  EXPECT_FALSE(fs::exists(path("orch-shards")));
  EXPECT_FALSE(fs::exists(db_));
}

TEST_F(ScaleCliTest, DryRunFixesTheBudgetAndThreadsTheTasksGet) {
  // No memory_limit in the file: the default share of *this* machine is made absolute, as
  // --mem must be; the threads the file fixes become --cpus-per-task.
  const std::string file =
      write_file_in(dir_, "open.toml",
                    "[experiment]\nname = \"open\"\n[backend]\nplugin = \"cpu\"\nthreads = 2\n"
                    "[dataset]\nplugin = \"synthetic\"\nsamples = 64\n[model]\nplugin = \"mlp\"\n"
                    "[train]\nepochs = 1\n[sweep]\n\"train.batch_size\" = [4, 8]\n");
  RunResult result = orch({"--db", db_, "submit", file, "--slurm", "--dry-run", "--shards", "5"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "\n#SBATCH --array=0-1\n")) << result.out;
  EXPECT_TRUE(contains(result.err, "--shards 5 is more than the 2 runs")) << result.err;
  EXPECT_TRUE(contains(result.out, "\n#SBATCH --cpus-per-task=2\n")) << result.out;
  EXPECT_TRUE(contains(result.out, " --memory-limit ")) << result.out;
  EXPECT_TRUE(contains(result.out, "MiB\n")) << result.out;
  EXPECT_FALSE(contains(result.out, "#SBATCH --partition")) << result.out;
  EXPECT_FALSE(contains(result.out, "#SBATCH --time")) << result.out;

  RunResult cpus =
      orch({"--db", db_, "submit", file, "--slurm", "--dry-run", "--cpus-per-task", "6"});
  EXPECT_TRUE(contains(cpus.out, "\n#SBATCH --cpus-per-task=6\n")) << cpus.out;
}

// The budget a submission fixes is part of the run keys the tasks compute; status plans
// with it too, so it finds the tasks' runs without being told the budget again.
TEST_F(ScaleCliTest, StatusPlansWithTheBudgetTheSubmissionFixed) {
  const std::string file =
      write_file_in(dir_, "open.toml",
                    "[experiment]\nname = \"open\"\n[backend]\nplugin = \"cpu\"\nthreads = 1\n"
                    "[dataset]\nplugin = \"synthetic\"\nsamples = 64\nfeatures = 8\n[model]\n"
                    "plugin = \"mlp\"\nhidden = 8\n[train]\nepochs = 1\n"
                    "[sweep]\n\"train.batch_size\" = [4, 8]\n");
  ASSERT_EQ(orch({"--db", db_, "submit", file, "--slurm"}, {fake_sbatch("5", "", 0)}).exit_code, 0);
  const std::string manifest = read_text(shard_dir("open") + "/manifest.json");
  EXPECT_TRUE(contains(manifest, "MiB\"")) << manifest;
  RunResult task = run_task(1, "open");
  ASSERT_EQ(task.exit_code, 0) << task.err;
  RunResult status = orch({"--db", db_, "status", file});
  EXPECT_TRUE(has_line_starting_with(
      status.out, "experiment 'open': 2 runs: done 1, running 0, failed 0, pending 1"))
      << status.out;
  EXPECT_TRUE(contains(status.out, "with --memory-limit ")) << status.out;
  EXPECT_TRUE(contains(status.out, "  shard 1: 1 run: done 1,")) << status.out;
}

TEST_F(ScaleCliTest, SubmitWithoutSlurmSaysToAddIt) {
  RunResult result = orch({"--db", db_, "submit", file_});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(contains(result.err, "orch: error: orch submit needs --slurm")) << result.err;
  EXPECT_TRUE(contains(result.err, "Slurm is the only scheduler")) << result.err;
  EXPECT_TRUE(result.out.empty());
  EXPECT_FALSE(fs::exists(path("orch-shards")));
}

TEST_F(ScaleCliTest, BadExperimentFileFailsBeforeAnythingIsWritten) {
  const std::string bad = write_file_in(dir_, "bad.toml", sweep_text("scale", "epochs = 2\n"));
  RunResult result = orch({"--db", db_, "submit", bad, "--slurm"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_TRUE(contains(result.err, "bad.toml")) << result.err;
  EXPECT_FALSE(fs::exists(path("orch-shards")));
}

TEST_F(ScaleCliTest, SubmitWithoutSbatchSaysSlurmsCommandsAreNeeded) {
  fs::create_directories(path("empty"));
  RunResult result = orch({"--db", db_, "submit", file_, "--slurm"}, {"PATH=" + path("empty")});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "sbatch is not on PATH")) << result.err;
  EXPECT_TRUE(contains(result.err, "Slurm's client commands")) << result.err;
  EXPECT_TRUE(contains(result.err, "--dry-run")) << result.err;
}

TEST_F(ScaleCliTest, SbatchRefusingTheJobIsReportedAndTheScriptKept) {
  const std::string path_env =
      fake_sbatch("", "sbatch: error: invalid partition specified: nope", 1);
  RunResult result =
      orch({"--db", db_, "submit", file_, "--slurm", "--partition", "nope"}, {path_env});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(contains(result.err, "sbatch refused the job (exit 1)")) << result.err;
  EXPECT_TRUE(contains(result.err, "invalid partition specified: nope")) << result.err;
  EXPECT_TRUE(contains(result.err, shard_dir() + "/job.sbatch")) << result.err;
  EXPECT_TRUE(fs::exists(shard_dir() + "/job.sbatch"));
  EXPECT_TRUE(fs::exists(shard_dir() + "/manifest.json"));
}

// The whole cycle: submit, tasks run one by one, status and merge follow them.
TEST_F(ScaleCliTest, SubmittedArrayRunsMergesAndReportsStatus) {
  const std::string path_env = fake_sbatch("4242;cluster", "", 0);
  RunResult submitted =
      orch({"--db", db_, "submit", file_, "--slurm", "--shards", "3"}, {path_env});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_TRUE(has_line_starting_with(submitted.out, "slurm job: 4242")) << submitted.out;
  EXPECT_TRUE(contains(submitted.out, "status")) << submitted.out;
  EXPECT_TRUE(contains(submitted.out, "merge")) << submitted.out;
  EXPECT_EQ(read_text(path("sbatch.args")), "--parsable " + shard_dir() + "/job.sbatch\n");
  EXPECT_TRUE(contains(read_text(shard_dir() + "/manifest.json"), "\"job_id\": \"4242\""));

  RunResult status = orch({"--db", db_, "status", file_});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(has_line_starting_with(
      status.out, "experiment 'scale': 6 runs: done 0, running 0, failed 0, pending 6"))
      << status.out;
  EXPECT_TRUE(contains(status.out, "as Slurm job 4242")) << status.out;
  EXPECT_TRUE(contains(status.out,
                       "  shard 2: 2 runs: done 0, running 0, failed 0, pending 2 "
                       "(shard database missing"))
      << status.out;
  EXPECT_FALSE(fs::exists(db_)) << "status created the main database";

  RunResult nothing = orch({"--db", db_, "merge"});
  EXPECT_EQ(nothing.exit_code, 3) << nothing.err;
  EXPECT_TRUE(contains(nothing.out, "missing shards 3")) << nothing.out;

  RunResult task0 = run_task(0);
  ASSERT_EQ(task0.exit_code, 0) << task0.err << task0.out;
  EXPECT_TRUE(fs::exists(shard_dir() + "/shard-0.db"));
  status = orch({"--db", db_, "status", file_});
  EXPECT_TRUE(has_line_starting_with(
      status.out, "experiment 'scale': 6 runs: done 2, running 0, failed 0, pending 4"))
      << status.out;
  EXPECT_TRUE(contains(status.out, "  shard 0: 2 runs: done 2, running 0, failed 0, pending 0\n"))
      << status.out;

  RunResult partial = orch({"--db", db_, "merge"});
  EXPECT_EQ(partial.exit_code, 3) << partial.err;
  EXPECT_TRUE(contains(partial.out, "shard 0/3 of 'scale' " + shard_dir() +
                                        "/shard-0.db: merged 2, already present 0, conflicts 0, "
                                        "unfinished 0"))
      << partial.out;
  EXPECT_TRUE(contains(partial.out,
                       "shard 1/3 of 'scale' " + shard_dir() + "/shard-1.db: missing (2 runs)"))
      << partial.out;
  EXPECT_TRUE(contains(partial.out, "slurm-4242_1.out")) << partial.out;
  EXPECT_TRUE(contains(partial.out, "incomplete")) << partial.out;

  // The other two at once, as Slurm would run them.
  std::vector<Started> tasks;
  for (int task : {1, 2}) {
    tasks.push_back(start_in(dir_, "/bin/bash", {shard_dir() + "/job.sbatch"},
                             {"SLURM_ARRAY_TASK_ID=" + std::to_string(task)}));
  }
  for (auto& task : tasks) {
    RunResult result = wait_for(task, kTimeout);
    ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  }
  RunResult merged = orch({"--db", db_, "merge"});
  EXPECT_EQ(merged.exit_code, 0) << merged.out << merged.err;
  EXPECT_TRUE(contains(merged.out,
                       "total: merged 4, already present 2, conflicts 0, "
                       "unfinished 0, missing shards 0"))
      << merged.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 6);
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT run_key) FROM runs"), 6);
  EXPECT_EQ(count(db_, "SELECT COUNT(DISTINCT shard) FROM experiments"), 3);
  EXPECT_EQ(text_value(db_,
                       "SELECT group_concat(DISTINCT shard) FROM (SELECT shard FROM "
                       "experiments ORDER BY shard)"),
            "0/3,1/3,2/3");

  RunResult again = orch({"--db", db_, "merge"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_TRUE(contains(again.out, "total: merged 0, already present 6")) << again.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs"), 6);

  status = orch({"--db", db_, "status", file_});
  EXPECT_TRUE(has_line_starting_with(
      status.out, "experiment 'scale': 6 runs: done 6, running 0, failed 0, pending 0"))
      << status.out;
  RunResult report = orch({"--db", db_, "report"});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_TRUE(contains(report.out, "train.batch_size=16 train.epochs=2")) << report.out;

  // The same --shards resumes; another count is refused while the old shards are there.
  RunResult other = orch({"--db", db_, "submit", file_, "--slurm", "--shards", "2"}, {path_env});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_TRUE(contains(other.err, "in 3 shards (job 4242), not 2")) << other.err;
  EXPECT_TRUE(contains(other.err, "--shards 3")) << other.err;
  RunResult same = orch({"--db", db_, "submit", file_, "--slurm", "--shards", "3"}, {path_env});
  EXPECT_EQ(same.exit_code, 0) << same.err;
}

// `orch run --shard I/N` by hand, for every N (the shards of one N at once, as array tasks
// run), and merging what the shards wrote.
TEST_F(ScaleCliTest, ShardsCoverTheSweepExactlyOnceForAnyCount) {
  for (int shards : {1, 2, 4}) {
    const std::string main = path("main-" + std::to_string(shards) + ".db");
    if (shards == 2) {
      RunResult before = orch({"--db", main, "status", file_});
      EXPECT_TRUE(has_line_starting_with(
          before.out, "experiment 'scale': 6 runs: done 0, running 0, failed 0, pending 6"))
          << before.out << before.err;
    }
    std::vector<std::string> merge_args{"--db", main, "merge"};
    std::vector<Started> started;
    for (int i = 0; i < shards; ++i) {
      const std::string shard_db =
          path("n" + std::to_string(shards) + "-shard" + std::to_string(i) + ".db");
      started.push_back(
          start_in(dir_, kOrch,
                   {"run", file_, "--shard", std::to_string(i) + "/" + std::to_string(shards),
                    "--db", shard_db}));
      merge_args.push_back(shard_db);
    }
    for (int i = 0; i < shards; ++i) {
      RunResult run = wait_for(started[i], kTimeout);
      ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
      const std::string& shard_db = merge_args[3 + i];
      // Run j of the plan is in shard j mod N: shards of 6 runs hold 6/N rounded up or down.
      EXPECT_EQ(count(shard_db, "SELECT COUNT(*) FROM runs"), (6 - i + shards - 1) / shards)
          << "shard " << i << "/" << shards;
      EXPECT_EQ(text_value(shard_db, "SELECT shard FROM experiments"),
                std::to_string(i) + "/" + std::to_string(shards));
    }
    RunResult merged = orch(merge_args);
    ASSERT_EQ(merged.exit_code, 0) << merged.out << merged.err;
    EXPECT_TRUE(contains(merged.out, "total: merged 6, already present 0, conflicts 0"))
        << merged.out;
    EXPECT_EQ(count(main, "SELECT COUNT(*) FROM runs"), 6) << shards << " shards";
    EXPECT_EQ(count(main, "SELECT COUNT(DISTINCT run_key) FROM runs WHERE status = 'ok'"), 6);
    if (shards == 2) {
      RunResult after = orch({"--db", main, "status", file_});
      EXPECT_TRUE(has_line_starting_with(
          after.out, "experiment 'scale': 6 runs: done 6, running 0, failed 0, pending 0"))
          << after.out;
    }
  }
  // Every count ran the same six points.
  const std::string keys =
      "SELECT group_concat(run_key) FROM (SELECT run_key FROM runs "
      "ORDER BY run_key)";
  EXPECT_EQ(text_value(path("main-1.db"), keys), text_value(path("main-2.db"), keys));
  EXPECT_EQ(text_value(path("main-1.db"), keys), text_value(path("main-4.db"), keys));
}

TEST_F(ScaleCliTest, ShardsRunningTwiceTheSamePointAreAConflict) {
  const std::string a = path("a.db"), b = path("b.db");
  ASSERT_EQ(orch({"run", file_, "--shard", "0/3", "--db", a}).exit_code, 0);
  ASSERT_EQ(orch({"run", file_, "--shard", "0/3", "--db", b}).exit_code, 0);
  RunResult merged = orch({"--db", db_, "merge", a, b});
  EXPECT_EQ(merged.exit_code, 0) << merged.out << merged.err;
  EXPECT_TRUE(contains(merged.out, b + ": merged 0, already present 0, conflicts 2")) << merged.out;
  EXPECT_TRUE(contains(merged.out, "already finished ok")) << merged.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs"), 2);
}

TEST_F(ScaleCliTest, BadMergeInputIsRefusedBeforeAnythingIsMerged) {
  const std::string good = path("good.db");
  ASSERT_EQ(orch({"run", file_, "--shard", "0/3", "--db", good}).exit_code, 0);
  RunResult missing = orch({"--db", db_, "merge", good, path("nope.db")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(
      contains(missing.err, "orch: error: database '" + path("nope.db") + "' does not exist"))
      << missing.err;
  EXPECT_FALSE(fs::exists(db_)) << "a refused merge created the main database";

  write_file_in(dir_, "notes.db", "not a database\n");
  RunResult text = orch({"--db", db_, "merge", good, path("notes.db")});
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_TRUE(contains(text.err, "is not an orch database")) << text.err;
  EXPECT_FALSE(fs::exists(db_));

  RunResult none = orch({"--db", db_, "merge"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "nothing to merge")) << none.err;
}

// Failed runs count as failed, are listed with their error, and do not keep a merge
// incomplete; the job script passes --plugin-dir on to the tasks.
TEST_F(ScaleCliTest, StatusListsFailedRunsAndMergeCountsThemFinished) {
  const std::string file = write_file_in(
      dir_, "faulty.toml",
      "[experiment]\nname = \"faulty\"\nseed = 7\n\n[backend]\nplugin = \"cpu\"\nthreads = 1\n\n"
      "[dataset]\nplugin = \"synthetic\"\nsamples = 256\nval_samples = 64\nfeatures = 8\n\n"
      "[model]\n[model.mlp]\nhidden = 16\n\n"
      "[train]\nepochs = 1\nbatch_size = 8\nwarmup_steps = 1\nmemory_limit = \"1GiB\"\n\n"
      "[sweep]\n\"model.plugin\" = [\"mlp\", \"throws\"]\n\"train.batch_size\" = [4, 8]\n");
  const std::string path_env = fake_sbatch("77", "", 0);
  RunResult submitted =
      orch({"--db", db_, "--plugin-dir", kFaultyDir, "submit", file, "--slurm", "--shards", "2"},
           {path_env});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_TRUE(contains(read_text(shard_dir("faulty") + "/job.sbatch"),
                       " --plugin-dir " + kFaultyDir + " run "));
  for (int task : {0, 1}) {
    RunResult result = run_task(task, "faulty");
    EXPECT_EQ(result.exit_code, 0) << result.err << result.out;
  }
  RunResult status = orch({"--db", db_, "--plugin-dir", kFaultyDir, "status", file});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(has_line_starting_with(
      status.out, "experiment 'faulty': 4 runs: done 2, running 0, failed 2, pending 0"))
      << status.out;
  EXPECT_TRUE(
      contains(status.out, "failed:\n  model.plugin=\"throws\" train.batch_size=4: failed: "))
      << status.out;
  RunResult merged = orch({"--db", db_, "merge"});
  EXPECT_EQ(merged.exit_code, 0) << merged.out << merged.err;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'failed'"), 2);
}

// A task that is still training: status reads its database while it writes, and counts
// the run as running; merge leaves it for later and says the merge is incomplete.
TEST_F(ScaleCliTest, RunningTaskIsCountedRunningAndLeftForALaterMerge) {
  const std::string file = write_file_in(
      dir_, "hang.toml",
      "[experiment]\nname = \"hang\"\nseed = 7\n\n[backend]\nplugin = \"cpu\"\nthreads = 1\n\n"
      "[dataset]\nplugin = \"synthetic\"\nsamples = 256\nfeatures = 8\n\n"
      "[model]\nplugin = \"hangs\"\n\n"
      "[train]\nepochs = 1\nbatch_size = 8\nmemory_limit = \"1GiB\"\ntimeout = 4\n");
  const std::string path_env = fake_sbatch("91", "", 0);
  ASSERT_EQ(orch({"--db", db_, "--plugin-dir", kFaultyDir, "submit", file, "--slurm"}, {path_env})
                .exit_code,
            0);
  Started task =
      start_in(dir_, "/bin/bash", {shard_dir("hang") + "/job.sbatch"}, {"SLURM_ARRAY_TASK_ID=0"});
  std::string seen;
  for (int i = 0; i < 100 && !contains(seen, "running 1"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = orch({"--db", db_, "--plugin-dir", kFaultyDir, "status", file}).out;
  }
  EXPECT_TRUE(has_line_starting_with(
      seen, "experiment 'hang': 1 run: done 0, running 1, failed 0, pending 0"))
      << seen;
  RunResult merged = orch({"--db", db_, "merge"});
  EXPECT_EQ(merged.exit_code, 3) << merged.out << merged.err;
  EXPECT_TRUE(contains(merged.out, "unfinished 1")) << merged.out;
  EXPECT_TRUE(contains(merged.out, "still running")) << merged.out;

  RunResult finished = wait_for(task, kTimeout);
  EXPECT_EQ(finished.exit_code, 0) << finished.err;
  RunResult later = orch({"--db", db_, "merge"});
  EXPECT_EQ(later.exit_code, 0) << later.out;
  EXPECT_EQ(text_value(db_, "SELECT status FROM runs"), "timeout");
}

}  // namespace
