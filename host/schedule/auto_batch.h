// batch_size = "auto": before a sweep runs, each memory key (model, data, backend) and
// budget is probed once (host/probe/probe.h), and every run of it gets the answer.
#pragma once

#include <ostream>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/probe/probe.h"
#include "host/run/run_spec.h"
#include "storage/store.h"

namespace orch {

// Sets train.batch_size of every run from the probe answer of its memory key and budget
// (reusing a stored answer), and its keys with it (settle_auto_batch_size). Runs whose
// backend is not available here are left as they are: they are skipped when their turn
// comes. Throws UserError when not even batch size 1 fits.
void settle_auto_batch_sizes(std::vector<RunSpec>& runs, const PluginCatalog& catalog,
                             storage::Store& store, int parallel_runs,
                             const ProbeOptions& probe_options, std::ostream& progress);

}  // namespace orch
