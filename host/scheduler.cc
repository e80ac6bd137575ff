#include "host/scheduler.h"

#include <nlohmann/json.hpp>

#include "host/guard.h"
#include "host/machine.h"
#include "host/sweep.h"
#include "host/table.h"
#include "host/worker.h"

namespace orch {

storage::RunRecord to_run_record(const RunSpec& run) {
  storage::RunRecord record;
  record.run_key = run.key;
  record.swept = run.swept_text();
  record.repeat = run.repeat;
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [key, value] : run.flat_params()) {
    storage::ParamRecord param{key, "", std::nullopt};
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          params[key] = v;
          if constexpr (std::is_same_v<T, std::string>) {
            param.value_text = v;
          } else {
            param.value_text = to_toml(value);
            param.value_num = static_cast<double>(v);
          }
        },
        value);
    record.params.push_back(std::move(param));
  }
  params["experiment.seed"] = run.seed;
  record.params.push_back({"experiment.seed", std::to_string(run.seed),
                           static_cast<double>(run.seed)});
  record.params_json = params.dump();
  return record;
}

SweepTally run_sweep(const Experiment& experiment, const std::vector<RunSpec>& runs,
                     const PluginCatalog& catalog, storage::Store& store,
                     std::ostream& progress) {
  SweepTally tally;
  tally.planned = static_cast<int>(runs.size());
  std::vector<const RunSpec*> pending;
  for (const auto& run : runs) {
    if (store.finished_ok(experiment.name, run.key)) {
      ++tally.skipped;
    } else {
      pending.push_back(&run);
    }
  }
  if (tally.skipped > 0) {
    progress << tally.skipped << " of " << runs.size()
             << " runs already finished ok in an earlier sweep of '" << experiment.name
             << "'; running the other " << pending.size() << "\n";
  }
  if (pending.empty()) return tally;

  storage::ExperimentRecord header{experiment.name, experiment.file, experiment.text,
                                   stable_hash(experiment.text), describe_machine_json()};
  std::int64_t experiment_id = store.begin_experiment(header);
  std::vector<storage::RunRecord> records;
  for (const auto* run : pending) records.push_back(to_run_record(*run));
  std::vector<std::int64_t> ids = store.add_runs(experiment_id, records);

  for (size_t i = 0; i < pending.size(); ++i) {
    const RunSpec& run = *pending[i];
    std::int64_t run_id = ids[i];
    progress << "[" << (i + 1) << "/" << pending.size() << "] run " << run_id << "  "
             << run.swept_text() << (experiment.repeats > 1 ? "  repeat " + std::to_string(run.repeat) : "")
             << std::flush;

    storage::EpochRecord last_epoch;
    GuardResult result = run_guarded(
        [&](int event_fd) { return run_worker(run, catalog, event_fd); },
        [&](const WorkerEvent& event) {
          if (event.kind == WorkerEvent::Kind::kStarted) {
            store.mark_running(run_id, event.pid);
          } else if (event.kind == WorkerEvent::Kind::kEpoch) {
            store.record_epoch(run_id, event.epoch);
            last_epoch = event.epoch;
          }
        });
    store.finish_run(run_id, {result.status, result.wall_s, result.peak_rss_bytes,
                              result.exit_signal, result.error});

    if (result.status == "ok") {
      ++tally.ok;
      progress << "  ok  " << format_fixed(result.wall_s, 2) << " s, "
               << format_fixed(last_epoch.samples_per_s, 0) << " samples/s, val acc "
               << format_fixed(last_epoch.val_accuracy, 3) << "\n";
    } else {
      ++tally.not_ok;
      progress << "  " << result.status << ": " << result.error << "\n";
    }
  }
  return tally;
}

}  // namespace orch
