// Long runs survive ([train] checkpoint): a run killed with kill -9 of its orch resumes
// from its last checkpoint on the next `orch run` and ends with the same weights as a run
// that was never interrupted; checkpoints are removed when a run finishes unless kept; a
// disk budget too small skips them without failing the training. Real orch, real worker
// processes, real SQLite, real signals.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "e2e_support.h"

namespace {

using namespace orch::e2e;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kOrch = ORCH_BINARY;
constexpr auto kOrchTimeout = std::chrono::seconds(90);

// One MLP run of 4 epochs of 8000 samples in batches of 4: 0.5-3 s an epoch, long
// enough to kill it in the middle of one. A cosine schedule and weight decay make the
// optimizer's and the schedule's state matter.
std::string long_run_file(const std::string& train_extra) {
  return "[experiment]\nname = \"survive\"\nseed = 11\n\n"
         "[backend]\nplugin = \"cpu\"\nthreads = 1\n\n"
         "[dataset]\nplugin = \"synthetic\"\nsamples = 8000\nval_samples = 64\nfeatures = 8\n\n"
         "[model]\nplugin = \"mlp\"\nhidden = 16\n\n"
         "[train]\nepochs = 4\nbatch_size = 4\nwarmup_steps = 1\nlr_schedule = \"cosine\"\n"
         "weight_decay = 0.01\nsave = \"all\"\n" +
         train_extra;
}

// Two epochs of the tiny MLP: a second or two with LibTorch's start.
std::string short_run_file(const std::string& train_extra) {
  return "[experiment]\nname = \"short\"\nseed = 1\n\n"
         "[backend]\nplugin = \"cpu\"\nthreads = 1\n\n"
         "[dataset]\nplugin = \"synthetic\"\nsamples = 128\nval_samples = 32\nfeatures = 8\n\n"
         "[model]\nplugin = \"mlp\"\nhidden = 8\n\n"
         "[train]\nepochs = 2\nbatch_size = 16\n" +
         train_extra;
}

class CheckpointTest : public FreshDirectoryTest {
 protected:
  CheckpointTest() : FreshDirectoryTest("checkpoint_cli_test") {}

  RunResult run_orch(const std::string& dir, const std::vector<std::string>& args) {
    Started started = start_in(dir, kOrch, args);
    return wait_for(started, kOrchTimeout);
  }

  // The checkpoint files beside a database, by name.
  static std::vector<std::string> checkpoints_beside(const std::string& db) {
    std::vector<std::string> names;
    const fs::path dir =
        fs::path(db).parent_path() / (fs::path(db).stem().string() + "-checkpoints");
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(dir, ignored)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }
};

// The bytes of a weights file with its own name masked: torch::save names the archive's
// folder after the file, so the same weights saved as run-1.pt and run-2.pt differ there.
std::string weights_payload(const std::string& path) {
  std::string bytes = read_text(path);
  const std::string name = fs::path(path).stem().string();  // "run-2"
  for (size_t at = bytes.find(name); at != std::string::npos; at = bytes.find(name, at)) {
    bytes.replace(at, name.size(), std::string(name.size(), '#'));
  }
  return bytes;
}

TEST_F(CheckpointTest, KillNineInEpochThreeResumesAndEndsWithTheWeightsOfAnUninterruptedRun) {
  const std::string text = long_run_file("checkpoint = \"epoch\"\n");
  // The run never interrupted, in a database of its own.
  fs::create_directories(path("whole"));
  const std::string whole_db = path("whole/orch.db");
  const std::string whole_file = write_file_in(path("whole"), "exp.toml", text);
  RunResult whole = run_orch(path("whole"), {"run", whole_file, "--db", whole_db});
  ASSERT_EQ(whole.exit_code, 0) << whole.err << whole.out;

  // The same run killed with its orch (kill -9 of the process group, as a node failure
  // would) once the checkpoint after epoch 2 is on disk: in the middle of epoch 3.
  const std::string db = path("orch.db");
  const std::string file = write_file("exp.toml", text);
  Started orch = start_in(dir_, kOrch, {"run", file, "--db", db});
  const bool in_epoch_three = wait_until(
      [&] {
        if (count_while_running(db, "SELECT COUNT(*) FROM epochs") < 2) return false;
        for (const auto& name : checkpoints_beside(db)) {
          if (name.size() > 6 && name.compare(name.size() - 6, 6, "-e2.pt") == 0) return true;
        }
        return false;
      },
      std::chrono::seconds(60));
  ::kill(-orch.pid, SIGKILL);
  RunResult killed = wait_for(orch, std::chrono::seconds(10));
  ASSERT_TRUE(in_epoch_three) << "never saw the checkpoint after epoch 2\n" << killed.err;
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL);
  ASSERT_EQ(count(db, "SELECT COUNT(*) FROM epochs"), 2) << "the kill came after epoch 3 ended";

  const auto started = Clock::now();
  RunResult rerun = run_orch(dir_, {"run", file, "--db", db});
  const double rerun_s = std::chrono::duration<double>(Clock::now() - started).count();
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err << rerun.out;
  EXPECT_TRUE(contains(rerun.out, "resumes from its checkpoint after epoch 2")) << rerun.out;

