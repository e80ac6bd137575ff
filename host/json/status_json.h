// `orch status --json`: how far a sweep has come, for scripts. One object, versioned:
//   {"format": "orch.status", "version": 1, "experiment": "...",
//    "runs": {"total", "done", "running", "failed", "pending"},
//    "submission": null | {"shards", "job_id", "directory", "as_submitted": "...",
//                          "per_shard": [{"shard", "total", ..., "database_missing"}]},
//    "failed": [{"configuration", "status", "error"}],
//    "keys_follow_probe": true when batch_size = "auto" (its runs count as pending)}
#pragma once

#include <string>
#include <vector>

namespace orch {

inline constexpr int kStatusJsonVersion = 1;

struct RunCounts {
  int total = 0, done = 0, running = 0, failed = 0, pending = 0;
};

struct FailedRun {
  std::string configuration;  // its swept values
  std::string status;         // "oom", "failed", "timeout", ...
  std::string error;          // the first line of its error
};

struct ShardStatus {
  RunCounts counts;
  bool database_missing = false;  // the task has not started yet
};

struct SweepStatus {
  std::string experiment;
  RunCounts total;
  bool submitted = false;  // by `orch submit`: the fields below describe the submission
  std::string job_id;
  std::string directory;
  std::string as_submitted;  // " --memory-limit X --set K=V" the tasks run with
  std::vector<ShardStatus> shards;
  std::vector<FailedRun> failures;
  bool keys_follow_probe = false;
};

std::string render_status_json(const SweepStatus& status);

}  // namespace orch
