#include "host/schedule/scheduler.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "host/base/memory_budget.h"
#include "host/base/table.h"
#include "host/base/user_error.h"
#include "host/guard/guard.h"
#include "host/guard/interrupt.h"
#include "host/guard/memory_cgroup.h"
#include "host/machine/admission.h"
#include "host/machine/contention.h"
#include "host/machine/machine.h"
#include "host/machine/machine_busy.h"
#include "host/report/projection.h"
#include "host/schedule/probe.h"
#include "host/schedule/progress.h"
#include "host/schedule/worker_launcher.h"
#include "host/sweep/run_key.h"
#include "host/sweep/sweep.h"

namespace orch {
namespace {

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
  // Its claims too, or the points would look taken until its heartbeat grew old.
  for (const auto& claim : store.claims(name)) {
    if (claim.hostname == here && !process_alive(claim.host_pid)) {
      store.drop_claims(claim.experiment_id);
    }
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
  return "halved to train.batch_size=" + std::to_string(train_int(run, "batch_size")) + " x " +
         std::to_string(train_int(run, "accumulation_steps")) + " accumulation steps";
}

// Sets train.batch_size of every run from the probe answer of its memory key.
void resolve_auto_batch_sizes(std::vector<RunSpec>& runs, const PluginCatalog& catalog,
                              storage::Store& store, const SweepOptions& options,
                              std::ostream& progress) {
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> answers;
  for (auto& run : runs) {
    if (!backend_unavailable(run, catalog).empty()) continue;  // skipped when its turn comes
    std::int64_t budget = run_budget(run, options.jobs);
    auto key = std::make_pair(memory_key(run), budget);
    if (!answers.count(key)) {
      progress << "batch_size = \"auto\": probing the largest batch that fits in "
               << describe_bytes(budget) << "\n";
      ProbeOptions probe_options;
      probe_options.cgroup_prefix = options.cgroup_prefix;
      probe_options.log_dir = logs_directory(store.path());
      ProbeResult result = probe_batch_size(run, catalog, store, budget, probe_options, progress);
      if (result.answer.max_batch_size == 0) {
        throw UserError("batch_size = \"auto\": not even batch size 1 fits in the budget of " +
                        describe_bytes(budget) + "; raise train.memory_limit");
      }
      progress << render_probe(result);
      answers[key] = result.answer.max_batch_size;
    }
    run.sections["train"].values["batch_size"] = answers[key];
    run.swept.insert(run.swept.begin(), {"train.batch_size", answers[key]});
    run.key = run_key(run.flat_params(), run.seed, run.repeat);
    run.config_key = run_key(run.flat_params(), run.seed - run.repeat, 0);
  }
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
  const MemoryCgroupCheck check =
      check_memory_cgroup("orch-" + std::to_string(::getpid()) + "-check");
  std::string layers = "the watchdog (20 ms) and the allocator";
  if (check.can_create)
    return "a memory cgroup (v" + std::to_string(check.version) + "), " + layers;
  return layers + " (no memory cgroup: " + check.why_not + ")";
}

void check_budgets(const std::vector<RunSpec>& runs, int parallel_runs) {
  // A budget that leaves a worker no room to train would fail every run.
  const std::int64_t minimum = worker_baseline_bytes() + (64ll << 20);
  for (const auto& run : runs) {
    std::int64_t budget = run_budget(run, parallel_runs);
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

std::int64_t run_budget(const RunSpec& run, int parallel_runs) {
  const auto& limit = std::get<std::string>(run.sections.at("train").values.at("memory_limit"));
  const MachineMemory& machine = machine_memory_at_start();
  return limit.empty() ? default_budget(machine, parallel_runs)
                       : parse_budget(limit, machine, "train.memory_limit");
}

std::int64_t fixed_threads(const RunSpec& run) {
  const auto& backend = run.sections.at("backend").values;
  auto threads = backend.find("threads");
  if (threads == backend.end()) return 0;
  const auto* value = std::get_if<std::int64_t>(&threads->second);
  return value && *value > 0 ? *value : 0;
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
  record.params.push_back(
      {"experiment.seed", std::to_string(run.seed), static_cast<double>(run.seed)});
  record.params_json = params.dump();
  return record;
}

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kHeartbeatEveryS = 2.0;

// A point waiting for its turn: the run as it will start (halving changes it) and the note
// that says why it differs from the plan.
struct QueuedRun {
  RunSpec run;
  std::string note;      // "halved to ...": a retry of the point, not a new one
  bool claimed = false;  // this orch holds the point's claim
  // What admission asks of it, worked out once: the queue is checked on every tick.
  std::int64_t budget = 0;
  int cores = 1;
};

struct ActiveRun {
  QueuedRun queued;
  std::int64_t run_id = 0;
  std::int64_t budget = 0;
  std::vector<int> cpus;  // the cores admission gave it
  std::string cpu_set;    // as recorded; empty when the worker is not pinned (-j 1)
  // Every epoch without its step times, and the start: what the projection rests on.
  std::vector<storage::EpochRecord> epochs;
  double start_s = 0;
  RunContention contention;  // from its ready event on
  std::unique_ptr<LaunchedWorker> worker;
};

// One sweep in progress: the queue of points, the workers going on, and what happened.
class SweepRunner {
 public:
  SweepRunner(const Experiment& experiment, const PluginCatalog& catalog, storage::Store& store,
              const SweepOptions& options, std::ostream& progress, std::int64_t experiment_id,
              int points)
      : experiment_(experiment),
        catalog_(catalog),
        store_(store),
        options_(options),
        experiment_id_(experiment_id),
        owned_launcher_(options.launcher ? nullptr : forking_launcher(catalog)),
        launcher_(options.launcher ? *options.launcher : *owned_launcher_),
        admission_(usable_cpus(),
                   options.memory_for_runs_bytes > 0 ? options.memory_for_runs_bytes
                                                     : machine_memory_at_start().available_bytes,
                   options.jobs),
        printer_(progress, options.live_progress, points, options.jobs > 1),
        log_dir_(logs_directory(store.path())) {}

  SweepTally run(const std::vector<const RunSpec*>& pending, SweepTally tally) {
    tally_ = tally;
    for (const auto* run : pending) queue_.push_back(queued_run(*run, "", false));
    last_heartbeat_ = Clock::now();
    while ((!queue_.empty() && !stopping()) || !active_.empty()) {
      if (!stopping()) start_what_fits();
      watch_workers();
      if (std::chrono::duration<double>(Clock::now() - last_heartbeat_).count() >=
          kHeartbeatEveryS) {
        store_.heartbeat(experiment_id_);
        last_heartbeat_ = Clock::now();
      }
    }
    give_up_on_queue();
    return tally_;
  }

 private:
  bool stopping() const { return stop_reason_ != StopReason::kNone || interrupt_requested(); }

  QueuedRun queued_run(RunSpec run, std::string note, bool claimed) const {
    const std::int64_t budget = run_budget(run, options_.jobs);
    const int cores = admission_.cores_for(fixed_threads(run));
    return {std::move(run), std::move(note), claimed, budget, cores};
  }

  // Starts queued points in order while the next ones fit; a point that does not fit
  // (memory or cores) waits, and a later smaller one may go first.
  void start_what_fits() {
    for (size_t i = 0; i < queue_.size() && !stopping();) {
      QueuedRun& queued = queue_[i];
      const std::int64_t budget = queued.budget;
      const int cores = queued.cores;
      // Nothing is claimed before it can start: a waiting claim would only stall others.
      if (admission_.running() >= options_.jobs) return;
      if (!admission_.idle() && !fits(cores, budget)) {
        ++i;
        continue;
      }
      if (!queued.claimed && !claim(queued)) {
        queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      if (!prepare(queued, budget)) {
        store_.release_claim(experiment_id_, queued.run.key);
        queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      auto cpus = admission_.admit(cores, budget);
      if (!cpus) {  // halving made it a different run; it waits like any other
        ++i;
        continue;
      }
      QueuedRun started = std::move(queued);
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
      start(std::move(started), budget, *cpus);
    }
  }

  bool fits(int cores, std::int64_t budget) {
    auto cpus = admission_.admit(cores, budget);
    if (!cpus) return false;
    admission_.release(*cpus, budget);
    return true;
  }

  // Takes the point for this orch; false when it is done or another live orch runs it.
  bool claim(QueuedRun& queued) {
    storage::Claim claim = store_.claim_run(experiment_id_, queued.run.key, options_.claim_grace_s);
    if (claim.outcome == storage::ClaimOutcome::kFinished) {
      ++tally_.done_elsewhere;
      return false;
    }
    if (claim.outcome == storage::ClaimOutcome::kHeld) {
      ++tally_.held_elsewhere;
      held_by_.insert(claim.holder);
      return false;
    }
    if (!claim.taken_from.empty()) {
      printer_.note("took over " + queued.run.swept_text() + " from an orch that stopped (" +
                    claim.taken_from + ")");
    }
    queued.claimed = true;
    return true;
  }

  // The checks before a worker: a backend that cannot run here and a batch known not to
  // fit are recorded as skipped without one. False when nothing is left to start.
  bool prepare(QueuedRun& queued, std::int64_t budget) {
    RunSpec& run = queued.run;
    if (std::string why = backend_unavailable(run, catalog_); !why.empty()) {
      record_not_run(queued, "skipped", why);
      ++tally_.not_ok;
      return false;
    }
    // A batch at least as large as one that already ran out of memory with the same
    // model, data, backend and budget would run out again: skip it, or halve first.
    auto known_oom = store_.smallest_oom_batch(memory_key(run), budget);
    if (!known_oom || train_int(run, "batch_size") < *known_oom || options_.run_infeasible) {
      return true;
    }
    const std::string on_oom = std::get<std::string>(run.sections.at("train").values.at("on_oom"));
    record_not_run(queued, "skipped",
                   "infeasible: train.batch_size=" + std::to_string(train_int(run, "batch_size")) +
                       " >= " + std::to_string(*known_oom) +
                       ", which ran out of memory with the same model, data, backend and "
                       "budget (--run-infeasible runs it anyway)");
    if (on_oom != "halve" || train_int(run, "batch_size") == 1) {
      ++tally_.not_ok;
      return false;
    }
    while (train_int(run, "batch_size") >= *known_oom && train_int(run, "batch_size") > 1) {
      run = halved(run);
    }
    queued.note = halving_note(run);
    return true;
  }

  // A row for a point that gets no worker, with its final status.
  void record_not_run(const QueuedRun& queued, const std::string& status, const std::string& why) {
    announce(queued, store_.add_runs(experiment_id_,
                                     {to_run_record(queued.run, queued.budget, queued.note)})[0]);
    const std::int64_t run_id = last_announced_;
    store_.finish_run(run_id, {status, 0, 0, std::nullopt, why, ""});
    printer_.run_finished(run_id, status + ": " + why, 0);
  }

  // The progress line of a point's first row, or of a retry of it.
  void announce(const QueuedRun& queued, std::int64_t run_id) {
    last_announced_ = run_id;
    if (!queued.note.empty()) {
      printer_.retry(run_id, queued.note);
      return;
    }
    ++started_points_;
    printer_.run_started(
        started_points_, run_id,
        queued.run.swept_text() +
            (experiment_.repeats > 1 ? "  repeat " + std::to_string(queued.run.repeat) : ""));
  }

  void start(QueuedRun queued, std::int64_t budget, std::vector<int> cpus) {
    auto active = std::make_unique<ActiveRun>();
    ActiveRun& a = *active;
    a.budget = budget;
    a.queued = std::move(queued);
    a.cpus = std::move(cpus);
    // One run at a time keeps the whole machine, unpinned, as before -j existed.
    if (options_.jobs > 1) a.cpu_set = describe_cpus(a.cpus);
    a.run_id =
        store_.add_runs(experiment_id_, {to_run_record(a.queued.run, budget, a.queued.note)})[0];
    announce(a.queued, a.run_id);
    GuardLimits limits{budget,
                       std::get<double>(a.queued.run.sections.at("train").values.at("timeout")),
                       options_.cgroup_prefix + "-run-" + std::to_string(a.run_id)};
    if (options_.jobs > 1) limits.cpus = a.cpus;
    if (!log_dir_.empty()) {
      limits.log_path = log_dir_ + "/run-" + std::to_string(a.run_id) + ".log";
      store_.set_log_path(a.run_id, limits.log_path);
    }
    ActiveRun* self = &a;
    a.worker = launcher_.start(a.queued.run, limits,
                               [this, self](const WorkerEvent& event) { on_event(*self, event); });
    active_.push_back(std::move(active));
  }

  void on_event(ActiveRun& a, const WorkerEvent& reported) {
    WorkerEvent event = reported;  // with the host's contention measurement added
    if (event.kind == WorkerEvent::Kind::kStarted) {
      store_.mark_running(a.run_id, event.pid, event.backend, a.cpu_set);
    } else if (event.kind == WorkerEvent::Kind::kReady) {
      a.start_s = a.worker->seconds_since_start();
      store_.set_start_seconds(a.run_id, a.start_s);
      // A pinned run is measured on its own cores, one that is not on all of them.
      a.contention.start(a.worker->pid(), a.cpu_set.empty() ? std::vector<int>{} : a.cpus);
    } else if (event.kind == WorkerEvent::Kind::kProgress) {
      event.epoch.other_cpu_cores = a.contention.epoch_so_far().other_cpu_cores;
    } else if (event.kind == WorkerEvent::Kind::kEpoch) {
      const Contention epoch = a.contention.end_epoch();
      event.epoch.other_cpu_cores = epoch.other_cpu_cores;
      event.epoch.run_queue = epoch.run_queue;
      store_.record_epoch(a.run_id, event.epoch);
      a.epochs.push_back(event.epoch);
      a.epochs.back().step_seconds.clear();
    }
    printer_.event(a.run_id, event, a.worker->resident_bytes(), a.budget);
  }

  // Waits one watchdog tick for output from any worker, then checks every worker.
  void watch_workers() {
    if (active_.empty()) {
      // Nothing running and nothing could start: only a stop ends this.
      std::this_thread::sleep_for(std::chrono::milliseconds(kWatchdogTickMs));
      return;
    }
    std::vector<LaunchedWorker*> workers;
    for (const auto& a : active_) workers.push_back(a->worker.get());
    launcher_.watch(workers);
    for (const auto& a : active_) a->contention.tick();
    for (size_t i = 0; i < active_.size();) {
      if (!active_[i]->worker->done()) {
        ++i;
        continue;
      }
      std::unique_ptr<ActiveRun> finished = std::move(active_[i]);
      active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(i));
      conclude(std::move(finished));
    }
  }

  static double projected_training_seconds(const ActiveRun& a) {
    const RunSpec& run = a.queued.run;
    TrainingPlan plan;
    plan.epochs = static_cast<int>(train_int(run, "epochs"));
    plan.batch_size = train_int(run, "batch_size");
    plan.benchmark =
        std::get<std::string>(run.sections.at("train").values.at("mode")) == "benchmark";
    return project_training_seconds(a.start_s, a.epochs, plan);
  }

  void conclude(std::unique_ptr<ActiveRun> a) {
    const Contention whole_run = a->contention.end_run();  // while the worker can be read
    GuardResult result = a->worker->finish();
    admission_.release(a->cpus, a->budget);
    storage::RunOutcome outcome{result.status,      result.wall_s, result.peak_rss_bytes,
                                result.exit_signal, result.error,  result.stop_layer};
    outcome.projected_s = projected_training_seconds(*a);
    outcome.other_cpu_cores = whole_run.other_cpu_cores;
    outcome.run_queue = whole_run.run_queue;
    outcome.busy = describe_busy(a->run_id, whole_run.other_cpu_cores, a->epochs);
    outcome.memory_trims = result.memory_trims;
    outcome.held_peak_bytes = result.held_peak_bytes;
    store_.finish_run(a->run_id, outcome);
    if (result.status == "ok") {
      const storage::EpochRecord last =
          a->epochs.empty() ? storage::EpochRecord{} : a->epochs.back();
      printer_.run_finished(a->run_id,
                            "ok  " + format_fixed(result.wall_s, 2) + " s, " +
                                format_fixed(last.samples_per_s, 0) + " samples/s, val acc " +
                                format_fixed(last.val_accuracy, 3) + ", peak " +
                                describe_bytes(result.peak_rss_bytes) +
                                describe_memory_trims(result.memory_trims, result.held_peak_bytes) +
                                (outcome.busy.empty() ? "" : "; " + outcome.busy),
                            result.wall_s);
    } else {
      printer_.run_finished(a->run_id, result.status + ": " + result.error, result.wall_s);
    }
    RunSpec& run = a->queued.run;
    if (result.status == "oom") {
      // One truth per memory key: a probe answer this run disproves is lowered now.
      std::string corrected = correct_probe_answer(store_, memory_key(run), a->budget,
                                                   train_int(run, "batch_size"), a->run_id);
      if (!corrected.empty()) printer_.note(corrected);
    }
    const std::string on_oom = std::get<std::string>(run.sections.at("train").values.at("on_oom"));
    if (result.status == "oom" && on_oom == "halve" && train_int(run, "batch_size") > 1 &&
        !stopping()) {
      RunSpec smaller = halved(run);
      std::string note = halving_note(smaller);
      queue_.push_front(queued_run(std::move(smaller), std::move(note), true));  // still claimed
      return;
    }
    store_.release_claim(experiment_id_, run.key);
    if (result.status == "ok") {
      ++tally_.ok;
    } else {
      ++tally_.not_ok;
    }
    if (result.status == "interrupted") {
      tally_.interrupted = true;
      stop_reason_ = StopReason::kInterrupted;
    } else if (result.status == "oom" && on_oom == "stop" && stop_reason_ == StopReason::kNone) {
      stop_reason_ = StopReason::kOutOfMemory;
      printer_.note("on_oom = \"stop\": the sweep stops here" +
                    std::string(active_.empty() ? "" : "; the runs going on finish first"));
    }
  }

  // After a stop, the points that never started get a row that says so, and run again next
  // time like any run that did not finish ok.
  void give_up_on_queue() {
    if (interrupt_requested()) tally_.interrupted = true;
    if (queue_.empty() || (!tally_.interrupted && stop_reason_ == StopReason::kNone)) return;
    const bool interrupted = tally_.interrupted;
    for (QueuedRun& queued : queue_) {
      if (!queued.claimed) {
        // Another orch may have it; claim it only to record why it did not run here.
        storage::Claim claim =
            store_.claim_run(experiment_id_, queued.run.key, options_.claim_grace_s);
        if (claim.outcome != storage::ClaimOutcome::kClaimed) continue;
      }
      const std::int64_t run_id = store_.add_runs(
          experiment_id_, {to_run_record(queued.run, queued.budget, queued.note)})[0];
      store_.finish_run(run_id, {interrupted ? "interrupted" : "skipped", 0, 0, std::nullopt,
                                 interrupted ? "not started: the sweep was interrupted"
                                             : "not started: the sweep stopped after an "
                                               "out-of-memory run (on_oom = \"stop\")",
                                 ""});
      store_.release_claim(experiment_id_, queued.run.key);
      ++tally_.not_ok;
    }
    queue_.clear();
  }

  enum class StopReason { kNone, kInterrupted, kOutOfMemory };

  const Experiment& experiment_;
  const PluginCatalog& catalog_;
  storage::Store& store_;
  const SweepOptions& options_;
  std::int64_t experiment_id_;
  std::unique_ptr<WorkerLauncher> owned_launcher_;  // when the options name none
  WorkerLauncher& launcher_;
  Admission admission_;
  ProgressPrinter printer_;
  std::string log_dir_;
  std::deque<QueuedRun> queue_;
  std::vector<std::unique_ptr<ActiveRun>> active_;
  SweepTally tally_;
  StopReason stop_reason_ = StopReason::kNone;
  int started_points_ = 0;
  std::int64_t last_announced_ = 0;
  Clock::time_point last_heartbeat_;

 public:
  std::set<std::string> held_by_;
};

}  // namespace

SweepTally run_sweep(const Experiment& experiment, std::vector<RunSpec> runs,
                     const PluginCatalog& catalog, storage::Store& store,
                     const SweepOptions& options, std::ostream& progress) {
  progress << "memory budget per run: " << describe_bytes(run_budget(runs.front(), options.jobs))
           << ", enforced by " << describe_enforcement() << "\n";
  if (options.jobs > 1) {
    const auto cpus = usable_cpus();
    progress << options.jobs << " runs at once on cores " << describe_cpus(cpus)
             << ": each run gets its file's backend threads or "
             << std::max<size_t>(1, cpus.size() / options.jobs)
             << " core(s), and starts only when its memory budget fits beside the others' in "
             << describe_bytes(machine_memory_at_start().available_bytes) << "\n";
  }
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
  if (experiment.random_order) {
    // The same seed gives the same order, so that a rerun can be compared run by run.
    std::mt19937_64 shuffle(static_cast<std::uint64_t>(experiment.seed));
    std::shuffle(pending.begin(), pending.end(), shuffle);
  }

  storage::ExperimentRecord header{experiment.name,         experiment.file,
                                   experiment.text,         stable_hash(experiment.text),
                                   describe_machine_json(), static_cast<int>(::getpid()),
                                   this_hostname(),         options.shard};
  std::int64_t experiment_id = store.begin_experiment(header);
  SweepRunner runner(experiment, catalog, store, options, progress, experiment_id,
                     static_cast<int>(pending.size()));
  tally = runner.run(pending, tally);
  if (tally.done_elsewhere > 0) {
    progress << tally.done_elsewhere << " run(s) were finished meanwhile by another orch on "
             << "this database\n";
  }
  if (tally.held_elsewhere > 0) {
    std::string holders;
    for (const auto& holder : runner.held_by_) holders += (holders.empty() ? "" : "; ") + holder;
    progress << tally.held_elsewhere << " run(s) are being run by another orch on this database ("
             << holders << "); they are left to it (orch status FILE shows them)\n";
  }
  store.drop_claims(experiment_id);
  return tally;
}

}  // namespace orch
