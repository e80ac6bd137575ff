// Backends as the real `orch` binary uses them: one that cannot run on this machine is
// listed with the reason and its runs are recorded as skipped with it, without starting a
// worker; one that can runs the precision and task each run asks for.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "e2e_support.h"

namespace {

using namespace orch::e2e;
namespace fs = std::filesystem;

const std::string kOrch = ORCH_BINARY;
constexpr auto kOrchTimeout = std::chrono::seconds(60);

// Why the cuda plugin of this build cannot run here; empty when it can.
std::string expected_cuda_reason() {
#if ORCH_WITH_CUDA
  return ::access("/dev/nvidiactl", F_OK) == 0
             ? ""
             : "no NVIDIA driver/device on this machine (/dev/nvidiactl does not exist)";
#else
  return "was built without CUDA; install a CUDA build of LibTorch and rebuild orch";
#endif
}

class BackendAvailabilityTest : public FreshDirectoryTest {
 protected:
  BackendAvailabilityTest() : FreshDirectoryTest("backend_availability_test") {}
  RunResult orch(const std::vector<std::string>& args) {
    return run_in(dir_, kOrch, args, {}, kOrchTimeout);
  }
};

TEST_F(BackendAvailabilityTest, PluginsListsCudaAndMpsAsNotAvailableWithTheReason) {
  RunResult result = orch({"plugins"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(has_line_starting_with(result.out, "backend cuda  (cuda 1.0.0, ")) << result.out;
  EXPECT_TRUE(has_line_starting_with(result.out, "backend mps  (mps 1.0.0, ")) << result.out;
  if (!expected_cuda_reason().empty()) {
    EXPECT_TRUE(contains(result.out, "  not available on this machine: ")) << result.out;
    EXPECT_TRUE(contains(result.out, expected_cuda_reason())) << result.out;
  }
#if !defined(__APPLE__)
  EXPECT_TRUE(contains(result.out,
                       "  not available on this machine: MPS is Apple's Metal "
                       "backend; it exists only on macOS builds of LibTorch"))
      << result.out;
#endif
  EXPECT_TRUE(contains(result.out, "backend mps  (")) << result.out;
  EXPECT_TRUE(contains(result.out.substr(result.out.find("backend mps  (")), "\n  no parameters\n"))
      << result.out;
  // The cpu backend is available: nothing printed under it about availability.
  auto cpu_at = result.out.find("backend cpu  (");
  ASSERT_NE(cpu_at, std::string::npos) << result.out;
  auto next_at = result.out.find("\nbackend ", cpu_at + 1);
  EXPECT_FALSE(contains(result.out.substr(cpu_at, next_at - cpu_at), "not available"));
}

TEST_F(BackendAvailabilityTest, ARunOnAnUnavailableBackendIsSkippedWithTheReasonAndNotStarted) {
  if (expected_cuda_reason().empty()) {
    GTEST_SKIP() << "the cuda backend can run on this machine: nothing would be skipped";
  }
  write_file_in(dir_, "gpu.toml",
                "[experiment]\nname = \"gpu\"\n\n[backend]\nplugin = \"cuda\"\n\n"
                "[dataset]\nplugin = \"synthetic\"\nsamples = 64\n\n"
                "[model]\nplugin = \"mlp\"\nhidden = 8\n\n"
                "[train]\nbatch_size = 8\n\n[sweep]\n\"train.batch_size\" = [8, 16]\n");
  RunResult result = orch({"run", "gpu.toml", "--db", "history.db"});
  // Like a run skipped as infeasible: recorded, counted as not ok, and the sweep goes on.
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_TRUE(contains(result.out, "skipped: backend 'cuda' is not available on this machine: "))
      << result.out;
  EXPECT_TRUE(contains(result.out, "2 run(s) did not finish ok")) << result.out;

  const std::string db = dir_ + "/history.db";
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM runs"), 2);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM runs WHERE status = 'skipped'"), 2);
  std::string error = text_value(db, "SELECT error FROM runs ORDER BY id LIMIT 1");
  EXPECT_EQ(error.rfind("backend 'cuda' is not available on this machine: ", 0), 0u) << error;
  EXPECT_TRUE(contains(error, expected_cuda_reason())) << error;
  // Nothing was forked: no worker pid, no worker log, no epochs.
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM runs WHERE worker_pid IS NOT NULL"), 0);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM runs WHERE log_path IS NOT NULL"), 0);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM epochs"), 0);
  EXPECT_FALSE(contains(result.err, "orch worker")) << result.err;
}

// [train] precision and task reach the forked worker: a bf16 run says so in its backend
// description, and inference runs record throughput but no loss or accuracy.
TEST_F(BackendAvailabilityTest, PrecisionAndTaskReachTheWorker) {
  write_file_in(dir_, "cpu.toml",
                "[experiment]\nname = \"modes\"\n\n[backend]\nplugin = \"cpu\"\nthreads = 1\n\n"
                "[dataset]\nplugin = \"synthetic\"\nsamples = 128\nval_samples = 32\n"
                "features = 8\n\n[model]\nplugin = \"mlp\"\nhidden = 8\n\n"
                "[train]\nbatch_size = 16\nwarmup_steps = 1\n\n[sweep]\n"
                "\"train.task\" = [\"train\", \"inference\"]\n"
                "\"train.precision\" = [\"fp32\", \"bf16\"]\n");
  RunResult result = orch({"run", "cpu.toml", "--db", "history.db"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const std::string db = dir_ + "/history.db";
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 4);
  auto run_where = [](const std::string& task, const std::string& precision) {
    return "(SELECT run_id FROM params WHERE key = 'train.task' AND value_text = '" + task +
           "' INTERSECT SELECT run_id FROM params WHERE key = 'train.precision' AND "
           "value_text = '" +
           precision + "')";
  };
  EXPECT_EQ(text_value(db, "SELECT backend FROM runs WHERE id IN " + run_where("train", "bf16")),
            "cpu, 1 intra-op threads, bf16 autocast");
  EXPECT_EQ(text_value(db, "SELECT backend FROM runs WHERE id IN " + run_where("train", "fp32")),
            "cpu, 1 intra-op threads");
  for (const char* precision : {"fp32", "bf16"}) {
    const std::string inference = run_where("inference", precision);
    const std::string training = run_where("train", precision);
    EXPECT_EQ(count(db,
                    "SELECT COUNT(*) FROM epochs WHERE samples_per_s > 0 AND "
                    "train_loss IS NULL AND val_accuracy IS NULL AND run_id IN " +
                        inference),
              1)
        << precision;
    EXPECT_EQ(count(db,
                    "SELECT COUNT(*) FROM epochs WHERE samples_per_s > 0 AND "
                    "train_loss IS NOT NULL AND val_accuracy IS NOT NULL AND run_id IN " +
                        training),
              1)
        << precision;
  }
}

}  // namespace
