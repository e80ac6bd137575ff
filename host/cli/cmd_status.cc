// orch status FILE: how far a sweep has come, counting every planned run as done, running,
// failed or pending from what the main database and the shard databases of the
// experiment's submission hold. Reads only: a missing main database is not created, and
// shard databases are read while their tasks write them.
//
// batch_size = "auto": the runs get their keys after the probe answered, which this
// command does not do, so their rows cannot be matched to the plan; they count as pending
// (`orch report` shows what ran).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "host/cli/commands.h"
#include "host/cli/prepared_sweep.h"
#include "host/cluster/shard.h"
#include "host/cluster/shard_manifest.h"
#include "host/json/status_json.h"
#include "storage/merge.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

enum class State { kDone, kRunning, kFailed, kPending };

void count(State state, RunCounts& counts) {
  ++counts.total;
  switch (state) {
    case State::kDone:
      ++counts.done;
      break;
    case State::kRunning:
      ++counts.running;
      break;
    case State::kFailed:
      ++counts.failed;
      break;
    case State::kPending:
      ++counts.pending;
      break;
  }
}

std::string counts_text(const RunCounts& counts) {
  return std::to_string(counts.total) + (counts.total == 1 ? " run" : " runs") + ": done " +
         std::to_string(counts.done) + ", running " + std::to_string(counts.running) + ", failed " +
         std::to_string(counts.failed) + ", pending " + std::to_string(counts.pending);
}

// What all databases together say about one run key.
struct Evidence {
  bool ok = false;
  bool active = false;                   // a row or claim of an orch that is alive
  std::optional<RunStatus> last_status;  // of the latest final row that is not ok
  std::string last_error;
  std::string last_finished_at;
};

// Interrupted runs are not failures: they run again, like runs never started.
bool is_failure(std::optional<RunStatus> status) {
  return status && *status != RunStatus::kInterrupted && is_final(*status) &&
         *status != RunStatus::kOk;
}

// An orch whose heartbeat is unknown (a database from before heartbeats) counts as alive:
// its rows say running, and nothing says otherwise.
bool alive(double heartbeat_age_s, double grace_s) {
  return heartbeat_age_s < 0 || heartbeat_age_s < grace_s;
}

void gather(const storage::DatabaseRuns& database, double grace_s,
            std::map<std::string, Evidence>& evidence) {
  for (const auto& run : database.runs) {
    Evidence& e = evidence[run.run_key];
    if (run.status == RunStatus::kOk) {
      e.ok = true;
    } else if (!is_final(run.status)) {
      e.active = e.active || alive(run.heartbeat_age_s, grace_s);
    } else if (run.finished_at >= e.last_finished_at) {
      e.last_status = run.status;
      e.last_error = run.error;
      e.last_finished_at = run.finished_at;
    }
  }
  for (const auto& claim : database.claims) {
    if (claim.heartbeat_age_s >= 0 && claim.heartbeat_age_s < grace_s) {
      evidence[claim.run_key].active = true;
    }
  }
}

State state_of(const std::map<std::string, Evidence>& evidence, const std::string& key) {
  auto found = evidence.find(key);
  if (found == evidence.end()) return State::kPending;
  const Evidence& e = found->second;
  if (e.ok) return State::kDone;
  if (e.active) return State::kRunning;
  if (is_failure(e.last_status)) return State::kFailed;
  return State::kPending;  // never run, or interrupted: it runs again
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::optional<ShardManifest> submission_in(const std::string& directory) {
  std::error_code error;
  if (!fs::exists(manifest_path(directory), error)) return std::nullopt;
  return read_manifest(manifest_path(directory));
}

// The tasks of a submission run with its --memory-limit and --set, which are part of the
// run keys: plan with them too, unless this command was given its own. Returns them as
// " --memory-limit X --set K=V" when `prepared` was planned again with them, else "".
std::string plan_as_submitted(const Options& options, const std::optional<ShardManifest>& manifest,
                              PreparedSweep& prepared) {
  if (!manifest || !options.memory_limit.empty() || !options.overrides.empty() ||
      (manifest->memory_limit.empty() && manifest->overrides.empty())) {
    return "";
  }
  Options submitted = options;
  submitted.memory_limit = manifest->memory_limit;
  submitted.overrides = manifest->overrides;
  prepared = prepare_sweep_again(submitted);
  std::string as_submitted;
  if (!manifest->memory_limit.empty()) as_submitted += " --memory-limit " + manifest->memory_limit;
  for (const auto& set : manifest->overrides) as_submitted += " --set " + set;
  return as_submitted;
}

// Gathers what each shard database of the submission holds; marks those missing.
void gather_submitted_shards(const ShardManifest& manifest, const std::string& directory,
                             const std::string& name, double grace_s,
                             std::map<std::string, Evidence>& evidence, SweepStatus& status) {
  status.shards.resize(manifest.shards);
  std::error_code error;
  for (int i = 0; i < manifest.shards; ++i) {
    const std::string path = shard_database(directory, i);
    status.shards[i].database_missing = !fs::exists(path, error);
    if (!status.shards[i].database_missing) {
      gather(storage::read_runs(path, name), grace_s, evidence);
    }
  }
}

// Shard databases without a submission (`orch run --shard` by hand): read them all.
void gather_unsubmitted_shards(const std::string& directory, const std::string& name,
                               double grace_s, std::map<std::string, Evidence>& evidence) {
  std::error_code error;
  if (!fs::is_directory(directory, error)) return;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind("shard-", 0) == 0 && entry.path().extension() == ".db") {
      gather(storage::read_runs(entry.path().string(), name), grace_s, evidence);
    }
  }
}

