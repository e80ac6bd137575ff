// The body of a worker process: builds the run's backend, dataset and model from the
// plugins, trains, and reports every step of the way as events. One catch turns any
// exception into a reported error; the exit code says whether the run finished.
#pragma once

#include "host/plugin_catalog.h"
#include "host/run_spec.h"

namespace orch {

// max_steps > 0 makes it a memory trial: that many optimizer steps, no validation.
int run_worker(const RunSpec& run, const PluginCatalog& catalog, int event_fd,
               std::int64_t max_steps = 0);

}  // namespace orch
