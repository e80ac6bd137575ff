// orch probe FILE: the largest batch size that fits the memory budget, for each distinct
// model/data/backend configuration of the file.
#include <unistd.h>

#include <iostream>
#include <set>

#include "host/base/memory_budget.h"
#include "host/cli/commands.h"
#include "host/cli/prepared_sweep.h"
#include "host/guard/interrupt.h"
#include "host/probe/probe.h"
#include "host/run/run_key.h"
#include "host/schedule/run_setup.h"
#include "host/sweep/experiment.h"
#include "host/sweep/sweep.h"
#include "host/training/training_library.h"
#include "storage/store.h"

namespace orch {

int probe_command(const Options& options) {
  PreparedSweep prepared = prepare_sweep(options);
  check_input_paths(prepared.experiment, prepared.runs);
  load_worker_body();  // a missing training library is found before a database is opened
  const Experiment& experiment = prepared.experiment;
  std::vector<RunSpec>& runs = prepared.runs;
  const PluginCatalog& catalog = *prepared.catalog;
  storage::Store store = storage::Store::Open(options.db_path);
  install_interrupt_handlers();

  ProbeOptions probe;
  probe.start = options.probe_start;
  probe.max_steps = options.probe_steps;
  probe.log_dir = logs_directory(store.path());
  probe.again = options.probe_again;
  probe.rehearse = !options.probe_no_rehearsal;
  probe.cgroup_prefix = "orch-" + std::to_string(::getpid());

  // One probe per memory key and budget: sweeping lr or epochs changes nothing here.
  std::set<std::pair<std::string, std::int64_t>> done;
  for (const auto& run : runs) {
    std::int64_t budget = run_budget(run);
    if (!done.insert({memory_key(run), budget}).second) continue;
    std::string unavailable = backend_unavailable(run, catalog);
    if (!unavailable.empty()) {
      // Nothing to measure: every trial would fail the same way.
      std::cout << "not probing " << run.swept_text() << ": " << unavailable << "\n";
      continue;
    }
    std::cout << "probing " << run.swept_text() << " (memory key " << memory_key(run) << ", budget "
              << describe_bytes(budget)
              << "; each trial trains until its peak stops growing, at most " << probe.max_steps
              << " optimizer steps, with a validation batch"
              << (probe.rehearse ? "; then one whole epoch rehearses the answer" : "") << ")\n";
    ProbeResult result = probe_batch_size(run, catalog, store, budget, probe, std::cout);
    std::cout << render_probe(result) << "\n";
  }
  return 0;
}

}  // namespace orch
