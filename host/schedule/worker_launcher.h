// How the scheduler starts and watches its workers: the seam between its policy (what
// runs when, what happens after an out-of-memory, a stop or an interrupt) and processes.
// orch forks guarded workers (forking_launcher); the scheduler's unit tests launch
// scripted ones that report what a test decides, in microseconds and without a fork.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/guard/guard.h"
#include "host/run/run_spec.h"

namespace orch {

// One started worker.
class LaunchedWorker {
 public:
  virtual ~LaunchedWorker() = default;
  virtual int pid() const = 0;
  virtual bool done() const = 0;  // it has exited, or its end is known
  virtual std::int64_t resident_bytes() const = 0;
  virtual double seconds_since_start() const = 0;
  // Stops it after an epoch: kPruned ([search] prune), or kOk (it reached the objective's
  // target). It ends with that status and `why`.
  virtual void stop_early(RunStatus status, std::string why) = 0;
  // How it ended. Call once, after done().
  virtual GuardResult finish() = 0;
};

class WorkerLauncher {
 public:
  virtual ~WorkerLauncher() = default;
  // Starts `run` under `limits`; its events reach `on_event` from within watch().
  virtual std::unique_ptr<LaunchedWorker> start(const RunSpec& run, const GuardLimits& limits,
                                                EventHandler on_event) = 0;
  // Waits at most one watchdog tick for what `workers` report, delivers it, and enforces
  // their limits (memory, time, Ctrl-C). Only workers this launcher started.
  virtual void watch(const std::vector<LaunchedWorker*>& workers) = 0;
};

// Forks each worker from this process and trains in it (host/guard/guard.h): what orch does.
std::unique_ptr<WorkerLauncher> forking_launcher(const PluginCatalog& catalog);

}  // namespace orch
