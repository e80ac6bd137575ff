// Runs the pending runs of a sweep one after another, each in its own guarded worker,
// and records everything they report. The host is the database's only writer.
#pragma once

#include <ostream>
#include <vector>

#include "host/experiment.h"
#include "host/plugin_catalog.h"
#include "host/run_spec.h"
#include "storage/store.h"

namespace orch {

struct SweepTally {
  int planned = 0;
  int skipped = 0;  // finished ok before: resumed past
  int ok = 0;
  int not_ok = 0;
};

// Runs that already finished ok under this experiment's name are skipped (resume).
// Progress goes to `progress`, one line per run.
SweepTally run_sweep(const Experiment& experiment, const std::vector<RunSpec>& runs,
                     const PluginCatalog& catalog, storage::Store& store,
                     std::ostream& progress);

// The database record of a run's plan: its key, swept values and resolved parameters.
storage::RunRecord to_run_record(const RunSpec& run);

}  // namespace orch
