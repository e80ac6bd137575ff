// Store's experiment rows: starting one, its heartbeat, and what later commands look up by
// an experiment's name (finished runs, the machine, the file it ran with).
#include <SQLiteCpp/SQLiteCpp.h>

#include "storage/store.h"
#include "storage/store_sql.h"

namespace orch::storage {

std::int64_t Store::begin_experiment(const ExperimentRecord& experiment) {
  return guarded(path_, "record experiment '" + experiment.name + "'", [&] {
    SQLite::Statement insert(*db_,
                             std::string("INSERT INTO experiments(name, file_path, file_text, "
                                         "file_hash, created_at, host, host_pid, hostname, "
                                         "shard, machine_id, uid, heartbeat_at) "
                                         "VALUES(?, ?, ?, ?, ") +
                                 kNow + ", ?, ?, ?, ?, ?, " + kNewUid + ", " + kUnixNow + ")");
    insert.bind(1, experiment.name);
    bind_text_or_null(insert, 2, experiment.file_path);
    bind_text_or_null(insert, 3, experiment.file_text);
    bind_text_or_null(insert, 4, experiment.file_hash);
    bind_text_or_null(insert, 5, experiment.host_json);
    bind_positive_or_null(insert, 6, experiment.host_pid);
    bind_text_or_null(insert, 7, experiment.hostname);
    bind_text_or_null(insert, 8, experiment.shard);
    if (experiment.machine_id > 0) {
      insert.bind(9, experiment.machine_id);
    } else {
      insert.bind(9);
    }
    insert.exec();
    return db_->getLastInsertRowid();
  });
}

void Store::heartbeat(std::int64_t experiment_id) {
  guarded(path_, "record the heartbeat of experiment " + std::to_string(experiment_id), [&] {
    SQLite::Statement update(
        *db_, std::string("UPDATE experiments SET heartbeat_at = ") + kUnixNow + " WHERE id = ?");
    update.bind(1, experiment_id);
    update.exec();
  });
}

bool Store::finished_ok(const std::string& experiment_name, const std::string& run_key,
                        std::int64_t machine_id) {
  return guarded(path_, "look up run '" + run_key + "'",
                 [&] { return has_ok_run(*db_, experiment_name, run_key, machine_id); });
}

std::vector<std::string> Store::run_keys(const std::string& experiment_name, KeysThat which,
                                         std::int64_t machine_id) {
  return guarded(path_, "read the run keys of experiment '" + experiment_name + "'", [&] {
    SQLite::Statement query(
        *db_, std::string("SELECT DISTINCT r.run_key FROM runs r JOIN "
                          "experiments e ON e.id = r.experiment_id WHERE ") +
                  (which == KeysThat::kFinishedOk ? "r.status = 'ok'"
                   : which == KeysThat::kSettled  ? "r.status IN ('ok', 'pruned')"
                                                  : "r.status NOT IN ('pending', 'running')") +
                  " AND e.name = ?" + machine_clause(machine_id) + " ORDER BY r.run_key");
    query.bind(1, experiment_name);
    std::vector<std::string> keys;
    while (query.executeStep()) keys.push_back(text_of(query.getColumn(0)));
    return keys;
  });
}

std::string Store::latest_host_json(const std::string& experiment_name) {
  return guarded(path_, "read the machine of experiment '" + experiment_name + "'", [&] {
    SQLite::Statement query(*db_,
                            "SELECT host FROM experiments WHERE name = ? ORDER BY id DESC LIMIT 1");
    query.bind(1, experiment_name);
    return query.executeStep() ? text_of(query.getColumn(0)) : std::string();
  });
}

std::string Store::latest_experiment_name() {
  return guarded(path_, "read the latest experiment", [&] {
    SQLite::Statement query(*db_, "SELECT name FROM experiments ORDER BY id DESC LIMIT 1");
    return query.executeStep() ? query.getColumn(0).getString() : std::string();
  });
}

std::string Store::latest_experiment_text(const std::string& experiment_name) {
  return guarded(path_, "read the file of experiment '" + experiment_name + "'", [&] {
    SQLite::Statement query(
        *db_, "SELECT file_text FROM experiments WHERE name = ? ORDER BY id DESC LIMIT 1");
    query.bind(1, experiment_name);
    return query.executeStep() ? text_of(query.getColumn(0)) : std::string();
  });
}

}  // namespace orch::storage
