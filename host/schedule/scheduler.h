// Runs the pending runs of a sweep, one or several at once, each in its own guarded worker
// inside its memory budget and its share of the cores, records everything they report,
// and applies the experiment's out-of-memory policy. Within one orch the host process is
// the database's only writer; several orch processes on one database claim each point
// before running it, so no point runs twice.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/sweep/experiment.h"
#include "host/sweep/run_spec.h"
#include "storage/store.h"

namespace orch {

class WorkerLauncher;

struct SweepOptions {
  bool run_infeasible = false;  // run batch sizes known to run out of memory anyway
  std::string cgroup_prefix;    // names the workers' memory cgroups
  bool live_progress = false;   // a status line updated in place (a terminal)
  int jobs = 1;                 // runs at once
  double claim_grace_s = 60;    // a claim whose orch is silent this long is taken back
  std::string shard;            // "I/N" when running one shard of a sweep
  // The seam for the scheduler's unit tests: who starts the workers (null: orch forks
  // them, host/schedule/worker_launcher.h) and how much memory runs may hold together (0: what
  // the machine had available when the sweep started).
  WorkerLauncher* launcher = nullptr;
  std::int64_t memory_for_runs_bytes = 0;
};

// Where the workers' own output goes: "<db dir>/<db name>-logs", created on demand;
// empty when it cannot be created (the runs then write to orch's own stderr).
std::string logs_directory(const std::string& db_path);

struct SweepTally {
  int planned = 0;
  int skipped = 0;         // finished ok before: resumed past
  int done_elsewhere = 0;  // finished ok meanwhile by another orch on this database
  int held_elsewhere = 0;  // being run by another orch that is alive
  int ok = 0;
  int not_ok = 0;
  bool interrupted = false;
};

// Runs that already finished ok under this experiment's name are skipped (resume); runs
// an earlier, killed orch left behind are marked interrupted and run again. A run whose
// backend is not available here is recorded "skipped" with the reason, without a worker.
// Progress goes to `progress`, one line per run.
SweepTally run_sweep(const Experiment& experiment, std::vector<RunSpec> runs,
                     const PluginCatalog& catalog, storage::Store& store,
                     const SweepOptions& options, std::ostream& progress);

// Empty when the run's backend can run on this machine; otherwise why the run is skipped:
// "backend 'cuda' is not available on this machine: <the backend's reason>".
std::string backend_unavailable(const RunSpec& run, const PluginCatalog& catalog);

// The budget of a run in bytes: its train.memory_limit, or the default share of memory
// (split between `parallel_runs` runs at once).
std::int64_t run_budget(const RunSpec& run, int parallel_runs = 1);

// Throws UserError when a budget leaves a worker no room to train. Call it before
// anything is written.
void check_budgets(const std::vector<RunSpec>& runs, int parallel_runs = 1);

// The thread count a run's file fixes (backend.threads > 0), or 0 when it leaves it to
// the machine (then a parallel sweep gives the run its share of the cores).
std::int64_t fixed_threads(const RunSpec& run);

// Which layers enforce budgets here: "a memory cgroup (v1), the watchdog ..." or why not.
std::string describe_enforcement();

// The database record of a run's plan: its key, swept values and resolved parameters.
storage::RunRecord to_run_record(const RunSpec& run, std::int64_t budget_bytes,
                                 const std::string& note = "");

}  // namespace orch
