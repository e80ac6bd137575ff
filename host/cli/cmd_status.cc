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
#include "storage/merge.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

enum class State { kDone, kRunning, kFailed, kPending };

struct Counts {
  int total = 0, done = 0, running = 0, failed = 0, pending = 0;
  void add(State state) {
    ++total;
    switch (state) {
      case State::kDone:
        ++done;
        break;
      case State::kRunning:
        ++running;
        break;
      case State::kFailed:
        ++failed;
        break;
      case State::kPending:
        ++pending;
        break;
    }
  }
  std::string text() const {
    return std::to_string(total) + (total == 1 ? " run" : " runs") + ": done " +
           std::to_string(done) + ", running " + std::to_string(running) + ", failed " +
           std::to_string(failed) + ", pending " + std::to_string(pending);
  }
};

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

// Gathers what each shard database of the submission holds; returns which are missing.
std::vector<bool> gather_submitted_shards(const ShardManifest& manifest,
                                          const std::string& directory, const std::string& name,
                                          double grace_s,
                                          std::map<std::string, Evidence>& evidence) {
  std::vector<bool> shard_missing;
  std::error_code error;
  for (int i = 0; i < manifest.shards; ++i) {
    const std::string path = shard_database(directory, i);
    const bool missing = !fs::exists(path, error);
    shard_missing.push_back(missing);
    if (!missing) gather(storage::read_runs(path, name), grace_s, evidence);
  }
  return shard_missing;
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

// The state of every planned run, in total and per shard of the submission, and a line
// for each failed one.
struct Tally {
  Counts total;
  std::vector<Counts> per_shard;
  std::vector<std::string> failures;
};

Tally tally_runs(const std::vector<RunSpec>& runs, const std::map<std::string, Evidence>& evidence,
                 int shards) {
  Tally tally;
  tally.per_shard.resize(shards);
  for (size_t i = 0; i < runs.size(); ++i) {
    const State state = state_of(evidence, runs[i].key);
    tally.total.add(state);
    if (shards > 0) tally.per_shard[i % shards].add(state);  // run i is in shard i mod N
    if (state == State::kFailed) {
      const Evidence& e = evidence.at(runs[i].key);
      tally.failures.push_back(runs[i].swept_text() + ": " + status_word(*e.last_status) +
                               (e.last_error.empty() ? "" : ": " + first_line(e.last_error)));
    }
  }
  return tally;
}

void print_submission(const ShardManifest& manifest, const std::string& as_submitted,
                      const std::string& directory, const Tally& tally,
                      const std::vector<bool>& shard_missing) {
  std::cout << "submitted in " << manifest.shards << " shards"
            << (manifest.job_id.empty() ? "" : " as Slurm job " + manifest.job_id)
            << (as_submitted.empty() ? "" : ", with" + as_submitted) << "; databases in "
            << directory << "\n";
  for (int i = 0; i < manifest.shards; ++i) {
    std::cout << "  shard " << i << ": " << tally.per_shard[i].text()
              << (shard_missing[i] ? " (shard database missing: not started yet)" : "") << "\n";
  }
}

void print_notes(bool auto_batch_size, const std::vector<std::string>& failures) {
  if (auto_batch_size) {
    std::cout << "batch_size = \"auto\": run keys follow the probe's answer, so runs cannot "
                 "be matched to the plan and count as pending here; `orch report` shows what "
                 "ran\n";
  }
  if (!failures.empty()) {
    std::cout << "failed:\n";
    for (const auto& line : failures) std::cout << "  " << line << "\n";
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
  std::vector<bool> shard_missing;
  if (manifest) {
    shard_missing =
        gather_submitted_shards(*manifest, directory, name, options.claim_grace_s, evidence);
  } else {
    gather_unsubmitted_shards(directory, name, options.claim_grace_s, evidence);
  }

  const Tally counted = tally_runs(prepared.runs, evidence, manifest ? manifest->shards : 0);
  std::cout << "experiment '" << name << "': " << counted.total.text() << "\n";
  if (manifest) print_submission(*manifest, as_submitted, directory, counted, shard_missing);
  print_notes(prepared.experiment.auto_batch_size, counted.failures);
  return 0;
}

}  // namespace orch
