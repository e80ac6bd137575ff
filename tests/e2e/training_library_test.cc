// The orch binary does not link LibTorch: the training half is liborch_training.so, which
// run and probe load before their first worker. Checked with the real binary: what the
// dynamic loader opens for each command, and what a user sees when the library is gone.
#include <filesystem>
#include <string>
#include <vector>

#include "e2e_support.h"

namespace orch::e2e {
namespace {

namespace fs = std::filesystem;

const std::string kOrch = ORCH_BINARY;
const std::string kBuiltPlugins = ORCH_PLUGIN_OUTPUT_DIR;
constexpr std::chrono::milliseconds kTimeout{120000};

class TrainingLibraryTest : public FreshDirectoryTest {
 protected:
  TrainingLibraryTest() : FreshDirectoryTest("training_library_test") {}
  void SetUp() override {
    FreshDirectoryTest::SetUp();
    if (HasFatalFailure()) return;  // no directory to write into
    file_ = write_file("tiny.toml", kTinyExperiment);
    db_ = path("history.db");
  }

  RunResult orch(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                 const std::string& binary = kOrch) {
    return run_in(dir_, binary, args, env, kTimeout);
  }

  // The files the dynamic loader opened for `orch args`: LD_DEBUG=files writes one line
  // per library to stderr.
  RunResult traced(const std::vector<std::string>& args) { return orch(args, {"LD_DEBUG=files"}); }

  std::string file_, db_;
};

TEST_F(TrainingLibraryTest, CommandsThatReadTheDatabaseNeverLoadLibTorch) {
  RunResult run = traced({"run", file_, "--db", db_});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // The check can see LibTorch: run loads it (through the plugins and the training library).
  EXPECT_TRUE(contains(run.err, "libtorch_cpu.so")) << "LD_DEBUG=files lists no LibTorch";
  EXPECT_TRUE(contains(run.err, "liborch_training.so"));
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 1);

  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--db", db_, "sql", "SELECT COUNT(*) FROM runs"},
                                             {"--db", db_, "best"},
                                             {"--db", db_, "report"}}) {
    RunResult result = traced(args);
    EXPECT_EQ(result.exit_code, 0) << args[2] << ": " << result.err;
    EXPECT_FALSE(result.out.empty()) << args[2];
    EXPECT_FALSE(contains(result.err, "libtorch_cpu.so")) << args[2] << " loaded LibTorch";
    EXPECT_FALSE(contains(result.err, "liborch_training.so")) << args[2];
  }
}

// A copy of the binary in a tree of its own, with the built plugins but without the
// training library: the query commands still work, and run says what is missing and
// where it looked, before it creates a database.
TEST_F(TrainingLibraryTest, RunWithoutTheTrainingLibraryNamesItAndWritesNothing) {
  RunResult first = orch({"run", file_, "--db", db_});
  ASSERT_EQ(first.exit_code, 0) << first.err;

  const fs::path tree = fs::path(dir_) / "install";
  fs::create_directories(tree / "bin");
  fs::create_directories(tree / "lib" / "orch");
  fs::create_directory_symlink(kBuiltPlugins, tree / "lib" / "orch" / "plugins");
  const std::string copy = (tree / "bin" / "orch").string();
  fs::copy_file(kOrch, copy);

  RunResult sql = orch({"--db", db_, "sql", "SELECT status FROM runs"}, {}, copy);
  EXPECT_EQ(sql.exit_code, 0) << sql.err;
  EXPECT_TRUE(contains(sql.out, "ok")) << sql.out;

  const std::string fresh = dir_ + "/fresh.db";
  RunResult run = orch({"run", file_, "--db", fresh}, {}, copy);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(run.err.rfind("orch: error: cannot load orch's training library: ", 0), 0u) << run.err;
  EXPECT_TRUE(contains(run.err, (tree / "lib" / "orch" / "liborch_training.so").string()))
      << run.err;
  EXPECT_EQ(lines_of(run.err).size(), 1u) << run.err;
  EXPECT_FALSE(fs::exists(fresh)) << "a run that cannot train created " << fresh;

  RunResult probe = orch({"probe", file_, "--db", fresh}, {}, copy);
  EXPECT_EQ(probe.exit_code, 2) << probe.err;
  EXPECT_TRUE(contains(probe.err, "liborch_training.so")) << probe.err;
  EXPECT_FALSE(fs::exists(fresh));
}

}  // namespace
}  // namespace orch::e2e
