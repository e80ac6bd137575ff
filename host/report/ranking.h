// Turns runs into an answer: configurations (the repeats of one point of the sweep)
// ranked by the objective, with constraints applied and ties called when the difference
// is inside the measurement noise.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host/base/stats.h"
#include "host/report/task_groups.h"
#include "host/sweep/objective.h"
#include "storage/store.h"

namespace orch {

struct ConfigResult {
  std::string label;  // its swept values
  std::string config_key;
  std::vector<const storage::RunSummary*> runs;  // every repeat's latest attempt
  int ok = 0;             // ok repeats that count (time_to_target: that reached it)
  int missed_target = 0;  // time_to_target: ok repeats that ended without reaching it
  stats::Summary metric;  // the objective's metric over the ok repeats
  // The 95% interval the metric is known to: over three or more repeats, the mean's; for
  // a single run, the interval of its median step projected like the metric; for two
  // runs, the span of their two intervals (spans_two_runs). Empty (low > high) when none
  // was measured.
  double low = 1;
  double high = 0;
  bool spans_two_runs = false;
  bool has_interval() const { return low <= high; }
  // Why it cannot be told apart from the winner; empty when it can (or is the winner).
  std::string tie_reason;
  // Configurations pooled into this one because they differ only in keys the objective's
  // metric does not depend on (train.epochs for a per-epoch metric): "train.epochs=1, 2".
  std::string pooled;
  std::int64_t peak_rss_bytes = 0;  // the highest over the ok repeats
  double val_accuracy = 0;          // mean over the ok repeats
  std::string excluded;             // why it cannot win; empty when eligible
};

struct Ranking {
  Objective objective;
  std::vector<ConfigResult> configs;  // eligible ones first, best first; then the excluded
  int eligible = 0;
  // Configurations after the winner that cannot be told apart from it.
  std::vector<const ConfigResult*> tied_with_winner;
  double min_relative_gap = 0;  // the gap below which two results count as tied
  const ConfigResult* winner() const { return eligible > 0 ? &configs[0] : nullptr; }
  const ConfigResult* runner_up() const { return eligible > 1 ? &configs[1] : nullptr; }
};

// The value of `metric` for one run (the choices of [objective] metric). Speed metrics
// come from the median step (median_epoch_s, median_samples_per_s) when it was recorded:
// other processes' stalls move a mean a lot and a median hardly at all.
double metric_value(const storage::RunSummary& run, const std::string& metric);

// Whether a run reached `target`: stopped there (stop layer "target"), or met it at its
// last epoch.
bool reached_target(const storage::RunSummary& run, const Target& target);

// Whether `metric` is measured per epoch, so that runs differing only in their number of
// epochs measure the same thing.
bool per_epoch_metric(const std::string& metric);

// `runs` must outlive the ranking.
Ranking rank_configurations(const std::vector<storage::RunSummary>& runs,
                            const Objective& objective);

// One task's runs (host/report/task_groups.h) and their ranking, which points into them.
struct RankedGroup {
  TaskGroup group;
  Ranking ranking;
};

// The runs split by task, training first, each group ranked by the objective: what
// `orch run`, `orch report`, `orch best` and the HTML page all print from. Held behind
// pointers, since each ranking points into its own group's runs.
std::vector<std::unique_ptr<RankedGroup>> rank_by_task(const std::vector<storage::RunSummary>& runs,
                                                       const Objective& objective);

}  // namespace orch
