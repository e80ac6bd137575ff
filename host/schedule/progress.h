// Live progress of a sweep. On a terminal: one status line updated in place (run i of n,
// epoch and step, samples/s, the worker's memory against its budget, and the sweep's
// ETA). Anywhere else (CI, a log file): plain lines, one per event, never rewritten.
// Both say "busy: others 0.7 cores" while other processes take a noticeable share of the
// CPU (the event's other_cpu_cores, which the scheduler measures).
// When runs go on in parallel, every line names its run and there is no status line.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "host/guard/guard.h"
#include "host/guard/worker_events.h"
#include "storage/store.h"

namespace orch {

class ProgressPrinter {
 public:
  ProgressPrinter(std::ostream& out, bool terminal, int runs, bool parallel = false);

  void run_started(int index, std::int64_t run_id, const std::string& label);
  // A retry of the same point (halving) continues the current run's block.
  void retry(std::int64_t run_id, const std::string& note);
  // `rss_bytes`: the worker's resident memory now (0 when unknown).
  void event(std::int64_t run_id, const WorkerEvent& event, std::int64_t rss_bytes,
             std::int64_t budget_bytes);
  // The run's outcome as one line, e.g. "ok  1.23 s, 8000 samples/s".
  void run_finished(std::int64_t run_id, const std::string& outcome, double wall_s);
  void note(const std::string& line);  // anything else, on a line of its own

 private:
  void clear_status();
  // What starts a run's lines: its id when runs go on in parallel.
  std::string tag(std::int64_t run_id) const;
  std::string eta(double fraction_of_run) const;

  std::ostream& out_;
  bool terminal_;
  int runs_;
  bool parallel_;
  int index_ = 0;  // 1-based, of the run going on
  double finished_wall_s_ = 0;
  int finished_ = 0;
  std::chrono::steady_clock::time_point run_start_;
  bool status_shown_ = false;
};

// Whether stdout is a terminal (and TERM is not "dumb").
bool stdout_is_terminal();

// What a run's last line says: "ok  1.05 s, 8970 samples/s, val acc 0.938, peak 97.1 MiB",
// with its trims and the busy flag, or "oom: <why>".
std::string finish_line(const GuardResult& result, const std::vector<storage::EpochRecord>& epochs,
                        const std::string& busy);

}  // namespace orch