// Counts the state of every planned run, in total and per shard of the submission, and
// lists the failed ones.
void tally_runs(const std::vector<RunSpec>& runs, const std::map<std::string, Evidence>& evidence,
                SweepStatus& status) {
  const size_t shards = status.shards.size();
  for (size_t i = 0; i < runs.size(); ++i) {
    const State state = state_of(evidence, runs[i].key);
    count(state, status.total);
    if (shards > 0) count(state, status.shards[i % shards].counts);  // run i is in shard i mod N
    if (state == State::kFailed) {
      const Evidence& e = evidence.at(runs[i].key);
      status.failures.push_back(
          {runs[i].swept_text(), status_word(*e.last_status), first_line(e.last_error)});
    }
  }
}

void print_status(const SweepStatus& status) {
  std::cout << "experiment '" << status.experiment << "': " << counts_text(status.total) << "\n";
  if (status.submitted) {
    std::cout << "submitted in " << status.shards.size() << " shards"
              << (status.job_id.empty() ? "" : " as Slurm job " + status.job_id)
              << (status.as_submitted.empty() ? "" : ", with" + status.as_submitted)
              << "; databases in " << status.directory << "\n";
    for (size_t i = 0; i < status.shards.size(); ++i) {
      std::cout << "  shard " << i << ": " << counts_text(status.shards[i].counts)
                << (status.shards[i].database_missing ? " (shard database missing: not started yet)"
                                                      : "")
                << "\n";
    }
  }
  if (status.keys_follow_probe) {
    std::cout << "batch_size = \"auto\": run keys follow the probe's answer, so runs cannot "
                 "be matched to the plan and count as pending here; `orch report` shows what "
                 "ran\n";
  }
  if (!status.failures.empty()) {
    std::cout << "failed:\n";
    for (const auto& run : status.failures) {
      std::cout << "  " << run.configuration << ": " << run.status
                << (run.error.empty() ? "" : ": " + run.error) << "\n";
    }
  }
}

}  // namespace

int status_command(const Options& options) {
  PreparedSweep prepared = prepare_sweep(options);
  const std::string directory = shard_directory(options.db_path, prepared.experiment.name);
  const std::optional<ShardManifest> manifest = submission_in(directory);
  const std::string as_submitted = plan_as_submitted(options, manifest, prepared);
  const std::string& name = prepared.experiment.name;

  std::map<std::string, Evidence> evidence;
  std::error_code error;
  if (fs::exists(options.db_path, error)) {
    gather(storage::read_runs(options.db_path, name), options.claim_grace_s, evidence);
  }
  SweepStatus status;
  status.experiment = name;
  status.keys_follow_probe = prepared.experiment.auto_batch_size;
  if (manifest) {
    status.submitted = true;
    status.job_id = manifest->job_id;
    status.directory = directory;
    status.as_submitted = as_submitted;
    gather_submitted_shards(*manifest, directory, name, options.claim_grace_s, evidence, status);
  } else {
    gather_unsubmitted_shards(directory, name, options.claim_grace_s, evidence);
  }
  tally_runs(prepared.runs, evidence, status);
  if (options.json) {
    std::cout << render_status_json(status);
  } else {
    print_status(status);
  }
  return 0;
}

}  // namespace orch
