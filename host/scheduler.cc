#include "host/scheduler.h"

#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "host/guard.h"
#include "host/machine.h"
#include "host/memory_budget.h"
#include "host/memory_cgroup.h"
#include "host/probe.h"
#include "host/progress.h"
#include "host/sweep.h"
#include "host/table.h"
#include "host/user_error.h"
#include "host/worker.h"

namespace orch {
namespace {

std::string this_hostname() {
  utsname name{};
  return ::uname(&name) == 0 ? name.nodename : "";
}

bool process_alive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

// About what a forked worker holds before it trains: the host's anonymous pages (which
// fork shares with it) plus the LibTorch code pages that training touches.
std::int64_t worker_baseline_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stoll(line.substr(8)) * 1024 + (32ll << 20);
  }
  return 128ll << 20;
}

std::int64_t train_int(const RunSpec& run, const char* name) {
  return std::get<std::int64_t>(run.sections.at("train").values.at(name));
}

// Runs left pending or running by an orch that is gone (killed, machine rebooted) are
// interrupted; they run again like any run that did not finish ok.
void recover_abandoned_runs(storage::Store& store, const std::string& name,
                            std::ostream& progress) {
  const std::string here = this_hostname();
  int recovered = 0;
  for (const auto& run : store.unfinished_runs(name)) {
    if (run.hostname != here || process_alive(run.host_pid)) continue;
    store.finish_run(run.run_id, {"interrupted", 0, 0, std::nullopt,
                                  "the orch process (pid " + std::to_string(run.host_pid) +
                                      ") running it stopped before it finished",
                                  kLayerInterrupt});
    ++recovered;
  }
  if (recovered > 0) {
    progress << recovered << " run(s) left unfinished by an orch that was stopped are marked "
             << "interrupted and run again\n";
  }
}

RunSpec halved(const RunSpec& run) {
  RunSpec smaller = run;
  auto& train = smaller.sections["train"].values;
  train["batch_size"] = std::max<std::int64_t>(1, train_int(run, "batch_size") / 2);
  train["accumulation_steps"] = train_int(run, "accumulation_steps") * 2;
  return smaller;
}

std::string halving_note(const RunSpec& run) {
  return "halved to train.batch_size=" + std::to_string(train_int(run, "batch_size")) +
         " x " + std::to_string(train_int(run, "accumulation_steps")) + " accumulation steps";
}

// Sets train.batch_size of every run from the probe answer of its memory key.
void resolve_auto_batch_sizes(std::vector<RunSpec>& runs, const PluginCatalog& catalog,
                              storage::Store& store, const SweepOptions& options,
                              std::ostream& progress) {
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> answers;
  for (auto& run : runs) {
    if (!backend_unavailable(run, catalog).empty()) continue;  // skipped when its turn comes
    std::int64_t budget = run_budget(run);
    auto key = std::make_pair(memory_key(run), budget);
    if (!answers.count(key)) {
      progress << "batch_size = \"auto\": probing the largest batch that fits in "
               << describe_bytes(budget) << "\n";
      ProbeOptions probe_options;
      probe_options.cgroup_prefix = options.cgroup_prefix;
      ProbeResult result = probe_batch_size(run, catalog, store, budget, probe_options, progress);
      if (result.max_batch_size == 0) {
        throw UserError("batch_size = \"auto\": not even batch size 1 fits in the budget of " +
                        describe_bytes(budget) + "; raise train.memory_limit");
      }
      progress << render_probe(result, budget);
      answers[key] = result.max_batch_size;
    }
    run.sections["train"].values["batch_size"] = answers[key];
    run.swept.insert(run.swept.begin(), {"train.batch_size", answers[key]});
    run.key = run_key(run.flat_params(), run.seed, run.repeat);
    run.config_key = run_key(run.flat_params(), run.seed - run.repeat, 0);
  }
}

// The resident memory of a process now; 0 when it is gone or unknown.
std::int64_t process_resident_bytes(int pid) {
  if (pid <= 0) return 0;
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * ::sysconf(_SC_PAGESIZE);
}

}  // namespace

std::string logs_directory(const std::string& db_path) {
  namespace fs = std::filesystem;
  std::error_code ignored;
  fs::path db = fs::absolute(db_path, ignored);
  fs::path dir = db.parent_path() / (db.stem().string() + "-logs");
  std::error_code error;
  fs::create_directories(dir, error);
  return error ? "" : dir.string();
}

