#include "host/schedule/sweep_runner.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <thread>

#include "host/base/memory_budget.h"
#include "host/base/table.h"
#include "host/guard/guard.h"
#include "host/guard/interrupt.h"
#include "host/machine/admission.h"
#include "host/machine/contention.h"
#include "host/machine/machine.h"
#include "host/machine/machine_busy.h"
#include "host/probe/probe.h"
#include "host/report/projection.h"
#include "host/run/checkpoint_files.h"
#include "host/run/run_key.h"
#include "host/schedule/epoch_stops.h"
#include "host/schedule/oom_retry.h"
#include "host/schedule/progress.h"
#include "host/schedule/racing.h"
#include "host/schedule/run_setup.h"
#include "host/schedule/worker_launcher.h"

namespace orch {
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
              int points, std::set<std::string>& held_by)
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
        printer_(
            progress, options.live_progress,
            options.points_before > 0 || options.points_total > 0 ? options.points_total : points,
            options.jobs > 1),
        log_dir_(logs_directory(store.path())),
        held_by_(held_by) {
    started_points_ = options.points_before;
  }

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
    if (options_.race != nullptr) {
      if (auto why = options_.race->raced_out(run)) {
        record_not_run(queued, RunStatus::kPruned, *why, kLayerRace);
        ++tally_.not_ok;
        ++tally_.pruned;
        return false;
      }
    }
    if (std::string why = backend_unavailable(run, catalog_); !why.empty()) {
      record_not_run(queued, RunStatus::kSkipped, why);
      ++tally_.not_ok;
      return false;
    }
    // A batch at least as large as one that already ran out of memory with the same
    // model, data, backend and budget would run out again: skip it, or halve first.
    auto known_oom = store_.smallest_oom_batch(memory_key(run), budget);
    if (!known_oom || run.train.batch_size < *known_oom || options_.run_infeasible) {
      return true;
    }
    record_not_run(queued, RunStatus::kSkipped,
                   "infeasible: train.batch_size=" + std::to_string(run.train.batch_size) +
                       " >= " + std::to_string(*known_oom) +
                       ", which ran out of memory with the same model, data, backend and "
                       "budget (--run-infeasible runs it anyway)");
    if (run.train.on_oom != OnOom::kHalve || run.train.batch_size == 1) {
      ++tally_.not_ok;
      return false;
    }
    while (run.train.batch_size >= *known_oom && run.train.batch_size > 1) {
      run = halved(run);
    }
    queued.note = halving_note(run);
    return true;
  }

  // A row for a point that gets no worker, with its final status.
  void record_not_run(const QueuedRun& queued, RunStatus status, const std::string& why,
                      const char* layer = "") {
    announce(queued, store_.add_runs(experiment_id_,
                                     {to_run_record(queued.run, queued.budget, queued.note)})[0]);
    const std::int64_t run_id = last_announced_;
    store_.finish_run(run_id, {status, 0, 0, std::nullopt, why, layer});
    printer_.run_finished(run_id, std::string(status_word(status)) + ": " + why, 0);
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
    GuardLimits limits{budget, a.queued.run.train.timeout_s,
                       options_.cgroup_prefix + "-run-" + std::to_string(a.run_id)};
    if (options_.jobs > 1) limits.cpus = a.cpus;
    if (!log_dir_.empty()) {
      limits.log_path = log_dir_ + "/run-" + std::to_string(a.run_id) + ".log";
      store_.set_log_path(a.run_id, limits.log_path);
    }
    a.queued.run.weights_path.clear();
    if (a.queued.run.train.save != SaveWeights::kNone) {
      // Made on the first run that saves, so a sweep that keeps nothing leaves no folder.
      if (weights_dir_.empty()) weights_dir_ = weights_directory(store_.path());
      if (!weights_dir_.empty()) {
        a.queued.run.weights_path = weights_dir_ + "/run-" + std::to_string(a.run_id) + ".pt";
      }
    }
    set_up_checkpoints(a);
    ActiveRun* self = &a;
    a.worker = launcher_.start(a.queued.run, limits,
                               [this, self](const WorkerEvent& event) { on_event(*self, event); });
    active_.push_back(std::move(active));
  }

  // Checkpoints go to "<db>-checkpoints/<run key>-e<epoch>.pt". One that an interrupted
  // attempt of the key left is where this run resumes: the attempt's earlier epochs are
  // carried into this run's rows, and the worker goes on from the checkpoint.
  void set_up_checkpoints(ActiveRun& a) {
    RunSpec& run = a.queued.run;
    run.checkpoint_prefix.clear();
    run.resume_from.clear();
    const bool asked = run.train.checkpoint_minutes >= 0 || !run.checkpoint_epochs.empty();
    if (!asked || run.train.benchmark || run.train.inference) return;
    if (checkpoints_dir_.empty()) checkpoints_dir_ = checkpoints_directory(store_.path());
    if (checkpoints_dir_.empty()) {
      printer_.note("no checkpoints for run " + std::to_string(a.run_id) +
                    ": cannot create the folder beside " + store_.path());
      return;
    }
    run.checkpoint_prefix = checkpoints_dir_ + "/" + run.key;
    const auto found = latest_checkpoint(run.checkpoint_prefix);
    if (!found) return;
    const auto from = store_.attempt_to_resume(experiment_.name, run.key);
    if (!from || found->epoch <= 0 || found->epoch >= run.train.epochs) {
      // Nothing to continue (or nothing left to train): start over.
      remove_checkpoints(run.checkpoint_prefix);
      return;
    }
    const int carried = store_.resume_run(a.run_id, *from, static_cast<int>(found->epoch));
    run.resume_from = found->path;
    if (carried < found->epoch) {
      store_.set_checkpoint_note(
          a.run_id, "resumed after epoch " + std::to_string(found->epoch) + ", but run " +
                        std::to_string(*from) + " recorded only " + std::to_string(carried) +
                        " of those epochs (its orch stopped before recording the others)");
    }
    printer_.note("run " + std::to_string(a.run_id) + " resumes from its checkpoint after epoch " +
                  std::to_string(found->epoch) + " of run " + std::to_string(*from));
  }

  // An interrupted, timed-out or crashed run keeps its last checkpoint for the next orch run
  // of the file, and so does a run ASHA paused at a rung, which a promotion takes up; one
  // that finished ok keeps it only with keep_checkpoints; any other keeps none, since a
  // failure or an out-of-memory run would meet the same end from it.
  void settle_checkpoints(const RunSpec& run, RunStatus status) {
    if (run.checkpoint_prefix.empty()) return;
    const bool paused = status == RunStatus::kPruned && !run.checkpoint_epochs.empty();
    const bool resumable = status == RunStatus::kInterrupted || status == RunStatus::kTimeout ||
                           status == RunStatus::kCrashed || paused;
    const auto latest = latest_checkpoint(run.checkpoint_prefix);
    const bool keep =
        latest && (resumable || (status == RunStatus::kOk && run.train.keep_checkpoints));
    remove_checkpoints(run.checkpoint_prefix, keep ? latest->path : "");
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
    } else if (event.kind == WorkerEvent::Kind::kCheckpoint && !event.message.empty()) {
      const std::string note =
          "no checkpoint after epoch " + std::to_string(event.epoch.epoch) + ": " + event.message;
      store_.set_checkpoint_note(a.run_id, note);
      printer_.note("run " + std::to_string(a.run_id) + ": " + note);
    } else if (event.kind == WorkerEvent::Kind::kEpoch) {
      const Contention epoch = a.contention.end_epoch();
      event.epoch.other_cpu_cores = epoch.other_cpu_cores;
      event.epoch.run_queue = epoch.run_queue;
      store_.record_epoch(a.run_id, event.epoch);
      a.epochs.push_back(event.epoch);
      a.epochs.back().step_seconds.clear();
      if (options_.epoch_stops != nullptr) {
        if (auto stop = options_.epoch_stops->after_epoch(a.queued.run, a.run_id, event.epoch)) {
          a.worker->stop_early(stop->status, std::move(stop->why));
        }
      }
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

  // A run that finished ok keeps the weights its worker saved; any other leaves none.
  void keep_weights(std::int64_t run_id, const std::string& path, bool ok) {
    if (path.empty()) return;
    std::error_code ignored;
    std::filesystem::remove(path + ".partial", ignored);
    if (ok && std::filesystem::is_regular_file(path, ignored)) {
      store_.set_weights_path(run_id, path);
    } else {
      std::filesystem::remove(path, ignored);
    }
  }

  static double projected_training_seconds(const ActiveRun& a) {
    const RunSpec& run = a.queued.run;
    TrainingPlan plan;
    plan.epochs = static_cast<int>(run.train.epochs);
    plan.batch_size = run.train.batch_size;
    plan.benchmark = run.train.benchmark;
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
    printer_.run_finished(a->run_id, finish_line(result, a->epochs, outcome.busy), result.wall_s);
    RunSpec& run = a->queued.run;
    keep_weights(a->run_id, run.weights_path, result.status == RunStatus::kOk);
    settle_checkpoints(run, result.status);
    if (result.status == RunStatus::kOom) {
      // One truth per memory key: a probe answer this run disproves is lowered now.
      std::string corrected =
          correct_probe_answer(store_, memory_key(run), a->budget, run.train.batch_size, a->run_id);
      if (!corrected.empty()) printer_.note(corrected);
    }
    const OnOom on_oom = run.train.on_oom;
    if (result.status == RunStatus::kOom && on_oom == OnOom::kHalve && run.train.batch_size > 1 &&
        !stopping()) {
      RunSpec smaller = halved(run);
      std::string note = halving_note(smaller);
      queue_.push_front(queued_run(std::move(smaller), std::move(note), true));  // still claimed
      return;
    }
    store_.release_claim(experiment_id_, run.key);
    if (result.status == RunStatus::kOk) {
      ++tally_.ok;
    } else {
      ++tally_.not_ok;
      if (result.status == RunStatus::kPruned) ++tally_.pruned;
    }
    if (result.status == RunStatus::kInterrupted) {
      tally_.interrupted = true;
      stop_reason_ = StopReason::kInterrupted;
    } else if (result.status == RunStatus::kOom && on_oom == OnOom::kStop &&
               stop_reason_ == StopReason::kNone) {
      stop_reason_ = StopReason::kOutOfMemory;
      tally_.stopped_by_oom = true;
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
      store_.finish_run(
          run_id, {interrupted ? RunStatus::kInterrupted : RunStatus::kSkipped, 0, 0, std::nullopt,
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
  std::string weights_dir_;      // "<db>-weights", once a run saves its weights
  std::string checkpoints_dir_;  // "<db>-checkpoints", once a run saves checkpoints
  std::deque<QueuedRun> queue_;
  std::vector<std::unique_ptr<ActiveRun>> active_;
  SweepTally tally_;
  StopReason stop_reason_ = StopReason::kNone;
  int started_points_ = 0;
  std::int64_t last_announced_ = 0;
  Clock::time_point last_heartbeat_;

  std::set<std::string>& held_by_;  // who holds the points this orch left to others
};

}  // namespace

SweepTally run_points(const Experiment& experiment, const std::vector<const RunSpec*>& pending,
                      SweepTally tally, const PluginCatalog& catalog, storage::Store& store,
                      const SweepOptions& options, std::ostream& progress,
                      std::int64_t experiment_id, std::set<std::string>& held_by) {
  SweepRunner runner(experiment, catalog, store, options, progress, experiment_id,
                     static_cast<int>(pending.size()), held_by);
  return runner.run(pending, tally);
}

}  // namespace orch
