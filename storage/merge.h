// Folding shard databases (one per Slurm array task, see `orch submit`) into the main
// database, and reading a database's runs without writing to it (for `orch status`).
//
// A merge is one transaction and idempotent: rows are matched by their uid, which every
// experiment and run row gets when it is written and keeps across databases. Only runs
// that reached a final state are merged; a run still pending or running in the shard is
// reported and merged by a later merge, once it has finished.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/run_status.h"

namespace orch::storage {

// A run of the shard that was not merged because its (experiment, run key) already has
// a run that finished ok on the same machine in the main database, from another shard or
// another orch. Runs of another machine are that machine's results, never conflicts.
struct MergeConflict {
  std::string experiment;
  std::string run_key;
  std::string swept;
  RunStatus status = RunStatus::kOk;  // of the shard's row
  std::int64_t main_run_id = 0;       // the ok row already in the main database
  std::string main_origin;            // where that row came from: "shard 2/4 on host h" or "host h"
  std::string machine;                // the machine both ran on; empty when unknown
};

// A run still pending or running in the shard: left for a later merge.
struct ShardRunInProgress {
  std::string experiment;
  std::string run_key;
  std::string swept;
  RunStatus status = RunStatus::kPending;  // pending or running
};

struct MergeReport {
  std::string shard_path;
  int experiments_added = 0;
  int runs_merged = 0;
  int runs_already_present = 0;  // merged before (same uid)
  std::vector<MergeConflict> conflicts;
  std::vector<ShardRunInProgress> unfinished;
};

// "run <key> (<swept>) of 'exp': the shard's ok row is not merged; run 12 in the main
// database (shard 1/3 on host n1) already finished ok"
std::string describe(const MergeConflict& conflict);
// "run <key> (<swept>) of 'exp': still running in the shard"
std::string describe(const ShardRunInProgress& run);

// Throws StoreError naming the path when `shard_path` cannot be merged by this orch: it
// does not exist, is not an SQLite database written by orch, or has another schema
// version (the message says which and what to do). Reads only.
void check_mergeable(const std::string& shard_path);

// Merges the finished runs of `shard_path` (with their parameters, epochs and metrics),
// the experiment rows they belong to, and its probe answers and trials into the database
// at `main_path` (created and migrated when needed), all in one transaction: on any error
// nothing is merged. Merging the same shard again adds nothing. Claims are never merged:
// they belong to the orch processes of the shard's own database.
MergeReport merge_shard(const std::string& main_path, const std::string& shard_path);

// A run row as `orch status` needs it.
struct RunState {
  std::int64_t id = 0;
  std::string run_key;
  std::string swept;
  RunStatus status = RunStatus::kPending;
  std::string error;
  std::string finished_at;  // ISO 8601 text; empty while unfinished
  // Seconds since the orch that owns the row last sent a heartbeat; negative when unknown
  // (a database written before heartbeats existed).
  double heartbeat_age_s = -1;
};

struct ClaimState {
  std::string run_key;
  double heartbeat_age_s = -1;  // negative when the claiming orch never sent one
};

struct DatabaseRuns {
  std::vector<RunState> runs;  // in id order
  std::vector<ClaimState> claims;
};

// The runs and claims of experiments named `experiment_name` in the database at `path`,
// read without writing (opened read-only, waiting for a writer that holds a lock), so
// it works on a shard database while its task writes to it. Throws StoreError naming the
// path when it is missing or not an orch database.
DatabaseRuns read_runs(const std::string& path, const std::string& experiment_name);

}  // namespace orch::storage