std::string describe_enforcement() {
  std::string why_not;
  auto trial = MemoryCgroup::create("orch-" + std::to_string(::getpid()) + "-check", 64ll << 20,
                                    &why_not);
  std::string layers = "the watchdog (20 ms) and the allocator";
  if (trial) return "a memory cgroup (v" + std::to_string(trial->version()) + "), " + layers;
  return layers + " (no memory cgroup: " + why_not + ")";
}

void check_budgets(const std::vector<RunSpec>& runs) {
  // A budget that leaves a worker no room to train would fail every run.
  const std::int64_t minimum = worker_baseline_bytes() + (64ll << 20);
  for (const auto& run : runs) {
    std::int64_t budget = run_budget(run);
    if (budget < minimum) {
      throw UserError("the memory budget of " + describe_bytes(budget) +
                      " leaves no room to train: a worker holds about " +
                      describe_bytes(worker_baseline_bytes()) +
                      " before training starts (LibTorch and the plugins); set "
                      "train.memory_limit or --memory-limit to at least " +
                      describe_bytes(minimum));
    }
  }
}

std::string backend_unavailable(const RunSpec& run, const PluginCatalog& catalog) {
  const std::string& name = run.plugin("backend");
  const PluginEntry* entry = catalog.find(PluginKind::kBackend, name);
  if (entry == nullptr || entry->unavailable_reason.empty()) return "";
  return "backend '" + name + "' is not available on this machine: " + entry->unavailable_reason;
}

std::int64_t run_budget(const RunSpec& run) {
  const auto& limit = std::get<std::string>(run.sections.at("train").values.at("memory_limit"));
  const MachineMemory& machine = machine_memory_at_start();
  return limit.empty() ? default_budget(machine) : parse_budget(limit, machine, "train.memory_limit");
}

