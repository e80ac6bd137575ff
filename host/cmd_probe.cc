// orch probe FILE: the largest batch size that fits the memory budget, for each distinct
// model/data/backend configuration of the file.
#include <unistd.h>

#include <iostream>
#include <set>

#include "host/catalog_loading.h"
#include "host/commands.h"
#include "host/experiment.h"
#include "host/interrupt.h"
#include "host/memory_budget.h"
#include "host/probe.h"
#include "host/scheduler.h"
#include "host/sweep.h"
#include "storage/store.h"

namespace orch {

int probe_command(const Options& options) {
  auto catalog = load_catalog(options.plugin_dirs, /*warn_refusals=*/true);
  Experiment experiment = load_experiment(options.file, *catalog);
  if (!options.memory_limit.empty()) override_memory_limit(experiment, options.memory_limit);
  std::vector<RunSpec> runs = expand_sweep(experiment);
  check_budgets(runs);
  storage::Store store = storage::Store::Open(options.db_path);
  install_interrupt_handlers();

  ProbeOptions probe;
  probe.start = options.probe_start;
  probe.steps = options.probe_steps;
  probe.again = options.probe_again;
  probe.cgroup_prefix = "orch-" + std::to_string(::getpid());

  // One probe per memory key and budget: sweeping lr or epochs changes nothing here.
  std::set<std::pair<std::string, std::int64_t>> done;
  for (const auto& run : runs) {
    std::int64_t budget = run_budget(run);
    if (!done.insert({memory_key(run), budget}).second) continue;
    std::cout << "probing " << run.swept_text() << " (memory key " << memory_key(run)
              << ", budget " << describe_bytes(budget) << ", " << probe.steps
              << " optimizer steps per trial)\n";
    ProbeResult result = probe_batch_size(run, *catalog, store, budget, probe, std::cout);
    std::cout << render_probe(result, budget) << "\n";
  }
  return 0;
}

}  // namespace orch
