#include "host/report/ranking.h"

#include <gtest/gtest.h>

#include "host/base/user_error.h"
#include "host/report/report.h"
#include "host/sweep/objective.h"
#include "storage/store.h"
#include "tests/host/test_paths.h"

namespace orch {
namespace {

storage::RunSummary run(std::int64_t id, const std::string& swept, const std::string& config,
                        double epoch_s, RunStatus status = RunStatus::kOk) {
  storage::RunSummary r;
  r.run_id = id;
  r.run_key = "key" + std::to_string(id);
  r.config_key = config;
  r.swept = swept;
  r.status = status;
  r.epoch_s = epoch_s;
  r.samples_per_s = epoch_s > 0 ? 1000 / epoch_s : 0;
  r.val_accuracy = 0.9;
  r.peak_rss_bytes = 100 << 20;
  r.params_json = R"({"train.batch_size": 4, "model.plugin": "mlp", "train.lr": 0.001})";
  return r;
}

TEST(RankingTest, TheLowestEpochTimeWinsByDefaultAndFailuresCannotWin) {
  std::vector<storage::RunSummary> runs = {
      run(1, "train.batch_size=2", "a", 0.30), run(2, "train.batch_size=4", "b", 0.20),
      run(3, "train.batch_size=8", "c", 0.05, RunStatus::kOom)};
  Ranking ranking = rank_configurations(runs, Objective{});
  ASSERT_NE(ranking.winner(), nullptr);
  EXPECT_EQ(ranking.winner()->label, "train.batch_size=4");
  EXPECT_EQ(ranking.runner_up()->label, "train.batch_size=2");
  EXPECT_EQ(ranking.eligible, 2);
  EXPECT_EQ(ranking.configs.back().excluded, "no run finished ok");
  EXPECT_TRUE(ranking.tied_with_winner.empty());
}

TEST(RankingTest, RepeatsArePooledUnderAPerEpochMetricThoughEachTrainedWithItsOwnSeed) {
  // As the scheduler records them: repeat r of a configuration seeded 7 trains with seed
  // 7 + r, and the recorded parameters say so.
  std::vector<storage::RunSummary> runs;
  for (int repeat = 0; repeat < 3; ++repeat) {
    for (const char* batch : {"2", "4"}) {
      storage::RunSummary r =
          run(static_cast<std::int64_t>(runs.size()) + 1, std::string("train.batch_size=") + batch,
              batch, batch == std::string("2") ? 0.30 + 0.01 * repeat : 0.20);
      r.repeat = repeat;
      r.params_json = std::string(R"({"train.batch_size": )") + batch +
                      R"(, "train.epochs": 1, "experiment.seed": )" + std::to_string(7 + repeat) +
                      "}";
      runs.push_back(r);
    }
  }
  Ranking ranking = rank_configurations(runs, Objective{});  // epoch_s: per epoch
  ASSERT_EQ(ranking.configs.size(), 2u) << "a repeat is not a configuration of its own";
  EXPECT_EQ(ranking.winner()->ok, 3);
  EXPECT_EQ(ranking.winner()->label, "train.batch_size=4");
  EXPECT_EQ(ranking.runner_up()->label, "train.batch_size=2");
}

TEST(RankingTest, RepeatsOfAConfigurationAreOneEntryWithAMeanAndInterval) {
  std::vector<storage::RunSummary> runs = {run(1, "b=2", "a", 0.30), run(2, "b=2", "a", 0.32),
                                           run(3, "b=2", "a", 0.31), run(4, "b=4", "b", 0.20),
                                           run(5, "b=4", "b", 0.21), run(6, "b=4", "b", 0.19)};
  Ranking ranking = rank_configurations(runs, Objective{});
  ASSERT_EQ(ranking.configs.size(), 2u);
  EXPECT_EQ(ranking.winner()->ok, 3);
  EXPECT_NEAR(ranking.winner()->metric.mean, 0.20, 1e-9);
  EXPECT_GT(ranking.winner()->metric.half_width, 0);
  EXPECT_TRUE(ranking.tied_with_winner.empty()) << "0.20 vs 0.31 is far outside the noise";
}

TEST(RankingTest, OverlappingIntervalsAreReportedAsATieNotARanking) {
  std::vector<storage::RunSummary> runs = {run(1, "b=2", "a", 0.20), run(2, "b=2", "a", 0.26),
                                           run(3, "b=2", "a", 0.23), run(4, "b=4", "b", 0.21),
                                           run(5, "b=4", "b", 0.25), run(6, "b=4", "b", 0.24)};
  Ranking ranking = rank_configurations(runs, Objective{});
  ASSERT_EQ(ranking.tied_with_winner.size(), 1u);
  std::string text = render_best(ranking);
  EXPECT_NE(text.find("tied: 1 configuration(s) cannot be told apart"), std::string::npos) << text;
}

TEST(RankingTest, TwoScatteredRepeatsGiveAnIntervalThatStaysAboveZero) {
  // Two repeats 1 s and 3 s apart: the t interval of the mean (t = 12.7 for one degree of
  // freedom) reaches far below zero, which no epoch time can be.
  std::vector<storage::RunSummary> runs = {run(1, "b=2", "a", 1.0), run(2, "b=2", "a", 3.0),
                                           run(3, "b=4", "b", 1.1), run(4, "b=4", "b", 2.9)};
  Ranking ranking = rank_configurations(runs, Objective{});
  ASSERT_EQ(ranking.configs.size(), 2u);
  for (const auto& config : ranking.configs) {
    EXPECT_GE(config.low, 0) << config.label;
    EXPECT_GT(config.high, 3.0) << config.label;
  }
  ASSERT_EQ(ranking.tied_with_winner.size(), 1u);
  const std::string text = render_best(ranking);
  EXPECT_EQ(text.find(" -"), text.find(" - ")) << "no negative bound is printed:\n" << text;
  EXPECT_EQ(text.find("-0."), std::string::npos) << text;
}

TEST(RankingTest, TwoRepeatsAreToldApartByTheirOwnIntervalsNotByATIntervalOfOneDegree) {
  // The quick start's shape: batch 8 at 0.91 and 0.76 s per epoch, batch 2 at 2.90 and
  // 2.60 s, each run's median known to within 5%. A t interval over two runs is
  // 12.7 standard errors wide and called them tied; their own intervals do not overlap.
  auto timed = [](std::int64_t id, const std::string& swept, double epoch_s) {
    storage::RunSummary r = run(id, swept, swept, epoch_s);
    r.median_epoch_s = epoch_s;
    r.median_epoch_low_s = epoch_s * 0.95;
    r.median_epoch_high_s = epoch_s * 1.05;
    return r;
  };
  std::vector<storage::RunSummary> runs = {timed(1, "b=8", 0.91), timed(2, "b=8", 0.76),
                                           timed(3, "b=2", 2.90), timed(4, "b=2", 2.60)};
  Ranking ranking = rank_configurations(runs, Objective{});
  ASSERT_EQ(ranking.winner()->label, "b=8");
  EXPECT_TRUE(ranking.tied_with_winner.empty()) << ranking.runner_up()->tie_reason;
  EXPECT_NEAR(ranking.winner()->low, 0.76 * 0.95, 1e-9);
  EXPECT_NEAR(ranking.winner()->high, 0.91 * 1.05, 1e-9);
  EXPECT_NE(render_best(ranking).find("2 repeats; their 95% intervals of the median step span"),
            std::string::npos)
      << render_best(ranking);

  // Two runs whose intervals overlap the other configuration's are still tied.
  runs = {timed(1, "b=8", 0.91), timed(2, "b=8", 0.76), timed(3, "b=4", 0.95),
          timed(4, "b=4", 0.80)};
  EXPECT_EQ(rank_configurations(runs, Objective{}).tied_with_winner.size(), 1u);
}

TEST(RankingTest, SingleRunsUnderTwoPercentApartAreTied) {
  std::vector<storage::RunSummary> runs = {run(1, "b=2", "a", 1.000), run(2, "b=4", "b", 1.015),
                                           run(3, "b=8", "c", 1.100)};
  Ranking ranking = rank_configurations(runs, Objective{});
  ASSERT_EQ(ranking.tied_with_winner.size(), 1u);
  EXPECT_EQ(ranking.tied_with_winner[0]->label, "b=4");
  EXPECT_NE(render_best(ranking).find("repeats = 3"), std::string::npos)
      << "tells the user how to measure the noise";
}

TEST(RankingTest, ConstraintsExcludeConfigurationsWithTheReason) {
  auto big = run(1, "b=64", "a", 0.1);
  big.peak_rss_bytes = 3ll << 30;
  auto inaccurate = run(2, "b=32", "b", 0.15);
  inaccurate.val_accuracy = 0.5;
  std::vector<storage::RunSummary> runs = {big, inaccurate, run(3, "b=8", "c", 0.4)};
  Objective objective;
  objective.max_peak_rss_bytes = 2ll << 30;
  objective.min_val_accuracy = 0.8;
  Ranking ranking = rank_configurations(runs, objective);
  ASSERT_NE(ranking.winner(), nullptr);
  EXPECT_EQ(ranking.winner()->label, "b=8");
  EXPECT_EQ(ranking.eligible, 1);
  std::string table = render_config_table(ranking);
  EXPECT_NE(table.find("excluded: peak 3.0 GiB > max_peak_memory 2.0 GiB"), std::string::npos)
      << table;
  EXPECT_NE(table.find("excluded: val_accuracy 0.500 < min_val_accuracy 0.800"), std::string::npos)
      << table;
}

TEST(RankingTest, MaximizingThroughputPicksTheHighest) {
  std::vector<storage::RunSummary> runs = {run(1, "b=2", "a", 0.5), run(2, "b=4", "b", 0.2)};
  toml::table table{{"metric", "samples_per_s"}};
  Objective objective = load_objective(&table, "exp.toml");
  EXPECT_TRUE(objective.maximize);
  Ranking ranking = rank_configurations(runs, objective);
  EXPECT_EQ(ranking.winner()->label, "b=4");
  EXPECT_NE(render_best(ranking).find("best (highest samples_per_s): b=4"), std::string::npos);
}

TEST(RankingTest, TheWinnerPrintsAsExperimentFileSections) {
  std::vector<storage::RunSummary> runs = {run(1, "train.batch_size=4", "a", 0.2)};
  std::string snippet = render_toml_snippet(rank_configurations(runs, Objective{}));
  EXPECT_NE(snippet.find("[model]\nplugin = \"mlp\"\n"), std::string::npos) << snippet;
  EXPECT_NE(snippet.find("[train]\nbatch_size = 4\nlr = 0.001\n"), std::string::npos) << snippet;
  // It parses as TOML.
  EXPECT_NO_THROW(toml::parse(snippet));
}

TEST(ObjectiveTest, BadObjectivesAreRefusedWithWhereAndWhat) {
  auto error_of = [](const std::string& text) {
    try {
      toml::table root = toml::parse(std::string_view(text), std::string_view("exp.toml"));
      load_objective(root["objective"].as_table(), "exp.toml");
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(
      error_of("[objective]\nmetric = \"speed\"\n")
          .find("exp.toml:2:10: objective.metric = \"speed\" is not allowed: expected one of"),
      std::string::npos);
  EXPECT_NE(error_of("[objective]\ngoal = \"up\"\n").find("objective.goal"), std::string::npos);
  EXPECT_NE(error_of("[objective]\nmin_val_accuracy = 2.0\n").find("out of range"),
            std::string::npos);
  EXPECT_NE(error_of("[objective]\nmax_peak_memory = \"lots\"\n").find("not a memory size"),
            std::string::npos);
  EXPECT_NE(error_of("[objective]\nfastest = true\n").find("unknown key 'fastest' in [objective]"),
            std::string::npos);
}

TEST(ReportTest, DimensionTablesSummarizeEachSweptValueWithAVerdict) {
  std::vector<storage::RunSummary> runs = {
      run(1, "train.batch_size=2 train.epochs=1", "a", 0.30),
      run(2, "train.batch_size=2 train.epochs=2", "b", 0.32),
      run(3, "train.batch_size=4 train.epochs=1", "c", 0.20),
      run(4, "train.batch_size=4 train.epochs=2", "d", 0.22),
      run(5, "train.batch_size=8 train.epochs=1", "e", 0, RunStatus::kOom),
      run(6, "train.batch_size=8 train.epochs=2", "f", 0, RunStatus::kOom)};
  Ranking ranking = rank_configurations(runs, Objective{});
  std::string text = render_dimension_tables(runs, ranking);
  EXPECT_NE(text.find("train.batch_size  runs ok  epoch s (median)"), std::string::npos) << text;
  EXPECT_NE(text.find("               4      2/2             0.210"), std::string::npos) << text;
  EXPECT_NE(text.find("best"), std::string::npos) << text;
  EXPECT_NE(text.find("               8      0/2  -"), std::string::npos) << text;
  EXPECT_NE(text.find("out of memory"), std::string::npos) << text;
  EXPECT_NE(text.find("train.epochs"), std::string::npos) << text;
}

// A single run whose median step projects to `median` s per epoch, known to +-`half` s.
storage::RunSummary timed_run(std::int64_t id, const std::string& swept, double mean_epoch_s,
                              double median, double half) {
  storage::RunSummary r = run(id, swept, swept, mean_epoch_s);
  r.median_epoch_s = median;
  r.median_epoch_low_s = median - half;
  r.median_epoch_high_s = median + half;
  r.median_samples_per_s = 1000 / median;
  return r;
}

TEST(RankingTest, SpeedIsRankedByTheMedianStepNotTheMeanThatStallsInflate) {
  // b=4's mean is three times its median: another process stalled some of its steps.
  std::vector<storage::RunSummary> runs = {timed_run(1, "b=2", 0.50, 0.50, 0.005),
                                           timed_run(2, "b=4", 1.20, 0.40, 0.004)};
  Ranking ranking = rank_configurations(runs, Objective{});
  EXPECT_EQ(ranking.winner()->label, "b=4");
  EXPECT_NEAR(ranking.winner()->metric.mean, 0.40, 1e-12);
  EXPECT_TRUE(ranking.tied_with_winner.empty());
  const std::string text = render_best(ranking);
  EXPECT_NE(text.find("95% interval of the median step: 0.396 s - 0.404 s"), std::string::npos)
      << text;

  toml::table table{{"metric", "samples_per_s"}};
  Ranking throughput = rank_configurations(runs, load_objective(&table, "exp.toml"));
  EXPECT_EQ(throughput.winner()->label, "b=4");
  EXPECT_NEAR(throughput.winner()->metric.mean, 2500, 1e-9);
}

TEST(RankingTest, SingleRunsWhoseMedianIntervalsOverlapAreTiedAndSayWhy) {
  std::vector<storage::RunSummary> runs = {timed_run(1, "b=2", 1.0, 1.00, 0.03),
                                           timed_run(2, "b=4", 1.0, 1.04, 0.03),
                                           timed_run(3, "b=8", 1.0, 1.20, 0.03)};
  Ranking ranking = rank_configurations(runs, Objective{});
  ASSERT_EQ(ranking.tied_with_winner.size(), 1u);
  EXPECT_EQ(ranking.tied_with_winner[0]->label, "b=4");
  const std::string text = render_best(ranking);
  EXPECT_NE(text.find("runner-up: b=4  1.040 s (4.0% higher, tied)"), std::string::npos) << text;
  EXPECT_NE(text.find("b=4: its 95% interval 1.010 s - 1.070 s overlaps the best's 0.970 s - "
                      "1.030 s"),
            std::string::npos)
      << text;
  // Measured intervals need no advice to repeat.
  EXPECT_EQ(text.find("repeats = 3"), std::string::npos) << text;
}

TEST(RankingTest, TightIntervalsTellApartADifferenceOfAFewPercent) {
  std::vector<storage::RunSummary> runs = {timed_run(1, "b=2", 1.0, 1.00, 0.005),
                                           timed_run(2, "b=4", 1.0, 1.04, 0.005)};
  Ranking ranking = rank_configurations(runs, Objective{});
  EXPECT_TRUE(ranking.tied_with_winner.empty());
  EXPECT_NE(render_best(ranking).find("runner-up: b=4  1.040 s (4.0% higher)"), std::string::npos);
}

TEST(RankingTest, RunsThatDifferOnlyInEpochsAreOneConfigurationForAPerEpochMetric) {
  // The quick start's sweep: batch 8 at 1 and 2 epochs measured the same epoch time.
  std::vector<storage::RunSummary> runs = {
      timed_run(1, "train.batch_size=8 train.epochs=1", 1.0, 0.200, 0.004),
      timed_run(2, "train.batch_size=8 train.epochs=2", 1.0, 0.215, 0.004),
      timed_run(3, "train.batch_size=4 train.epochs=1", 1.0, 0.300, 0.004),
      timed_run(4, "train.batch_size=4 train.epochs=2", 1.0, 0.310, 0.004)};
  for (auto& r : runs) r.config_key = r.swept;
  Ranking ranking = rank_configurations(runs, Objective{});
  ASSERT_EQ(ranking.configs.size(), 2u);
  EXPECT_EQ(ranking.winner()->label, "train.batch_size=8");
  EXPECT_EQ(ranking.winner()->ok, 2);
  EXPECT_EQ(ranking.winner()->pooled, "train.epochs=1, train.epochs=2");
  EXPECT_EQ(ranking.runner_up()->label, "train.batch_size=4");
  const std::string text = render_best(ranking);
  EXPECT_NE(
      text.find("one configuration: train.epochs=1, train.epochs=2 measured the same epoch_s"),
      std::string::npos)
      << text;

  // Accuracy depends on the epochs: there they stay four configurations.
  toml::table table{{"metric", "val_accuracy"}};
  EXPECT_EQ(rank_configurations(runs, load_objective(&table, "exp.toml")).configs.size(), 4u);
}

// The report reads what a sweep wrote: build that database with the real store.
class ReportFromDatabaseTest : public testing::TempDir {};

TEST_F(ReportFromDatabaseTest, TablesComeFromTheStoredRuns) {
  auto store = storage::Store::Open(dir_ + "/fixture.db");
  auto experiment_id = store.begin_experiment({"fixture", "", "", "", "{}", 1, "h"});
  struct Point {
    std::int64_t batch;
    RunStatus status;
    double epoch_s;
  };
  for (const Point& point : {Point{2, RunStatus::kOk, 0.9}, Point{4, RunStatus::kOk, 0.5},
                             Point{8, RunStatus::kOom, 0}}) {
    storage::RunRecord record;
    record.run_key = "k" + std::to_string(point.batch);
    record.config_key = record.run_key;
    record.swept = "train.batch_size=" + std::to_string(point.batch);
    record.batch_size = point.batch;
    record.params_json = "{\"train.batch_size\": " + std::to_string(point.batch) + "}";
    auto id = store.add_runs(experiment_id, {record})[0];
    if (point.epoch_s > 0) {
      storage::EpochRecord epoch;
      epoch.epoch = 1;
      epoch.seconds = point.epoch_s;
      epoch.samples_per_s = 1000 / point.epoch_s;
      epoch.val_accuracy = 0.9;
      store.record_epoch(id, epoch);
    }
    store.finish_run(id, {point.status, 1.0, 64 << 20, std::nullopt, "", ""});
  }
  auto runs = store.latest_runs("fixture");
  Ranking ranking = rank_configurations(runs, Objective{});
  std::string dimensions = render_dimension_tables(runs, ranking);
  EXPECT_NE(dimensions.find("               4      1/1             0.500"), std::string::npos)
      << dimensions;
  EXPECT_NE(dimensions.find("               8      0/1  -"), std::string::npos) << dimensions;
  EXPECT_NE(dimensions.find("out of memory"), std::string::npos) << dimensions;
  std::string configs = render_config_table(ranking);
  EXPECT_NE(configs.find("train.batch_size=4      1/1         0.500 s"), std::string::npos)
      << configs;
  EXPECT_NE(render_best(ranking).find("best (lowest epoch_s): train.batch_size=4"),
            std::string::npos);
}

// metric = "time_to_target": the configuration that reaches the target soonest in wall
// time wins; one that never reaches it cannot; over five repeats the fastest and the
// slowest are dropped (MLPerf's rule), so one lucky or unlucky run does not decide.
TEST(RankingTest, TheFastestToTheTargetWinsAndOneThatNeverReachesItCannot) {
  Objective objective;
  objective.metric = "time_to_target";
  objective.target = Target{"val_accuracy", 0.9, true};
  std::vector<storage::RunSummary> runs;
  auto add = [&](const std::string& config, double wall_s, double accuracy, bool stopped) {
    storage::RunSummary r =
        run(static_cast<std::int64_t>(runs.size()) + 1, "train.lr=" + config, config, 1.0);
    r.wall_s = wall_s;
    r.val_accuracy = accuracy;
    r.stop_layer = stopped ? "target" : "";
    r.repeat = static_cast<int>(runs.size());
    runs.push_back(r);
  };
  // a: five repeats around 10 s, one of them 1 s (lucky) and one 100 s (a stalled machine).
  for (double wall_s : {1.0, 10.0, 10.5, 9.5, 100.0}) add("a", wall_s, 0.91, true);
  // b: 12 s each, reaching the target at its last epoch (not stopped early).
  for (int i = 0; i < 5; ++i) add("b", 12.0, 0.92, false);
  // c: the fastest runs, which never got to 0.9.
  for (int i = 0; i < 5; ++i) add("c", 3.0, 0.85, false);
  const Ranking ranking = rank_configurations(runs, objective);
  ASSERT_NE(ranking.winner(), nullptr);
  EXPECT_EQ(ranking.winner()->label, "train.lr=a");
  EXPECT_DOUBLE_EQ(ranking.winner()->metric.mean, 10.0) << "1 s and 100 s dropped";
  EXPECT_EQ(ranking.runner_up()->label, "train.lr=b");
  EXPECT_EQ(ranking.eligible, 2);
  EXPECT_EQ(ranking.configs.back().label, "train.lr=c");
  EXPECT_EQ(ranking.configs.back().excluded, "did not reach val_accuracy >= 0.9");
  EXPECT_EQ(objective.describe(), "fastest to val_accuracy >= 0.9");
}

}  // namespace
}  // namespace orch
