// What became of a run, as the scheduler decides it, the database stores it (runs.status,
// one word) and the tables print it. One vocabulary from the guard to the report.
#pragma once

#include <string>

namespace orch {

enum class RunStatus {
  kPending,      // planned, not started
  kRunning,      // a worker is on it
  kOk,           // finished every epoch (or its benchmark) under its budget
  kOom,          // ran out of memory: its budget, or the machine's
  kTimeout,      // stopped at train.timeout
  kCrashed,      // the worker died of a signal that was not memory
  kFailed,       // the plugin or trainer threw, or the worker exited with an error
  kInterrupted,  // Ctrl-C, SIGTERM, or its orch went away: runs again next time
  kSkipped,      // got no worker: backend unavailable, known infeasible, sweep stopped
  kPruned,       // stopped early by the search's pruner: worse than its peers at a rung
};

// The word stored and printed: "ok", "oom", "timeout", ...
const char* status_word(RunStatus status);

// The status a stored word names; throws std::invalid_argument for a word orch never
// writes (a database edited by hand), naming it.
RunStatus run_status_named(const std::string& word);

// Neither pending nor running: the run will not change any more.
inline bool is_final(RunStatus status) {
  return status != RunStatus::kPending && status != RunStatus::kRunning;
}

}  // namespace orch
