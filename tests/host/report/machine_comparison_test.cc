#include "host/report/machine_comparison.h"

#include <gtest/gtest.h>

#include "host/base/user_error.h"
#include "storage/store.h"

namespace orch {
namespace {

storage::RunSummary run(std::int64_t machine_id, const std::string& machine, int batch, int threads,
                        double epoch_s, RunStatus status = RunStatus::kOk) {
  static std::int64_t next_id = 0;
  storage::RunSummary r;
  r.run_id = ++next_id;
  r.machine_id = machine_id;
  r.machine = machine;
  r.swept =
      "train.batch_size=" + std::to_string(batch) + " backend.threads=" + std::to_string(threads);
  r.run_key = r.swept + machine;
  r.config_key = r.swept;
  r.status = status;
  r.epoch_s = epoch_s;
  r.median_epoch_s = epoch_s;
  r.median_epoch_low_s = epoch_s * 0.95;
  r.median_epoch_high_s = epoch_s * 1.05;
  r.params_json = R"({"backend.plugin": "cpu", "backend.threads": )" + std::to_string(threads) +
                  R"(, "train.batch_size": )" + std::to_string(batch) + "}";
  return r;
}

TEST(MachineComparisonTest, RowsAreConfigurationsColumnsMachinesAndCellsRatiosToTheFastest) {
  const std::vector<storage::RunSummary> runs = {run(1, "a", 16, 1, 0.30), run(1, "a", 32, 1, 0.20),
                                                 run(2, "b", 16, 2, 0.10)};
  const MachineComparison comparison = compare_machines(runs);
  EXPECT_EQ(comparison.machines, 2);
  ASSERT_EQ(comparison.rows,
            (std::vector<std::string>{"train.batch_size=16", "train.batch_size=32"}));
  ASSERT_EQ(comparison.columns.size(), 2u);
  EXPECT_EQ(comparison_column_label(comparison.columns[0]), "a: cpu, 1 thread");
  EXPECT_EQ(comparison_column_label(comparison.columns[1]), "b: cpu, 2 threads");
  const auto& batch16 = comparison.cells[0];
  EXPECT_NEAR(batch16[0].ratio, 3.0, 1e-9);
  EXPECT_NEAR(batch16[1].ratio, 1.0, 1e-9);
  EXPECT_EQ(comparison_cell_text(batch16[1]), "0.100 s [0.095, 0.105] 1.00x");
  // Machine b never ran batch 32.
  EXPECT_FALSE(comparison.cells[1][1].measured);
  EXPECT_EQ(comparison.cells[1][1].missing, "not run");
  const std::string text = render_machine_comparison(comparison);
  EXPECT_NE(text.find("3.00x"), std::string::npos) << text;
  EXPECT_NE(text.find("not run"), std::string::npos) << text;
}

TEST(MachineComparisonTest, EmptyCellsSayWhy) {
  storage::RunSummary absent = run(2, "gpu-box", 16, 1, 0, RunStatus::kSkipped);
  absent.error = "backend 'cuda' is not available on this machine: no CUDA device";
  const std::vector<storage::RunSummary> runs = {run(1, "a", 16, 1, 0.3),
                                                 run(1, "a", 64, 1, 0, RunStatus::kOom),
                                                 run(1, "a", 32, 1, 0, RunStatus::kFailed), absent};
  const MachineComparison comparison = compare_machines(runs);
  ASSERT_EQ(comparison.rows.size(), 3u);
  EXPECT_EQ(comparison.cells[1][0].missing, "out of memory");
  EXPECT_EQ(comparison.cells[2][0].missing, "failed");
  EXPECT_EQ(comparison.cells[0][1].missing, "device absent");
}

TEST(MachineComparisonTest, ARankingRanksOneMachineAndSaysSo) {
  const std::vector<storage::RunSummary> runs = {run(1, "a", 16, 1, 0.3), run(2, "b", 16, 1, 0.1)};
  const MachineChoice latest = choose_machine(runs, "", 1);
  ASSERT_EQ(latest.runs.size(), 1u);
  EXPECT_EQ(latest.runs[0].machine, "a");
  EXPECT_NE(latest.note.find("ranking the runs of machine 'a'"), std::string::npos) << latest.note;
  EXPECT_EQ(choose_machine(runs, "b", 1).runs[0].machine, "b");
  EXPECT_THROW(choose_machine(runs, "c", 1), UserError);
  // One machine: nothing to say.
  EXPECT_TRUE(choose_machine({run(1, "a", 16, 1, 0.3)}, "", 1).note.empty());
}

}  // namespace
}  // namespace orch