  // The final run has its 4 epochs: 1 and 2 carried from the killed attempt, which
  // measured them, and 3 marked as the first after the resume.
  const std::string ok = "(SELECT id FROM runs WHERE status = 'ok')";
  ASSERT_EQ(count(db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 1);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM epochs WHERE run_id = " + ok), 4);
  EXPECT_EQ(count(db, "SELECT resumed_from_epoch FROM runs WHERE id = " + ok), 2);
  const std::string killed_run = "(SELECT id FROM runs WHERE status = 'interrupted')";
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM epochs WHERE run_id = " + ok +
                          " AND from_run_id = " + killed_run + " AND epoch <= 2"),
            2);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM epochs WHERE run_id = " + ok + " AND resumed = 1"), 1);
  EXPECT_EQ(count(db, "SELECT epoch FROM epochs WHERE run_id = " + ok + " AND resumed = 1"), 3);
  // Less than the whole training: the first two epochs were not trained again.
  EXPECT_LT(real_value(db, "SELECT wall_s FROM runs WHERE id = " + ok),
            real_value(whole_db, "SELECT wall_s FROM runs WHERE status = 'ok'"))
      << "rerun took " << rerun_s << " s";

  // The report and the answer say that its timing spans two attempts.
  RunResult report = run_orch(dir_, {"report", "--db", db});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_TRUE(contains(report.out, "resumed from a checkpoint after epoch 2")) << report.out;
  RunResult best = run_orch(dir_, {"best", "--db", db});
  EXPECT_TRUE(contains(best.out, "resumed from a checkpoint after epoch 2")) << best.out;

  // Bit for bit the same training: the same losses, the same weights.
  for (int epoch = 1; epoch <= 4; ++epoch) {
    const std::string of_epoch =
        " FROM epochs e JOIN runs r ON r.id = e.run_id WHERE "
        "r.status = 'ok' AND e.epoch = " +
        std::to_string(epoch);
    EXPECT_EQ(real_value(db, "SELECT e.train_loss" + of_epoch),
              real_value(whole_db, "SELECT e.train_loss" + of_epoch))
        << "epoch " << epoch;
    EXPECT_EQ(real_value(db, "SELECT e.val_loss" + of_epoch),
              real_value(whole_db, "SELECT e.val_loss" + of_epoch))
        << "epoch " << epoch;
  }
  const std::string weights = text_value(db, "SELECT weights_path FROM runs WHERE id = " + ok);
  const std::string whole_weights =
      text_value(whole_db, "SELECT weights_path FROM runs WHERE status = 'ok'");
  ASSERT_FALSE(weights.empty());
  ASSERT_FALSE(whole_weights.empty());
  ASSERT_EQ(fs::path(weights).stem().string().size(),
            fs::path(whole_weights).stem().string().size());
  EXPECT_EQ(weights_payload(weights), weights_payload(whole_weights))
      << weights << " vs " << whole_weights;

  // Both finished ok: neither keeps a checkpoint.
  EXPECT_TRUE(checkpoints_beside(db).empty());
  EXPECT_TRUE(checkpoints_beside(whole_db).empty());
}

TEST_F(CheckpointTest, AnOkRunLeavesNoCheckpointUnlessKept) {
  const std::string gone_db = path("gone.db");
  RunResult gone =
      run_orch(dir_, {"run", write_file("gone.toml", short_run_file("checkpoint = \"epoch\"\n")),
                      "--db", gone_db});
  ASSERT_EQ(gone.exit_code, 0) << gone.err << gone.out;
  EXPECT_TRUE(checkpoints_beside(gone_db).empty());

  const std::string kept_db = path("kept.db");
  RunResult kept = run_orch(
      dir_,
      {"run",
       write_file("kept.toml", short_run_file("checkpoint = \"epoch\"\nkeep_checkpoints = true\n")),
       "--db", kept_db});
  ASSERT_EQ(kept.exit_code, 0) << kept.err << kept.out;
  const auto files = checkpoints_beside(kept_db);
  ASSERT_EQ(files.size(), 1u);
  const std::string key = text_value(kept_db, "SELECT run_key FROM runs");
  EXPECT_EQ(files[0], key + "-e2.pt");  // the state after the last epoch
  // Neither key changes the run: the same file without them is already done.
  RunResult again =
      run_orch(dir_, {"run", write_file("plain.toml", short_run_file("")), "--db", kept_db});
  ASSERT_EQ(again.exit_code, 0) << again.err << again.out;
  EXPECT_TRUE(contains(again.out, "1 of 1 runs already finished ok")) << again.out;
}

TEST_F(CheckpointTest, ADiskBudgetTooSmallSkipsCheckpointsAndTheRunSaysWhy) {
  const std::string db = path("orch.db");
  RunResult result =
      run_orch(dir_, {"run",
                      write_file("small.toml", short_run_file("checkpoint = \"epoch\"\n"
                                                              "keep_checkpoints = true\n"
                                                              "checkpoint_disk = \"1KiB\"\n")),
                      "--db", db});
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  EXPECT_EQ(text_value(db, "SELECT status FROM runs"), "ok");
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM epochs"), 2);
  EXPECT_TRUE(checkpoints_beside(db).empty());
  const std::string note = text_value(db, "SELECT checkpoint_note FROM runs");
  EXPECT_TRUE(contains(note, "no checkpoint after epoch")) << note;
  EXPECT_TRUE(contains(note, "train.checkpoint_disk")) << note;
  EXPECT_TRUE(contains(result.out, "no checkpoint after epoch")) << result.out;
}

TEST_F(CheckpointTest, AMalformedIntervalIsRefusedWithTheKeyAndWhatToWrite) {
  RunResult result =
      run_orch(dir_, {"run", write_file("bad.toml", short_run_file("checkpoint = \"often\"\n")),
                      "--db", path("orch.db")});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "train.checkpoint")) << result.err;
  EXPECT_TRUE(contains(result.err, "30min")) << result.err;
}

}  // namespace
