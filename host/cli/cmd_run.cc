// orch run FILE: validate, expand, run what is not done yet, record, report.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <set>

#include "host/base/user_error.h"
#include "host/cli/commands.h"
#include "host/cli/prepared_sweep.h"
#include "host/cluster/shard.h"
#include "host/guard/interrupt.h"
#include "host/machine/machine_identity.h"
#include "host/report/ranking.h"
#include "host/report/report.h"
#include "host/report/task_groups.h"
#include "host/schedule/progress.h"
#include "host/schedule/run_setup.h"
#include "host/schedule/scheduler.h"
#include "host/sweep/experiment.h"
#include "host/sweep/sweep.h"
#include "host/training/training_library.h"
#include "storage/store.h"

namespace orch {
namespace {

// A grid runs only its shard's runs; a search cannot be split by shard (its points depend
// on each other's outcomes). False when the shard has nothing to run.
bool keep_shard(const Options& options, const Experiment& experiment, std::vector<RunSpec>& runs) {
  if (options.shard.empty()) return true;
  if (experiment.search.samples()) {
    throw UserError("--shard splits the runs of a grid, and '" + options.file +
                    "' has a sampled [search]; to share one search, start orch run on the same "
                    "--db from several processes or machines (they claim its points)");
  }
  const ShardSpec shard = parse_shard(options.shard);
  const size_t all = runs.size();
  runs = runs_of_shard(runs, shard);
  std::cout << "shard " << shard.index << " of " << shard.count << " (0-based): " << runs.size()
            << " of the sweep's " << all << " runs\n";
  if (!runs.empty()) return true;
  std::cout << "nothing to run in this shard: the sweep has fewer runs than shards\n";
  return false;
}

// [train] save = "best": the winning configuration's runs keep their weights, the other
// runs of the experiment give theirs up. Says where the kept ones are.
void keep_best_weights(const Experiment& experiment, storage::Store& store,
                       const std::vector<std::unique_ptr<RankedGroup>>& groups, bool save_best) {
  const auto saved = store.saved_weights(experiment.name);
  if (saved.empty()) return;
  std::set<std::int64_t> winners;
  for (const auto& ranked : groups) {
    if (const ConfigResult* winner = ranked->ranking.winner()) {
      for (const auto* run : winner->runs) winners.insert(run->run_id);
    }
  }
  std::vector<std::int64_t> kept;
  for (const auto& [run_id, path] : saved) {
    const bool winner = winners.count(run_id) > 0;
    if (winner) kept.push_back(run_id);
    if (winner || !save_best) continue;
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    store.set_weights_path(run_id, "");
  }
  for (const std::int64_t run_id : kept) {
    std::cout << "weights of the best run " << run_id << ": " << saved.at(run_id)
              << " (orch export " << run_id << " -o model.pt)\n";
  }
}

// The table of runs and each task's answer, as `orch report` would print them.
// This machine's runs only: other machines' runs in the history measured other machines.
void print_answer(const Experiment& experiment, storage::Store& store, std::int64_t machine_id,
                  bool save_best) {
  auto summaries = store.latest_runs(experiment.name, machine_id);
  std::cout << "\n" << render_run_table(summaries);
  const auto groups = rank_by_task(summaries, experiment.objective);
  for (const auto& ranked : groups) {
    std::cout << "\n";
    if (groups.size() > 1) std::cout << task_heading(ranked->group);
    if (experiment.repeats > 1) std::cout << render_config_table(ranked->ranking) << "\n";
    std::cout << render_best(ranked->ranking);
  }
  keep_best_weights(experiment, store, groups, save_best);
}

// What becomes of the runs that did not finish ok; the exit status.
int print_leftovers(const SweepTally& tally, bool search) {
  if (tally.interrupted) {
    std::cout << "interrupted: the unfinished runs run again the next time this file runs\n";
    return kExitInterrupted;
  }
  if (tally.pruned > 0 && tally.promoted > 0) {
    std::cout << tally.pruned << " run(s) were paused at an ASHA rung, " << tally.promoted
              << " of them went on later; the others stay paused, as the runs after them did "
              << "better (each run's note says where)\n";
  } else if (tally.pruned > 0) {
    std::cout << tally.pruned << " run(s) were pruned: they fell behind their peers (each "
              << "run's note says where), and are not run again\n";
  }
  const int again = tally.not_ok - tally.pruned;
  if (again > 0 && search) {
    std::cout << again << " point(s) did not finish ok; the search keeps them as what it "
              << "learned (out of memory: infeasible) and does not run them again\n";
  } else if (again > 0) {
    std::cout << again << " run(s) did not finish ok; they run again the next time "
              << "this file runs\n";
  }
  return 0;
}

}  // namespace

int run_command(const Options& options) {
  PreparedSweep prepared = prepare_sweep(options);
  check_input_paths(prepared.experiment, prepared.runs);
  load_worker_body();  // a missing training library is found before a database is opened
  const Experiment& experiment = prepared.experiment;
  std::vector<RunSpec>& runs = prepared.runs;
  if (!keep_shard(options, experiment, runs)) return 0;
  const PluginCatalog& catalog = *prepared.catalog;
  storage::Store store = storage::Store::Open(options.db_path);
  const storage::MachineRecord machine = this_machine(options.machine);
  const std::int64_t machine_id = store.machine_id(machine);

  const bool search = experiment.search.samples();
  std::cout << "experiment '" << experiment.name << "': ";
  if (search) {
    std::cout << "a " << strategy_word(experiment.search.strategy)
              << " search of its [sweep] (orch plan FILE shows the space)";
  } else {
    std::cout << runs.size() << " runs";
  }
  std::cout << ", database " << options.db_path << ", machine '" << machine.name << "' ("
            << machine.fingerprint << ")\n";
  install_interrupt_handlers();
  SweepOptions sweep_options;
  sweep_options.run_infeasible = options.run_infeasible;
  sweep_options.cgroup_prefix = "orch-" + std::to_string(::getpid());
  sweep_options.live_progress = stdout_is_terminal();
  sweep_options.jobs = options.jobs;
  sweep_options.claim_grace_s = options.claim_grace_s;
  sweep_options.shard = options.shard;
  sweep_options.machine_id = machine_id;
  SweepTally tally = run_sweep(experiment, runs, catalog, store, sweep_options, std::cout);
  print_answer(experiment, store, machine_id, runs.front().train.save == SaveWeights::kBest);
  return print_leftovers(tally, search);
}

}  // namespace orch
