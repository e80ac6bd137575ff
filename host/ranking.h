// Turns runs into an answer: configurations (the repeats of one point of the sweep)
// ranked by the objective, with constraints applied and ties called when the difference
// is inside the measurement noise.
#pragma once

#include <string>
#include <vector>

#include "host/objective.h"
#include "host/stats.h"
#include "storage/store.h"

namespace orch {

struct ConfigResult {
  std::string label;       // its swept values
  std::string config_key;
  std::vector<const storage::RunSummary*> runs;  // every repeat's latest attempt
  int ok = 0;
  stats::Summary metric;   // the objective's metric over the ok repeats
  std::int64_t peak_rss_bytes = 0;  // the highest over the ok repeats
  double val_accuracy = 0;          // mean over the ok repeats
  std::string excluded;    // why it cannot win; empty when eligible
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

// The value of `metric` for one run (the choices of [objective] metric).
double metric_value(const storage::RunSummary& run, const std::string& metric);

// `runs` must outlive the ranking.
Ranking rank_configurations(const std::vector<storage::RunSummary>& runs, const Objective& objective);

}  // namespace orch
