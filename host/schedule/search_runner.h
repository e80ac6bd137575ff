// A sampled search ([search] strategy = random, sobol or bayes): asks the sampler for
// points, runs each point's runs as a sweep runs its points (claims, budgets, -j N, the
// pruner), and learns from what they gave, until max_runs points were tried or
// max_seconds passed. Every point is a row of search_points, so a search resumed by name
// (after Ctrl-C or kill -9, or by a second orch on the same database) goes on with the
// points already there instead of starting again.
#pragma once

#include <ostream>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/schedule/scheduler.h"
#include "host/search/sampler.h"
#include "host/sweep/experiment.h"
#include "storage/store.h"

namespace orch {

// What the sampler learns from the points of a search whose runs have all ended, in the
// order they were suggested: the objective's value over a point's ok repeats (negated
// when the objective maximizes), infeasible when a run ran out of memory, was known not
// to fit, or breaks a constraint of [objective], pruned when the pruner stopped it.
std::vector<Trial> search_history(const Experiment& experiment,
                                  const std::vector<storage::SearchPointRecord>& points,
                                  const std::vector<storage::RunSummary>& runs);

// Runs the search under the experiment row `experiment_id`; `tally` as run_sweep's.
SweepTally run_search(const Experiment& experiment, const PluginCatalog& catalog,
                      storage::Store& store, const SweepOptions& options,
                      std::int64_t experiment_id, std::ostream& progress);

}  // namespace orch
