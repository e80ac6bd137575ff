// Runs one worker in a child process inside a memory budget and a time limit, and turns
// whatever happens to it into exactly one outcome.
//
// The child is forked from the host, which has already loaded LibTorch and the plugins,
// so a run starts in milliseconds; the host must not have started threads (OpenMP,
// LibTorch's pools) before forking, which is why it never touches a tensor itself.
//
// The budget is enforced in layers: a memory cgroup of the worker's own where the kernel
// offers one (the kernel kills the worker the moment it crosses), a watchdog here that
// samples the worker's resident memory every 20 ms and kills it above the budget, and the
// backend inside the worker, which reports an allocation failure as out-of-memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/guard/worker_events.h"
#include "storage/run_status.h"

namespace orch {

class MemoryCgroup;
struct HeldMemory;

struct GuardLimits {
  std::int64_t budget_bytes = 0;  // the worker's resident memory limit; 0 = none
  double timeout_s = 0;           // wall-clock limit; 0 = none
  std::string cgroup_name;        // a memory cgroup is tried when set (and budget > 0)
  std::string log_path;           // the worker's stdout and stderr go here when set
  std::vector<int> cpus;          // pin the worker to these cores when set
  // The budget the worker's own memory handling aims under (it returns freed heap memory
  // to the kernel near it); 0 = budget_bytes. A probe's rehearsal runs with room above
  // the budget but must hold memory the way a run under the budget does.
  std::int64_t run_budget_bytes = 0;
  // From this resident memory on the worker hands freed heap memory back (see
  // returns_free_memory_above); -1 = 90% of the run's budget, 0 = throughout the run. A
  // probe trial trims throughout, so that its peak is what the step holds alive rather
  // than what the allocator happened to keep, alike from try to try.
  std::int64_t trim_above_bytes = -1;
};

// Above this resident memory a worker returns freed heap memory to the kernel (90% of its
// budget): its peaks stop there while what it holds alive is less.
inline std::int64_t returns_free_memory_above(std::int64_t budget_bytes) {
  return budget_bytes - budget_bytes / 10;
}

// "; handed freed memory back 26 times near the budget, holding at most 195.0 MiB right
// after" for a worker that did; empty for one that never came that close.
std::string describe_memory_trims(std::int64_t trims, std::int64_t held_peak_bytes);

// Where the budget or the run was stopped, as recorded in runs.stop_layer.
inline constexpr const char* kLayerCgroup = "cgroup";        // the kernel's OOM killer
inline constexpr const char* kLayerWatchdog = "watchdog";    // the host's sampler
inline constexpr const char* kLayerAllocator = "allocator";  // the backend, in the worker
inline constexpr const char* kLayerTimeout = "timeout";
inline constexpr const char* kLayerInterrupt = "interrupt";
inline constexpr const char* kLayerPruner = "pruner";  // [search] prune stopped it
inline constexpr const char* kLayerTarget = "target";  // it reached the objective's target
inline constexpr const char* kLayerRace = "race";      // [search] race: not run, clearly slower

struct GuardResult {
  RunStatus status = RunStatus::kFailed;  // ok | oom | timeout | crashed | failed | interrupted
  std::string stop_layer;                 // set for oom, timeout and interrupted
  double wall_s = 0;                      // fork to exit
  std::int64_t peak_rss_bytes = 0;        // the worker's peak resident memory
  std::optional<int> exit_signal;         // the signal that ended the worker
  std::string error;                      // why it did not end ok, for people
  bool cgroup_used = false;               // whether the kernel layer was in place
  std::string cgroup_unavailable;         // why not, when it was wanted
  // The worker's handing back of freed heap memory: how often it did, and the most it
  // still held right after doing so (what its tensors and the allocator's unreturnable
  // pages needed then; 0 when it never trimmed).
  std::int64_t memory_trims = 0;
  std::int64_t held_peak_bytes = 0;
};

// Called in the child with the write end of the event pipe; returns the exit code.
using WorkerMain = std::function<int(int event_fd)>;
using EventHandler = std::function<void(const WorkerEvent&)>;

// One running worker under guard, for hosts that watch several at once from one thread
// (no host threads: the host forks). Start it, call check() on every tick and read() when
// its event_fd() is readable, until done(); then finish() waits for it and says how it
// ended. Never throws for anything the child does.
class GuardedWorker {
 public:
  // Forks and starts the worker; throws std::runtime_error when no process can be made.
  GuardedWorker(const WorkerMain& worker, EventHandler on_event, GuardLimits limits);
  ~GuardedWorker();  // kills and reaps a worker that was not finished
  GuardedWorker(const GuardedWorker&) = delete;
  GuardedWorker& operator=(const GuardedWorker&) = delete;

  int event_fd() const { return events_fd_; }  // -1 once the worker closed its end
  int pid() const { return pid_; }
  bool done() const { return events_fd_ < 0; }
  std::int64_t resident_bytes() const;
  double seconds_since_fork() const;
  // Reads what the worker wrote and delivers whole events; closes at end of output.
  void read();
  // The watchdog: memory, time and Ctrl-C.
  void check();
  // Stops the worker after an epoch, at the scheduler's request: kPruned ([search] prune)
  // or kOk (it reached the objective's target), with `why`.
  void stop_early(RunStatus status, std::string why) {
    stop(status, status == RunStatus::kOk ? kLayerTarget : kLayerPruner, std::move(why));
  }
  // Waits for the child and classifies its end. Call once, after done().
  GuardResult finish();

 private:
  void stop(RunStatus status, const char* layer, std::string reason);
  void release_held();
  void deliver_lines();

  EventHandler on_event_;
  GuardLimits limits_;
  std::chrono::steady_clock::time_point start_;
  int pid_ = -1;
  int events_fd_ = -1;
  bool finished_ = false;
  std::unique_ptr<MemoryCgroup> cgroup_;
  HeldMemory* held_ = nullptr;  // a page shared with the worker, which writes it
  std::int64_t oom_kills_before_ = 0;
  GuardResult result_;
  std::string buffer_;
  bool reported_finished_ = false;
  bool reported_oom_ = false;
  std::string reported_error_;
  std::int64_t peak_ = 0;
  std::optional<RunStatus> stop_status_;  // set when the host stopped the worker
  std::string stop_layer_, stop_reason_;
};

// Forks, runs `worker` in the child, delivers each event to `on_event` in the parent as
// it arrives, enforces `limits`, and waits for the child. Never throws for anything the
// child does. Stops the worker (status interrupted) when interrupt_requested().
GuardResult run_guarded(const WorkerMain& worker, const EventHandler& on_event,
                        const GuardLimits& limits = {});

// How often the watchdog samples a worker.
inline constexpr int kWatchdogTickMs = 20;

}  // namespace orch
