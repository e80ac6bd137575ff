// Runs one worker in a child process and turns whatever happens to it into an outcome.
// The child is forked from the host, which has already loaded LibTorch and the plugins,
// so a run starts in milliseconds; the host must not have started threads (OpenMP,
// LibTorch's pools) before forking, which is why it never touches a tensor itself.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "host/worker_events.h"

namespace orch {

struct GuardResult {
  std::string status;              // ok | failed | crashed
  double wall_s = 0;               // fork to exit
  std::int64_t peak_rss_bytes = 0; // the worker's peak resident memory
  std::optional<int> exit_signal;  // the signal that killed the worker
  std::string error;               // why it did not end ok, for people
};

// Called in the child with the write end of the event pipe; returns the exit code.
using WorkerMain = std::function<int(int event_fd)>;
using EventHandler = std::function<void(const WorkerEvent&)>;

// Forks, runs `worker` in the child, delivers each event to `on_event` in the parent as
// it arrives, and waits for the child. Never throws for anything the child does.
GuardResult run_guarded(const WorkerMain& worker, const EventHandler& on_event);

}  // namespace orch
