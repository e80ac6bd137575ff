#include "storage/merge.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <system_error>

#include "storage/schema.h"
#include "storage/store.h"
#include "storage/store_sql.h"

namespace orch::storage {
namespace {

namespace fs = std::filesystem;

// Statuses of runs whose outcome will not change any more; only these are merged.
constexpr const char* kUnfinished = "('pending', 'running')";

// The main database's machine row of a shard experiment's machine (same name and
// fingerprint); NULL when the shard experiment names none. Binds the shard experiment id.
constexpr const char* kMainMachineOfShardExperiment =
    "SELECT m.id FROM main.machines m JOIN shard.machines sm ON sm.name = m.name "
    "AND sm.fingerprint = m.fingerprint JOIN shard.experiments se ON se.machine_id = sm.id "
    "WHERE se.id = ?";

std::string run_label(const std::string& run_key, const std::string& swept,
                      const std::string& experiment) {
  return "run " + run_key + (swept.empty() ? "" : " (" + swept + ")") + " of '" + experiment + "'";
}

// SQLite URIs treat '?', '#' and '%' specially; escape everything but plain path characters.
std::string file_uri(const std::string& path, const char* query) {
  std::error_code ignored;
  const std::string absolute = fs::absolute(path, ignored).string();
  std::string uri = "file:";
  for (unsigned char c : absolute) {
    if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_') {
      uri += static_cast<char>(c);
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      uri += escaped;
    }
  }
  return uri + "?" + query;
}

// Opens an existing database for reading only; never creates it.
std::unique_ptr<SQLite::Database> open_read_only(const std::string& path) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    throw StoreError("'" + path + "' is a directory, not a database file");
  }
  if (!fs::exists(path, error)) {
    throw StoreError("database '" + path + "' does not exist");
  }
  try {
    return std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot open database '" + path + "': " + e.what());
  }
}

