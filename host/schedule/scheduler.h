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
#include "host/run/run_spec.h"
#include "host/sweep/experiment.h"
#include "storage/store.h"

namespace orch {

class EpochStops;
class Race;
class WorkerLauncher;

struct SweepOptions {
  bool run_infeasible = false;  // run batch sizes known to run out of memory anyway
  std::string cgroup_prefix;    // names the workers' memory cgroups
  bool live_progress = false;   // a status line updated in place (a terminal)
  int jobs = 1;                 // runs at once
  double claim_grace_s = 60;    // a claim whose orch is silent this long is taken back
  std::string shard;            // "I/N" when running one shard of a sweep
  // This machine's row (Store::machine_id): resume skips only what finished ok on it, and
  // the experiment row names it. 0: unknown; every machine's finished runs count.
  std::int64_t machine_id = 0;
  // The seam for the scheduler's unit tests: who starts the workers (null: orch forks
  // them, host/schedule/worker_launcher.h) and how much memory runs may hold together (0: what
  // the machine had available when the sweep started).
  WorkerLauncher* launcher = nullptr;
  std::int64_t memory_for_runs_bytes = 0;
  // [search] prune: asked after each epoch of each run; a reason stops the run as pruned.
  EpochStops* epoch_stops = nullptr;
  // [search] race: asked before each repeat starts; a reason records it pruned unrun.
  Race* race = nullptr;
  // How progress lines count points: a search runs a few at a time, and numbers them
  // among all of its points ("[7/24]"). 0: the points given to this call.
  int points_before = 0;
  int points_total = 0;
};

struct SweepTally {
  int planned = 0;
  int pruned = 0;          // of not_ok: stopped early by [search] prune
  int promoted = 0;        // paused runs asha took up again ([search] promote = true)
  int skipped = 0;         // finished ok before: resumed past
  int done_elsewhere = 0;  // finished ok meanwhile by another orch on this database
  int held_elsewhere = 0;  // being run by another orch that is alive
  int ok = 0;
  int not_ok = 0;
  bool interrupted = false;
  bool stopped_by_oom = false;  // on_oom = "stop" ended it
};

// Runs that already finished ok under this experiment's name are skipped (resume); runs
// an earlier, killed orch left behind are marked interrupted and run again. A run whose
// backend is not available here is recorded "skipped" with the reason, without a worker.
// Progress goes to `progress`, one line per run.
SweepTally run_sweep(const Experiment& experiment, std::vector<RunSpec> runs,
                     const PluginCatalog& catalog, storage::Store& store,
                     const SweepOptions& options, std::ostream& progress);

}  // namespace orch