storage::RunRecord to_run_record(const RunSpec& run, std::int64_t budget_bytes,
                                 const std::string& note) {
  storage::RunRecord record;
  record.run_key = run.key;
  record.swept = run.swept_text() + (note.empty() ? "" : " (" + note + ")");
  record.repeat = run.repeat;
  record.memory_key = memory_key(run);
  record.budget_bytes = budget_bytes;
  record.batch_size = train_int(run, "batch_size");
  record.config_key = run.config_key;
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

SweepTally run_sweep(const Experiment& experiment, std::vector<RunSpec> runs,
                     const PluginCatalog& catalog, storage::Store& store,
                     const SweepOptions& options, std::ostream& progress) {
  progress << "memory budget per run: " << describe_bytes(run_budget(runs.front()))
           << ", enforced by " << describe_enforcement() << "\n";
  recover_abandoned_runs(store, experiment.name, progress);
  if (experiment.auto_batch_size) {
    resolve_auto_batch_sizes(runs, catalog, store, options, progress);
  }

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

  storage::ExperimentRecord header{experiment.name, experiment.file,
                                   experiment.text, stable_hash(experiment.text),
                                   describe_machine_json(), static_cast<int>(::getpid()),
                                   this_hostname()};
  std::int64_t experiment_id = store.begin_experiment(header);
  std::vector<storage::RunRecord> records;
  for (const auto* run : pending) records.push_back(to_run_record(*run, run_budget(*run)));
  std::vector<std::int64_t> ids = store.add_runs(experiment_id, records);

  ProgressPrinter printer(progress, options.live_progress, static_cast<int>(pending.size()));
  const std::string log_dir = logs_directory(store.path());

  // Runs one attempt of `run` as row `run_id` and records its outcome.
  auto attempt = [&](const RunSpec& run, std::int64_t run_id, std::int64_t budget) {
    storage::EpochRecord last_epoch;
    GuardLimits limits{budget, std::get<double>(run.sections.at("train").values.at("timeout")),
                       options.cgroup_prefix + "-run-" + std::to_string(run_id)};
    if (!log_dir.empty()) {
      limits.log_path = log_dir + "/run-" + std::to_string(run_id) + ".log";
      store.set_log_path(run_id, limits.log_path);
    }
    int worker_pid = 0;
    GuardResult result = run_guarded(
        [&](int event_fd) { return run_worker(run, catalog, event_fd); },
        [&](const WorkerEvent& event) {
          if (event.kind == WorkerEvent::Kind::kStarted) {
            worker_pid = event.pid;
            store.mark_running(run_id, event.pid, event.backend);
          } else if (event.kind == WorkerEvent::Kind::kEpoch) {
            store.record_epoch(run_id, event.epoch);
            last_epoch = event.epoch;
          }
          printer.event(event, process_resident_bytes(worker_pid), budget);
        },
        limits);
    store.finish_run(run_id, {result.status, result.wall_s, result.peak_rss_bytes,
                              result.exit_signal, result.error, result.stop_layer});
    if (result.status == "ok") {
      printer.run_finished("ok  " + format_fixed(result.wall_s, 2) + " s, " +
                               format_fixed(last_epoch.samples_per_s, 0) + " samples/s, val acc " +
                               format_fixed(last_epoch.val_accuracy, 3) + ", peak " +
                               describe_bytes(result.peak_rss_bytes),
                           result.wall_s);
    } else {
      printer.run_finished(result.status + ": " + result.error, result.wall_s);
    }
    return result;
  };
  auto give_up_on_rest = [&](size_t from, const char* status, const std::string& why) {
    for (size_t j = from; j < pending.size(); ++j) {
      store.finish_run(ids[j], {status, 0, 0, std::nullopt, why, ""});
      ++tally.not_ok;
    }
  };

  for (size_t i = 0; i < pending.size(); ++i) {
    RunSpec run = *pending[i];
    std::int64_t run_id = ids[i];
    const std::int64_t budget = run_budget(run);
    // A copy, not a reference: `run` is reassigned when halving.
    const std::string on_oom = std::get<std::string>(run.sections.at("train").values.at("on_oom"));
    printer.run_started(static_cast<int>(i + 1), run_id,
                        run.swept_text() + (experiment.repeats > 1
                                                ? "  repeat " + std::to_string(run.repeat)
                                                : ""));

    // Nothing to fork for: the backend said at load time that it cannot run here.
    if (std::string why = backend_unavailable(run, catalog); !why.empty()) {
      store.finish_run(run_id, {"skipped", 0, 0, std::nullopt, why, ""});
      printer.run_finished("skipped: " + why, 0);
      ++tally.not_ok;
      continue;
    }

    // A batch at least as large as one that already ran out of memory with the same
    // model, data, backend and budget would run out again: skip it, or halve first.
    auto known_oom = store.smallest_oom_batch(memory_key(run), budget);
    if (known_oom && train_int(run, "batch_size") >= *known_oom && !options.run_infeasible) {
      std::string why = "infeasible: train.batch_size=" +
                        std::to_string(train_int(run, "batch_size")) + " >= " +
                        std::to_string(*known_oom) +
                        ", which ran out of memory with the same model, data, backend and "
                        "budget (--run-infeasible runs it anyway)";
      store.finish_run(run_id, {"skipped", 0, 0, std::nullopt, why, ""});
      printer.run_finished("skipped: " + why, 0);
      if (on_oom != "halve" || train_int(run, "batch_size") == 1) {
        ++tally.not_ok;
        continue;
      }
      while (train_int(run, "batch_size") >= *known_oom && train_int(run, "batch_size") > 1) {
        run = halved(run);
      }
      run_id = store.add_runs(experiment_id, {to_run_record(run, budget, halving_note(run))})[0];
      printer.retry(run_id, halving_note(run));
    }

    GuardResult result = attempt(run, run_id, budget);
    while (result.status == "oom" && on_oom == "halve" && train_int(run, "batch_size") > 1) {
      run = halved(run);
      run_id = store.add_runs(experiment_id, {to_run_record(run, budget, halving_note(run))})[0];
      printer.retry(run_id, halving_note(run));
      result = attempt(run, run_id, budget);
    }

    if (result.status == "ok") {
      ++tally.ok;
    } else {
      ++tally.not_ok;
    }
    if (result.status == "interrupted") {
      tally.interrupted = true;
      give_up_on_rest(i + 1, "interrupted", "not started: the sweep was interrupted");
      break;
    }
    if (result.status == "oom" && on_oom == "stop") {
      give_up_on_rest(i + 1, "skipped", "not started: the sweep stopped after an "
                                        "out-of-memory run (on_oom = \"stop\")");
      printer.note("on_oom = \"stop\": the sweep stops here");
      break;
    }
  }
  return tally;
}

}  // namespace orch
