#include "host/schedule/scheduler.h"

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <random>
#include <set>

#include "host/base/memory_budget.h"
#include "host/guard/guard.h"
#include "host/machine/admission.h"
#include "host/machine/machine.h"
#include "host/run/run_key.h"
#include "host/schedule/auto_batch.h"
#include "host/schedule/claims.h"
#include "host/schedule/epoch_stops.h"
#include "host/schedule/racing.h"
#include "host/schedule/run_setup.h"
#include "host/schedule/search_runner.h"
#include "host/schedule/sweep_runner.h"

namespace orch {
namespace {

// Runs left pending or running by an orch that is gone (killed, machine rebooted) are
// interrupted; they run again like any run that did not finish ok.
void recover_abandoned_runs(storage::Store& store, const std::string& name,
                            std::ostream& progress) {
  const std::string here = this_hostname();
  int recovered = 0;
  for (const auto& run : store.unfinished_runs(name)) {
    if (run.hostname != here || process_alive(run.host_pid)) continue;
    store.finish_run(run.run_id, {RunStatus::kInterrupted, 0, 0, std::nullopt,
                                  "the orch process (pid " + std::to_string(run.host_pid) +
                                      ") running it stopped before it finished",
                                  kLayerInterrupt});
    ++recovered;
  }
  // Its claims too, or the points would look taken until its heartbeat grew old.
  drop_claims_of_gone_orchs(store, name);
  if (recovered > 0) {
    progress << recovered << " run(s) left unfinished by an orch that was stopped are marked "
             << "interrupted and run again\n";
  }
}

// The budget, how it is enforced, and with -j N how runs share the machine.
void announce_sweep(const RunSpec& first, const SweepOptions& options, std::ostream& progress) {
  progress << "memory budget per run: " << describe_bytes(run_budget(first, options.jobs))
           << ", enforced by " << describe_enforcement() << "\n";
  if (options.jobs <= 1) return;
  const auto cpus = usable_cpus();
  progress << options.jobs << " runs at once on cores " << describe_cpus(cpus)
           << ": each run gets its file's backend threads or "
           << std::max<size_t>(1, cpus.size() / options.jobs)
           << " core(s), and starts only when its memory budget fits beside the others' in "
           << describe_bytes(machine_memory_at_start().available_bytes) << "\n";
}

// The runs that did not finish ok in an earlier sweep of the same name, in the order they
// run; those that did are counted in tally.skipped (resume).
std::vector<const RunSpec*> pending_runs(const Experiment& experiment,
                                         const std::vector<RunSpec>& runs, storage::Store& store,
                                         std::int64_t machine_id, SweepTally& tally,
                                         std::ostream& progress) {
  // A pruned run is an answer too: it fell behind, and would again. Only this machine's:
  // a run finished on another machine (merged in) measured that machine.
  const auto settled_keys =
      store.run_keys(experiment.name, storage::Store::KeysThat::kSettled, machine_id);
  const std::set<std::string> settled(settled_keys.begin(), settled_keys.end());
  std::vector<const RunSpec*> pending;
  for (const auto& run : runs) {
    if (settled.count(run.key) > 0) {
      ++tally.skipped;
    } else {
      pending.push_back(&run);
    }
  }
  if (tally.skipped > 0) {
    const bool prunes = experiment.search.prune.rule != PruneRule::kNone;
    progress << tally.skipped << " of " << runs.size() << " runs already finished "
             << (prunes ? "(ok or pruned)" : "ok") << " in an earlier sweep of '" << experiment.name
             << "'; running the other " << pending.size() << "\n";
  }
  if (experiment.random_order) {
    // The same seed gives the same order, so that a rerun can be compared run by run.
    std::mt19937_64 shuffle(static_cast<std::uint64_t>(experiment.seed));
    std::shuffle(pending.begin(), pending.end(), shuffle);
  }
  return pending;
}

storage::ExperimentRecord experiment_header(const Experiment& experiment,
                                            const SweepOptions& options) {
  return {experiment.name,         experiment.file,
          experiment.text,         stable_hash(experiment.text),
          describe_machine_json(), static_cast<int>(::getpid()),
          this_hostname(),         options.shard,
          options.machine_id};
}

// What other orch processes on the same database did with points of this sweep.
void report_others(const SweepTally& tally, const std::set<std::string>& held_by,
                   std::ostream& progress) {
  if (tally.done_elsewhere > 0) {
    progress << tally.done_elsewhere << " run(s) were finished meanwhile by another orch on "
             << "this database\n";
  }
  if (tally.held_elsewhere > 0) {
    std::string holders;
    for (const auto& holder : held_by) holders += (holders.empty() ? "" : "; ") + holder;
    progress << tally.held_elsewhere << " run(s) are being run by another orch on this database ("
             << holders << "); they are left to it (orch status FILE shows them)\n";
  }
}

}  // namespace

SweepTally run_sweep(const Experiment& experiment, std::vector<RunSpec> runs,
                     const PluginCatalog& catalog, storage::Store& store,
                     const SweepOptions& given_options, std::ostream& progress) {
  announce_sweep(runs.front(), given_options, progress);
  recover_abandoned_runs(store, experiment.name, progress);
  SweepOptions options = given_options;
  std::unique_ptr<EpochStops> epoch_stops =
      EpochStops::of(experiment, store, given_options.machine_id);
  options.epoch_stops = epoch_stops.get();
  std::unique_ptr<Race> race = Race::of(experiment, store, given_options.machine_id);
  options.race = race.get();
  if (experiment.search.samples()) {
    const std::int64_t experiment_id =
        store.begin_experiment(experiment_header(experiment, options));
    ClaimsReleaser releaser(store, experiment_id);
    return run_search(experiment, catalog, store, options, experiment_id, progress);
  }
  if (experiment.auto_batch_size) {
    ProbeOptions probe_options;
    probe_options.cgroup_prefix = options.cgroup_prefix;
    probe_options.log_dir = logs_directory(store.path());
    settle_auto_batch_sizes(runs, catalog, store, options.jobs, probe_options, progress);
  }
  SweepTally tally;
  tally.planned = static_cast<int>(runs.size());
  const std::vector<const RunSpec*> pending =
      pending_runs(experiment, runs, store, options.machine_id, tally, progress);
  if (pending.empty()) return tally;

  const std::int64_t experiment_id = store.begin_experiment(experiment_header(experiment, options));
  ClaimsReleaser releaser(store, experiment_id);
  std::set<std::string> held_by;
  tally = run_points(experiment, pending, tally, catalog, store, options, progress, experiment_id,
                     held_by);
  report_others(tally, held_by, progress);
  return tally;
}

}  // namespace orch
