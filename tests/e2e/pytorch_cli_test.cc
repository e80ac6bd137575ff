// The walkthrough of docs/pytorch.md, done as a user does it: Debian's python3 exports a
// PyTorch model and NumPy arrays with examples/pytorch/export.py, and the real orch binary
// trains it from examples/pytorch/experiment.toml, in fp32 and bf16.
#include <map>
#include <sstream>

#include "e2e_support.h"
#include "tests/support/python_torch.h"

namespace {

using namespace orch::e2e;
namespace fs = std::filesystem;

const std::string kOrch = ORCH_BINARY;
const std::string kSource = ORCH_SOURCE_DIR;

class PytorchCliTest : public FreshDirectoryTest {
 protected:
  PytorchCliTest() : FreshDirectoryTest("pytorch_cli_test") {}
  void SetUp() override {
    FreshDirectoryTest::SetUp();
    if (!orch::testing::python_torch_missing().empty()) {
      GTEST_SKIP() << orch::testing::python_torch_missing();
    }
    db_ = path("history.db");
  }
  // The user's two steps: export, then run the experiment file beside the exported files.
  RunResult export_and_run(const std::vector<std::string>& settings) {
    RunResult exported =
        run_in(dir_, orch::testing::kDebianPython, {kSource + "/examples/pytorch/export.py", dir_},
               {}, std::chrono::seconds(120));
    EXPECT_EQ(exported.exit_code, 0) << exported.err;
    fs::copy_file(kSource + "/examples/pytorch/experiment.toml", path("experiment.toml"));
    std::vector<std::string> args{"run", path("experiment.toml"), "--db", db_};
    for (const auto& setting : settings) {
      args.push_back("--set");
      args.push_back(setting);
    }
    return run_in(dir_, kOrch, args, {}, std::chrono::seconds(300));
  }
  double epoch_value(const std::string& column, const std::string& precision, int epoch) {
    return real_value(db_, "SELECT e." + column +
                               " FROM epochs e JOIN runs r ON r.id = e.run_id JOIN params p ON "
                               "p.run_id = r.id AND p.key = 'train.precision' WHERE "
                               "p.value_text = '" +
                               precision + "' AND e.epoch = " + std::to_string(epoch));
  }
  std::string db_;
};

TEST_F(PytorchCliTest, AModelExportedFromPythonTrainsInFp32AndBf16AndItsLossFalls) {
  RunResult run = export_and_run({"train.batch_size=64", "train.epochs=2"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 2) << run.out;
  for (const std::string precision : {"fp32", "bf16"}) {
    EXPECT_LT(epoch_value("train_loss", precision, 2), epoch_value("train_loss", precision, 1))
        << precision << "\n"
        << run.out;
    // Four corners: chance is 0.25.
    EXPECT_GT(epoch_value("val_accuracy", precision, 2), 0.6) << precision << "\n" << run.out;
  }
  EXPECT_TRUE(contains(run.out, "best (lowest epoch_s): train.precision=")) << run.out;
}

// The user plots the sweep from the database with pandas and matplotlib
// (examples/pytorch/plot_sweep.py): the table it plots holds what orch recorded.
TEST_F(PytorchCliTest, ThePlottingExampleDrawsTheSweepOrchRecorded) {
  if (!orch::testing::python_plotting_missing().empty()) {
    GTEST_SKIP() << orch::testing::python_plotting_missing();
  }
  RunResult run = export_and_run({"train.precision=fp32", "train.epochs=1"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  RunResult plotted =
      run_in(dir_, orch::testing::kDebianPython,
             {kSource + "/examples/pytorch/plot_sweep.py", db_, "-o", path("sweep.png")}, {},
             std::chrono::seconds(120));
  ASSERT_EQ(plotted.exit_code, 0) << plotted.err;
  EXPECT_TRUE(contains(plotted.out, "experiment 'pytorch_corners': 2 of 2 runs ok")) << plotted.out;
  // One row per batch size: "<batch> <runs> <epoch_s> ...", its epoch time as recorded
  // (pandas prints 6 decimals; the column widths follow the values).
  std::map<std::int64_t, double> printed;
  for (const auto& line : lines_of(plotted.out)) {
    std::istringstream words(line);
    std::int64_t batch = 0, runs = 0;
    double epoch_s = 0;
    if (words >> batch >> runs >> epoch_s && runs == 1) printed[batch] = epoch_s;
  }
  for (const std::int64_t batch : {16, 64}) {
    const double recorded =
        real_value(db_,
                   "SELECT s.epoch_s FROM run_summary s JOIN params p ON p.run_id = s.run_id AND "
                   "p.key = 'train.batch_size' WHERE p.value_num = " +
                       std::to_string(batch));
    ASSERT_EQ(printed.count(batch), 1u) << "no row for batch " << batch << " in\n" << plotted.out;
    EXPECT_NEAR(printed.at(batch), recorded, 1e-6) << plotted.out;
  }
  const std::string png = read_text(path("sweep.png"));
  EXPECT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_GT(png.size(), 10000u) << "a drawn figure, not an empty file";
}

// What the user does next: take the best run's weights back to Python and use them.
TEST_F(PytorchCliTest, TheBestRunsWeightsComeBackToPythonAndScoreWhatOrchMeasured) {
  // fp32 only: Python evaluates the export in fp32, so orch must have validated it so too.
  RunResult run = export_and_run({"train.precision=fp32", "train.epochs=2", "train.save=best"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  ASSERT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"), 2) << run.out;
  // Only the winner (batch 16 or 64, whichever was faster) keeps its weights.
  ASSERT_EQ(count(db_, "SELECT COUNT(*) FROM runs WHERE weights_path IS NOT NULL"), 1) << run.out;
  const std::int64_t best = count(db_, "SELECT id FROM runs WHERE weights_path IS NOT NULL");
  EXPECT_TRUE(contains(run.out, "weights of the best run " + std::to_string(best))) << run.out;
  EXPECT_EQ(std::distance(fs::directory_iterator(path("history-weights")), {}), 1)
      << "the other run's file is gone";

  RunResult exported =
      run_in(dir_, kOrch, {"export", std::to_string(best), "-o", path("best.pt"), "--db", db_}, {},
             std::chrono::seconds(30));
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  ASSERT_TRUE(orch::testing::run_python(dir_, R"(
model = torch.jit.load("best.pt")
model.eval()
val = np.load("val.npz")
with torch.no_grad():
    predicted = model(torch.from_numpy(val["inputs"])).argmax(1)
accuracy = (predicted == torch.from_numpy(val["targets"])).double().mean().item()
open("accuracy.txt", "w").write(repr(accuracy))
)"));
  const double python_accuracy = std::stod(read_text(path("accuracy.txt")));
  const double orch_accuracy =
      real_value(db_, "SELECT val_accuracy FROM epochs WHERE run_id = " + std::to_string(best) +
                          " ORDER BY epoch DESC LIMIT 1");
  EXPECT_NEAR(python_accuracy, orch_accuracy, 1e-6)
      << "the exported model is the one orch validated: run " << best << " ("
      << text_value(db_, "SELECT swept FROM runs WHERE id = " + std::to_string(best)) << ")\n"
      << run.out;
  EXPECT_GT(python_accuracy, 0.6) << "trained, not the untrained export (chance is 0.25)";

  const std::int64_t other = count(db_, "SELECT id FROM runs WHERE weights_path IS NULL");
  RunResult refused =
      run_in(dir_, kOrch, {"export", std::to_string(other), "-o", path("other.pt"), "--db", db_},
             {}, std::chrono::seconds(30));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(contains(refused.err, "kept no weights: set [train] save")) << refused.err;
  EXPECT_FALSE(fs::exists(path("other.pt")));
}

TEST_F(PytorchCliTest, AStateDictInsteadOfATorchScriptFileIsRefusedWithTheLinesThatExportOne) {
  ASSERT_TRUE(orch::testing::run_python(dir_,
                                        "torch.save(nn.Linear(2, 2).state_dict(), "
                                        "'state.pt')\n"));
  RunResult run = export_and_run(
      {"train.batch_size=64", "train.epochs=1", "train.precision=fp32", "model.path=state.pt"});
  // The run fails (not the sweep): its row and its progress line say what to do.
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM runs WHERE status = 'failed' AND error LIKE "
                  "'%state.pt was written by torch.save%torch.jit.script(model)%'"),
            1)
      << run.out << run.err;
  EXPECT_TRUE(contains(run.out, "scripted.save(\"net.pt\")")) << run.out;
}

}  // namespace
