// `orch plan --json`: what `orch plan` prints, for scripts. One object, versioned.
// A grid:
//   {"format": "orch.plan", "version": 1, "experiment": "...", "strategy": "grid",
//    "runs_total", "would_run", "budget_bytes", "plugins": {"backend": ["cpu"], ...},
//    "overrides": ["train.epochs=1"], "runs": [{"index", "run_key", "configuration",
//    "repeat", "state": "done" | "would_run" | "would_skip", "skip_reason"}],
//    "memory": null | [{"label", "budget_bytes", "measured_peaks", "probe_answer",
//               "batch_sizes": [{"batch_size", "predicted_peak_bytes", "verdict":
//               "fits" | "risky" | "does_not_fit" | null}]}]}
// A sampled search:
//   {"format": "orch.plan", "version": 1, "experiment": "...", "strategy": "bayes",
//    "max_runs", "max_seconds", "seed", "prune": "asha", "prune_epochs": [1, 3],
//    "plugins": {...}, "space": [{"key", "kind": "categorical" | "integer" | "real",
//    "values": [...] | "low", "high", "log", "step"}], "tried", "first_points": [...]}
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/probe/memory_forecast.h"
#include "host/search/search_space.h"
#include "host/sweep/experiment.h"
#include "host/sweep/sweep.h"

namespace orch {

inline constexpr int kPlanJsonVersion = 1;

// `states`: each run's state as the plan's table shows it ("done (skipped)", "would run",
// "would skip: why"). `memory`: nothing when no database has measured peaks yet.
std::string render_plan_json(const Experiment& experiment, const SweepRuns& runs,
                             const std::vector<const std::string*>& states,
                             const std::optional<std::vector<MemoryForecast>>& memory);

// `first_points`: the swept text of the sampler's first points ("" for one a rule excludes).
std::string render_search_plan_json(const Experiment& experiment, const SearchSpace& space,
                                    const std::vector<int>& prune_epochs, size_t tried,
                                    const std::vector<std::string>& first_points);

}  // namespace orch