// The schema version of an orch database; throws when the file is not one.
int orch_schema_version(SQLite::Database& db, const std::string& path) {
  try {
    const int version = read_user_version(db);
    const int tables = db.execAndGet(
                             "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                             "AND name IN ('experiments', 'runs')")
                           .getInt();
    if (version == 0 || tables != 2) {
      throw StoreError("'" + path + "' is not an orch database (it has no runs table); " +
                       "pass a database written by `orch run`");
    }
    return version;
  } catch (const SQLite::Exception& e) {
    throw StoreError("'" + path + "' is not an orch database: " + e.what());
  }
}

// The experiment row of the main database with the shard row's uid, copied there first
// when it is not there yet. Returns its id in the main database.
std::int64_t main_experiment_id(SQLite::Database& db, std::int64_t shard_experiment_id,
                                std::map<std::int64_t, std::int64_t>& mapped, MergeReport& report) {
  if (auto found = mapped.find(shard_experiment_id); found != mapped.end()) return found->second;
  SQLite::Statement existing(db,
                             "SELECT m.id FROM main.experiments m JOIN shard.experiments s "
                             "ON s.uid = m.uid WHERE s.id = ?");
  existing.bind(1, shard_experiment_id);
  std::int64_t id = 0;
  if (existing.executeStep()) {
    id = existing.getColumn(0).getInt64();
  } else {
    // The heartbeat stays behind: it tells the shard's orch processes apart, and claims,
    // which it serves, are not merged.
    SQLite::Statement copy(
        db,
        "INSERT INTO main.experiments(name, file_path, file_text, file_hash, created_at, host, "
        "host_pid, hostname, uid, shard, machine_id) SELECT name, file_path, file_text, "
        "file_hash, created_at, host, host_pid, hostname, uid, shard, (" +
            std::string(kMainMachineOfShardExperiment) + ") FROM shard.experiments WHERE id = ?");
    copy.bind(1, shard_experiment_id);
    copy.bind(2, shard_experiment_id);
    copy.exec();
    id = db.getLastInsertRowid();
    ++report.experiments_added;
  }
  mapped[shard_experiment_id] = id;
  return id;
}

// Copies shard run `shard_run_id` as a new run of main experiment `experiment_id`, its
// attempt numbered after the attempts of its key already in the main database.
void copy_run(SQLite::Database& db, std::int64_t shard_run_id, std::int64_t experiment_id,
              const std::string& experiment, const std::string& run_key) {
  SQLite::Statement previous(db,
                             "SELECT MAX(r.attempt), MIN(r.id) FROM main.runs r "
                             "JOIN main.experiments e ON e.id = r.experiment_id "
                             "WHERE e.name = ? AND r.run_key = ?");
  previous.bind(1, experiment);
  previous.bind(2, run_key);
  previous.executeStep();
  const bool tried_before = !previous.getColumn(0).isNull();
  const int attempt = tried_before ? previous.getColumn(0).getInt() + 1 : 1;
  const std::int64_t parent = tried_before ? previous.getColumn(1).getInt64() : 0;

  SQLite::Statement insert(
      db,
      "INSERT INTO main.runs(experiment_id, run_key, swept, repeat, params, status, attempt, "
      "parent_run_id, worker_pid, started_at, finished_at, wall_s, peak_rss_bytes, "
      "peak_device_bytes, exit_signal, error, memory_key, budget_bytes, batch_size, stop_layer, "
      "backend, log_path, config_key, uid, cpu_set, start_s, other_cpu_cores, run_queue, busy, "
      "projected_s, memory_trims, held_peak_bytes) "
      "SELECT ?, run_key, swept, repeat, params, status, ?, ?, worker_pid, started_at, "
      "finished_at, wall_s, peak_rss_bytes, peak_device_bytes, exit_signal, error, memory_key, "
      "budget_bytes, batch_size, stop_layer, backend, log_path, config_key, uid, cpu_set, "
      "start_s, other_cpu_cores, run_queue, busy, projected_s, memory_trims, held_peak_bytes "
      "FROM shard.runs WHERE id = ?");
  insert.bind(1, experiment_id);
  insert.bind(2, attempt);
  if (tried_before) {
    insert.bind(3, parent);
  } else {
    insert.bind(3);
  }
  insert.bind(4, shard_run_id);
  insert.exec();
  const std::int64_t run_id = db.getLastInsertRowid();

  const char* children[] = {
      "INSERT INTO main.params(run_id, key, value_text, value_num) "
      "SELECT ?, key, value_text, value_num FROM shard.params WHERE run_id = ?",
      "INSERT INTO main.epochs(run_id, epoch, seconds, warmup_seconds, steps, timed_samples, "
      "samples_per_s, train_loss, train_accuracy, val_loss, val_accuracy, val_seconds, "
      "warmup_steps, data_seconds, compute_seconds, step_median_s, step_p95_s, median_epoch_s, "
      "median_epoch_low_s, median_epoch_high_s, untimed_seconds, other_cpu_cores, run_queue, "
      "step_dispersion, median_samples_per_s, resumed) "
      "SELECT ?, epoch, seconds, warmup_seconds, steps, timed_samples, samples_per_s, "
      "train_loss, train_accuracy, val_loss, val_accuracy, val_seconds, warmup_steps, "
      "data_seconds, compute_seconds, step_median_s, step_p95_s, median_epoch_s, "
      "median_epoch_low_s, median_epoch_high_s, untimed_seconds, other_cpu_cores, run_queue, "
      "step_dispersion, median_samples_per_s, resumed FROM shard.epochs WHERE run_id = ?",
      "INSERT INTO main.metrics(run_id, name, step, value) "
      "SELECT ?, name, step, value FROM shard.metrics WHERE run_id = ?",
  };
  for (const char* sql : children) {
    SQLite::Statement copy(db, sql);
    copy.bind(1, run_id);
    copy.bind(2, shard_run_id);
    copy.exec();
  }
}

void merge_probes(SQLite::Database& db) {
  db.exec(
      "INSERT OR IGNORE INTO main.probe_answers(memory_key, budget_bytes, max_batch_size, "
      "created_at, predicted_peak_bytes, margin_bytes, fixed_bytes, per_sample_bytes, "
      "noise_bytes, growth_bytes, note, rehearsed_peak_bytes, epoch_excess_bytes) "
      "SELECT memory_key, budget_bytes, max_batch_size, "
      "created_at, predicted_peak_bytes, margin_bytes, fixed_bytes, per_sample_bytes, "
      "noise_bytes, growth_bytes, note, rehearsed_peak_bytes, epoch_excess_bytes "
      "FROM shard.probe_answers");
  // Trials have no uid; a trial is the same trial when every column, its time included,
  // is the same.
  db.exec(
      "INSERT INTO main.probe_trials(memory_key, budget_bytes, batch_size, status, "
      "peak_rss_bytes, stop_layer, error, created_at, steps, plateau_step, growth_bytes, "
      "accumulation_steps, kind, seconds, memory_trims, held_peak_bytes) "
      "SELECT s.memory_key, s.budget_bytes, s.batch_size, s.status, s.peak_rss_bytes, "
      "s.stop_layer, s.error, s.created_at, s.steps, s.plateau_step, s.growth_bytes, "
      "s.accumulation_steps, s.kind, s.seconds, s.memory_trims, s.held_peak_bytes "
      "FROM shard.probe_trials s "
      "WHERE NOT EXISTS (SELECT 1 FROM main.probe_trials m WHERE m.memory_key IS s.memory_key "
      "AND m.budget_bytes IS s.budget_bytes AND m.batch_size IS s.batch_size "
      "AND m.status IS s.status AND m.peak_rss_bytes IS s.peak_rss_bytes "
      "AND m.stop_layer IS s.stop_layer AND m.error IS s.error "
      "AND m.created_at IS s.created_at) ORDER BY s.id");
}

std::string origin_of(const std::string& shard, const std::string& hostname) {
  std::string host = hostname.empty() ? "" : "host " + hostname;
  if (shard.empty()) return host;
  return "shard " + shard + (host.empty() ? "" : " on " + host);
}

// Copies the shard's finished runs that the main database lacks, with their experiments,
// and counts the rest in `report`: runs already there, unfinished ones, and conflicts with
// a run of the same key that already finished ok in the main database.
void merge_runs(SQLite::Database& db, MergeReport& report) {
  // A machine is the same machine in both databases when its name and fingerprint are.
  db.exec(
      "INSERT OR IGNORE INTO main.machines(fingerprint, name, facts, created_at) "
      "SELECT fingerprint, name, facts, created_at FROM shard.machines ORDER BY id");
  std::map<std::int64_t, std::int64_t> experiments;  // shard id -> main id
  SQLite::Statement runs(
      db,
      "SELECT r.id, r.experiment_id, e.name, r.run_key, r.swept, r.status, "
      "r.status IN " +
          std::string(kUnfinished) +
          ", "
          "EXISTS(SELECT 1 FROM main.runs m WHERE m.uid = r.uid) "
          "FROM shard.runs r JOIN shard.experiments e ON e.id = r.experiment_id ORDER BY r.id");
  SQLite::Statement finished_ok(
      db,
      "SELECT r.id, e.shard, e.hostname, m.name FROM main.runs r JOIN main.experiments e "
      "ON e.id = r.experiment_id LEFT JOIN main.machines m ON m.id = e.machine_id "
      "WHERE e.name = ? AND r.run_key = ? AND r.status = 'ok' AND e.machine_id IS (" +
          std::string(kMainMachineOfShardExperiment) + ") ORDER BY r.id LIMIT 1");
  while (runs.executeStep()) {
    const std::int64_t shard_run_id = runs.getColumn(0).getInt64();
    const std::string experiment = text_of(runs.getColumn(2));
    const std::string run_key = text_of(runs.getColumn(3));
    const std::string swept = text_of(runs.getColumn(4));
    const RunStatus status = status_of(runs.getColumn(5), report.shard_path);
    if (runs.getColumn(6).getInt() != 0) {
      report.unfinished.push_back({experiment, run_key, swept, status});
      continue;
    }
    if (runs.getColumn(7).getInt() != 0) {
      ++report.runs_already_present;
      continue;
    }
    finished_ok.reset();
    finished_ok.bind(1, experiment);
    finished_ok.bind(2, run_key);
    finished_ok.bind(3, runs.getColumn(1).getInt64());
    if (finished_ok.executeStep()) {
      report.conflicts.push_back(
          {experiment, run_key, swept, status, finished_ok.getColumn(0).getInt64(),
           origin_of(text_of(finished_ok.getColumn(1)), text_of(finished_ok.getColumn(2))),
           text_of(finished_ok.getColumn(3))});
      continue;
    }
    const std::int64_t experiment_id =
        main_experiment_id(db, runs.getColumn(1).getInt64(), experiments, report);
    copy_run(db, shard_run_id, experiment_id, experiment, run_key);
    ++report.runs_merged;
  }
}

}  // namespace

