#include "host/prepared_sweep.h"

#include "host/catalog_loading.h"
#include "host/scheduler.h"
#include "host/sweep.h"

namespace orch {

PreparedSweep prepare_sweep(const Options& options) {
  PreparedSweep prepared;
  prepared.catalog = load_catalog(options.plugin_dirs, /*warn_refusals=*/true);
  prepared.experiment = load_experiment(options.file, *prepared.catalog);
  if (!options.memory_limit.empty()) {
    override_memory_limit(prepared.experiment, options.memory_limit);
  }
  prepared.runs = expand_sweep(prepared.experiment);
  check_budgets(prepared.runs);
  return prepared;
}

}  // namespace orch
