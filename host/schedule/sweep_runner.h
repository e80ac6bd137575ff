// The loop that runs a sweep's pending points: claims each point, admits a worker when its
// budget and cores fit beside the others, watches the workers, records what they report,
// and applies train.on_oom (skip, halve and retry, stop). run_sweep (scheduler.h) decides
// which points are pending; this runs them.
#pragma once

#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/run/run_spec.h"
#include "host/schedule/scheduler.h"
#include "host/sweep/experiment.h"
#include "storage/store.h"

namespace orch {

// Runs `pending` (in that order, several at once with options.jobs > 1) under the
// experiment row `experiment_id`, adding what happened to `tally`. Points another live orch
// holds are left to it; who holds them is added to `held_by`.
SweepTally run_points(const Experiment& experiment, const std::vector<const RunSpec*>& pending,
                      SweepTally tally, const PluginCatalog& catalog, storage::Store& store,
                      const SweepOptions& options, std::ostream& progress,
                      std::int64_t experiment_id, std::set<std::string>& held_by);

}  // namespace orch
