// What is settled about a run before a worker starts it, by the scheduler and by the
// commands that plan, probe or submit runs without running them: its memory budget,
// whether its backend runs here, the threads it fixes, and its database record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/run/run_spec.h"
#include "host/sweep/experiment.h"
#include "storage/store.h"

namespace orch {

// Empty when the run's backend can run on this machine; otherwise why the run is skipped:
// "backend 'cuda' is not available on this machine: <the backend's reason>".
std::string backend_unavailable(const RunSpec& run, const PluginCatalog& catalog);

// The budget of a run in bytes: its train.memory_limit, or the default share of memory
// (split between `parallel_runs` runs at once).
std::int64_t run_budget(const RunSpec& run, int parallel_runs = 1);

// Throws UserError when a budget leaves a worker no room to train. Call it before
// anything is written.
void check_budgets(const std::vector<RunSpec>& runs, int parallel_runs = 1);

// Throws UserError naming where it was set when a file or folder the runs' plugins read (a
// parameter declared as a path; empty means none) does not exist: one error before
// anything runs, instead of every run failing alike. For run, probe and submit; plan and
// status only describe, so a file made later is fine for them.
void check_input_paths(const Experiment& experiment, const std::vector<RunSpec>& runs);

// The thread count a run's file fixes (backend.threads > 0), or 0 when it leaves it to
// the machine (then a parallel sweep gives the run its share of the cores).
std::int64_t fixed_threads(const RunSpec& run);

// Which layers enforce budgets here: "a memory cgroup (v1), the watchdog ..." or why not.
std::string describe_enforcement();

// Where the workers' own output goes: "<db dir>/<db name>-logs", created on demand;
// empty when it cannot be created (the runs then write to orch's own stderr).
std::string logs_directory(const std::string& db_path);
// Beside the database too: "<db>-weights/" for the trained weights runs keep
// ([train] save); created on first use.
std::string weights_directory(const std::string& db_path);
// And "<db>-checkpoints/" for the checkpoints of runs ([train] checkpoint).
std::string checkpoints_directory(const std::string& db_path);

// The database record of a run's plan: its key, swept values and resolved parameters.
storage::RunRecord to_run_record(const RunSpec& run, std::int64_t budget_bytes,
                                 const std::string& note = "");

}  // namespace orch
