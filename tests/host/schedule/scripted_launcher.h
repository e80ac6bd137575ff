// Workers without a fork, for the scheduler's and the search's unit tests: a launcher whose
// workers report what the test decides (started, ready, each epoch with a scripted
// validation accuracy, finished) one event per watch, and end as the script says. Ended
// early by an interrupt or a prune, as a guarded worker is.
#pragma once

#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/guard/interrupt.h"
#include "host/schedule/worker_launcher.h"

namespace orch {

// What a scripted worker reports: ok, or the status it ends with (before its first epoch).
using Script = std::function<RunStatus(const RunSpec&)>;
// The validation accuracy a run reports after `epoch` (1-based).
using Accuracy = std::function<double(const RunSpec&, int epoch)>;

// Runs out of memory from `limit` samples per batch on.
inline Script oom_from(std::int64_t limit) {
  return [limit](const RunSpec& run) {
    return run.train.batch_size >= limit ? RunStatus::kOom : RunStatus::kOk;
  };
}

class ScriptedWorker : public LaunchedWorker {
 public:
  ScriptedWorker(const RunSpec& run, RunStatus status, Accuracy accuracy, double epoch_seconds,
                 EventHandler on_event, int* running)
      : run_(run),
        status_(status),
        accuracy_(std::move(accuracy)),
        epoch_seconds_(epoch_seconds),
        on_event_(std::move(on_event)),
        running_(running) {
    ++*running_;
  }

  int pid() const override { return ::getpid(); }
  bool done() const override { return done_; }
  std::int64_t resident_bytes() const override { return 100 << 20; }
  double seconds_since_start() const override { return 0.01 * ticks_; }
  void stop_early(RunStatus status, std::string why) override {
    status_ = status;
    why_ = std::move(why);
    stopped_early_ = true;
  }
  GuardResult finish() override {
    GuardResult result;
    result.status = status_;
    result.error = why_;
    result.wall_s = seconds_since_start();
    result.peak_rss_bytes = 100 << 20;
    if (status_ == RunStatus::kOom) {
      result.stop_layer = kLayerWatchdog;
      result.error = "out of memory (scripted)";
    } else if (status_ == RunStatus::kInterrupted) {
      result.stop_layer = kLayerInterrupt;
      result.error = "interrupted (scripted)";
    } else if (stopped_early_) {  // as the guard does
      result.stop_layer = status_ == RunStatus::kOk ? kLayerTarget : kLayerPruner;
    }
    return result;
  }

  // One tick: the next event, or the end.
  void tick() {
    if (done_) return;
    ++ticks_;
    if (interrupt_requested()) status_ = RunStatus::kInterrupted;
    if (status_ == RunStatus::kInterrupted || stopped_early_) return end();
    const int epochs = static_cast<int>(run_.train.epochs);
    WorkerEvent event;
    if (ticks_ == 1) {
      event.kind = WorkerEvent::Kind::kStarted;
      event.pid = pid();
      event.backend = "scripted";
    } else if (ticks_ == 2) {
      event.kind = WorkerEvent::Kind::kReady;
    } else if (ticks_ <= 2 + epochs) {
      if (status_ != RunStatus::kOk) return end();
      event.kind = WorkerEvent::Kind::kEpoch;
      event.epoch.epoch = ticks_ - 2;
      event.epoch.seconds = epoch_seconds_;
      event.epoch.steps = 4;
      event.epoch.timed_samples = 64;
      event.epoch.samples_per_s = 3200;
      event.epoch.val_accuracy = accuracy_ ? accuracy_(run_, event.epoch.epoch) : 0;
    } else if (ticks_ == 3 + epochs) {
      event.kind = WorkerEvent::Kind::kFinished;
      event.peak_rss_bytes = 100 << 20;
    } else {
      return end();
    }
    on_event_(event);
  }

 private:
  void end() {
    done_ = true;
    --*running_;
  }

  RunSpec run_;
  RunStatus status_;
  Accuracy accuracy_;
  double epoch_seconds_;
  std::string why_;
  bool stopped_early_ = false;
  EventHandler on_event_;
  int* running_;
  int ticks_ = 0;
  bool done_ = false;
};

// Starts scripted workers and keeps what a test asserts: every start, and the most
// workers that were running at once.
class ScriptedLauncher : public WorkerLauncher {
 public:
  explicit ScriptedLauncher(Script script, Accuracy accuracy = nullptr)
      : script_(std::move(script)), accuracy_(std::move(accuracy)) {}

  std::unique_ptr<LaunchedWorker> start(const RunSpec& run, const GuardLimits& limits,
                                        EventHandler on_event) override {
    started.push_back({run.train.batch_size, run.train.accumulation_steps, limits.budget_bytes,
                       limits.cpus, run.swept_text()});
    if (on_start) on_start(run);
    auto worker = std::make_unique<ScriptedWorker>(run, script_(run), accuracy_,
                                                   epoch_seconds ? epoch_seconds(run) : 0.02,
                                                   std::move(on_event), &running_);
    most_at_once = std::max(most_at_once, running_);
    return worker;
  }

  void watch(const std::vector<LaunchedWorker*>& workers) override {
    for (LaunchedWorker* worker : workers) static_cast<ScriptedWorker*>(worker)->tick();
  }

  struct Start {
    std::int64_t batch_size;
    std::int64_t accumulation_steps;
    std::int64_t budget_bytes;
    std::vector<int> cpus;
    std::string swept;
  };
  std::vector<Start> started;
  int most_at_once = 0;
  std::function<void(const RunSpec&)> on_start;         // before the worker exists
  std::function<double(const RunSpec&)> epoch_seconds;  // each epoch's time; 0.02 s

 private:
  Script script_;
  Accuracy accuracy_;
  int running_ = 0;
};

}  // namespace orch