std::string describe(const MergeConflict& conflict) {
  return run_label(conflict.run_key, conflict.swept, conflict.experiment) + ": the shard's " +
         status_word(conflict.status) + " row is not merged; run " +
         std::to_string(conflict.main_run_id) + " in the main database" +
         (conflict.main_origin.empty() ? "" : " (" + conflict.main_origin + ")") +
         " already finished ok" +
         (conflict.machine.empty() ? "" : " on the same machine '" + conflict.machine + "'");
}

std::string describe(const ShardRunInProgress& run) {
  return run_label(run.run_key, run.swept, run.experiment) + ": still " + status_word(run.status) +
         " in the shard";
}

void check_mergeable(const std::string& shard_path) {
  auto db = open_read_only(shard_path);
  const int version = orch_schema_version(*db, shard_path);
  if (version > kSchemaVersion) {
    throw StoreError("shard database '" + shard_path + "' has schema version " +
                     std::to_string(version) + ", newer than this orch understands (" +
                     std::to_string(kSchemaVersion) +
                     "); merge it with the newer orch that wrote it");
  }
  if (version < kSchemaVersion) {
    throw StoreError("shard database '" + shard_path + "' has schema version " +
                     std::to_string(version) + ", older than this orch's (" +
                     std::to_string(kSchemaVersion) +
                     "); upgrade it by opening it once with this orch (`orch --db " + shard_path +
                     " report`), then merge again");
  }
}

