// The first half of run, plan and probe: plugins loaded, the experiment file validated
// with --set and --memory-limit applied, the sweep expanded and every budget checked.
// Everything about the input is checked here, before a database is opened, so bad input
// never leaves one behind.
#pragma once

#include <memory>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/cli/commands.h"
#include "host/run/run_spec.h"
#include "host/sweep/experiment.h"
#include "host/sweep/sweep.h"

namespace orch {

struct PreparedSweep {
  std::unique_ptr<PluginCatalog> catalog;  // outlives the runs: they use its factories
  Experiment experiment;
  std::vector<RunSpec> runs;
  SweepCounts counts;  // how the product came to these runs
};

// Throws UserError for any bad input. Warnings (a rule that removes nothing) go to the
// log, which is stderr.
PreparedSweep prepare_sweep(const Options& options);

// prepare_sweep once more, with options that differ from a first pass's in what that pass
// decided (a budget, a submission's --set): its warnings were shown by the first pass, so
// only errors are logged.
PreparedSweep prepare_sweep_again(const Options& options);

// The same for `orch plan`, with the same checks and errors, but the runs stay SweepRuns:
// a RunSpec each would cost 100,000 runs most of a gigabyte and several seconds.
struct PreparedPlan {
  std::unique_ptr<PluginCatalog> catalog;
  std::unique_ptr<Experiment> experiment;  // on the heap: `runs` refers to it
  std::unique_ptr<SweepRuns> runs;
};
PreparedPlan prepare_plan(const Options& options);

}  // namespace orch
