// What `orch submit` sent to the cluster, kept beside the shard databases as
// "<shard dir>/manifest.json": which runs each array task was given, so that `orch merge`
// can tell a shard that is missing or unfinished and `orch status` can count per shard.
#pragma once

#include <string>
#include <vector>

namespace orch {

struct ManifestRun {
  std::string key;    // run key as the tasks compute it
  std::string swept;  // "train.batch_size=4 train.epochs=2"
  int shard = 0;      // the array task that runs it
};

struct ShardManifest {
  std::string experiment;         // the experiment's name
  std::string file;               // the experiment file, absolute
  int shards = 0;                 // array tasks, numbered 0 .. shards-1
  std::vector<ManifestRun> runs;  // in plan order
  std::string job_id;             // Slurm's job id; empty until sbatch accepted the job
  std::string created_at;         // UTC, ISO 8601
  // The command each task runs, with ${SLURM_ARRAY_TASK_ID} where the task's index goes.
  std::string command;
  // What the tasks were given beyond the file; `orch status` applies them too, so that it
  // computes the run keys the tasks compute.
  std::string memory_limit;
  std::vector<std::string> overrides;  // --set KEY=VALUE
  // batch_size = "auto": the tasks probe, and run keys follow the answer; the keys above
  // are the keys before probing and will not match the rows the tasks write.
  bool auto_batch_size = false;

  // Runs of one shard, in plan order.
  std::vector<ManifestRun> runs_of(int shard) const;
};

// "<shard dir>/manifest.json"
std::string manifest_path(const std::string& shard_directory);

// Writes atomically (a temporary file renamed over the old one). Throws UserError naming
// the path when it cannot.
void write_manifest(const std::string& path, const ShardManifest& manifest);

// Throws UserError naming the path when the file is missing, not JSON, or lacks a field.
ShardManifest read_manifest(const std::string& path);

// The manifests of every submitted experiment of the database at db_path: every
// "<db stem>-shards/*/manifest.json" beside it, sorted by path.
std::vector<std::string> manifests_beside(const std::string& db_path);

}  // namespace orch