MergeReport merge_shard(const std::string& main_path, const std::string& shard_path) {
  check_mergeable(shard_path);
  std::error_code error;
  if (fs::exists(main_path, error) && fs::equivalent(main_path, shard_path, error)) {
    throw StoreError("cannot merge database '" + shard_path + "' into itself; pass --db MAIN");
  }
  Store::Open(main_path);  // creates and migrates the main database; closed again here

  MergeReport report;
  report.shard_path = shard_path;
  const std::string action = "merge '" + shard_path + "' into '" + main_path + "'";
  try {
    SQLite::Database db(main_path, SQLite::OPEN_READWRITE | SQLite::OPEN_URI, kBusyTimeoutMs);
    configure_connection(db);
    SQLite::Statement attach(db, "ATTACH DATABASE ? AS shard");
    attach.bind(1, file_uri(shard_path, "mode=ro"));
    attach.exec();

    // IMMEDIATE: nobody writes the main database between our reads and our writes.
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    merge_runs(db, report);
    merge_probes(db);
    transaction.commit();
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot " + action + ": " + e.what() + "; nothing was merged");
  }
  return report;
}

DatabaseRuns read_runs(const std::string& path, const std::string& experiment_name) {
  auto db = open_read_only(path);
  const int version = orch_schema_version(*db, path);
  try {
    db->exec("PRAGMA query_only = ON");
    DatabaseRuns result;
    // Heartbeats came with schema 4; before, an orch's liveness is unknown.
    const bool heartbeats = version >= 4;
    SQLite::Statement runs(
        *db, std::string("SELECT r.id, r.run_key, r.swept, r.status, r.error, r.finished_at, ") +
                 (heartbeats ? std::string(kUnixNow) + " - e.heartbeat_at" : "NULL") +
                 " FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ? "
                 "ORDER BY r.id");
    runs.bind(1, experiment_name);
    while (runs.executeStep()) {
      RunState run;
      run.id = runs.getColumn(0).getInt64();
      run.run_key = text_of(runs.getColumn(1));
      run.swept = text_of(runs.getColumn(2));
      run.status = status_of(runs.getColumn(3), path);
      run.error = text_of(runs.getColumn(4));
      run.finished_at = text_of(runs.getColumn(5));
      run.heartbeat_age_s = runs.getColumn(6).isNull() ? -1 : runs.getColumn(6).getDouble();
      result.runs.push_back(std::move(run));
    }
    if (heartbeats) {
      SQLite::Statement claims(*db, std::string("SELECT c.run_key, ") + kUnixNow +
                                        " - e.heartbeat_at FROM claims c JOIN experiments e "
                                        "ON e.id = c.experiment_id WHERE c.experiment_name = ?");
      claims.bind(1, experiment_name);
      while (claims.executeStep()) {
        result.claims.push_back(
            {text_of(claims.getColumn(0)),
             claims.getColumn(1).isNull() ? -1 : claims.getColumn(1).getDouble()});
      }
    }
    return result;
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot read the runs of experiment '" + experiment_name + "' in database '" +
                     path + "': " + e.what());
  }
}

}  // namespace orch::storage
