#include "storage/store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "storage/schema.h"

namespace orch::storage {
namespace {

// Milliseconds: runs of a parallel sweep start and end within the same second.
constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
// Unix seconds, for heartbeats: ages are differences, which text timestamps make awkward.
constexpr const char* kUnixNow = "((julianday('now') - 2440587.5) * 86400.0)";
// Ids that stay unique when rows from several databases are merged into one.
constexpr const char* kNewUid = "lower(hex(randomblob(16)))";

// Runs body and turns SQLite failures into a StoreError that names the file and the action.
template <typename Body>
auto guarded(const std::string& path, const std::string& action, Body&& body) {
  try {
    return body();
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot " + action + " in database '" + path + "': " + e.what());
  }
}

// Optional text columns hold NULL rather than '', so `IS NULL` works in user queries.
void bind_text_or_null(SQLite::Statement& statement, int index, const std::string& text) {
  if (text.empty()) {
    statement.bind(index);
  } else {
    statement.bind(index, text);
  }
}

// Zero means "not known" for pids and batch sizes; NULL keeps it out of MIN() and IS NULL works.
void bind_positive_or_null(SQLite::Statement& statement, int index, std::int64_t value) {
  if (value > 0) {
    statement.bind(index, value);
  } else {
    statement.bind(index);
  }
}

// NaN means "not measured" in the records and NULL in the database.
void bind_measured(SQLite::Statement& statement, int index, double value) {
  if (std::isnan(value)) {
    statement.bind(index);
  } else {
    statement.bind(index, value);
  }
}

double measured_of(const SQLite::Column& column) {
  return column.isNull() ? std::numeric_limits<double>::quiet_NaN() : column.getDouble();
}

std::string text_of(const SQLite::Column& column) {
  return column.isNull() ? std::string() : column.getString();
}

void expect_one_change(SQLite::Statement& statement, std::int64_t run_id, const std::string& path) {
  if (statement.getChanges() == 0) {
    throw StoreError("run " + std::to_string(run_id) + " not found in database '" + path + "'");
  }
}

// Whether a run of this key finished ok in any experiment of this name.
bool has_ok_run(SQLite::Database& db, const std::string& experiment_name,
                const std::string& run_key) {
  SQLite::Statement query(db,
                          "SELECT EXISTS(SELECT 1 FROM runs r JOIN experiments e "
                          "ON e.id = r.experiment_id WHERE e.name = ? AND r.run_key = ? "
                          "AND r.status = 'ok')");
  query.bind(1, experiment_name);
  query.bind(2, run_key);
  query.executeStep();
  return query.getColumn(0).getInt() != 0;
}

constexpr std::int64_t kEpochStepStride = 1000000000ll;
constexpr size_t kRowsPerInsert = 1000;

// The "INSERT INTO metrics ... VALUES (...), (...)" of `rows` step rows of one run.
std::string step_insert_sql(std::int64_t run_id, size_t rows) {
  std::string sql = "INSERT INTO metrics(run_id, name, step, value) VALUES ";
  const std::string row = "(" + std::to_string(run_id) + ", 'step_s', ?, ?)";
  for (size_t i = 0; i < rows; ++i) sql += (i ? "," : "") + row;
  return sql;
}

// Replaces the step rows of one epoch. Every step of a run is one row, so this is the
// host's hottest write: earlier rows of the epoch go in one DELETE (a rewrite stays
// idempotent), then many rows per INSERT, since SQLite's cost is mostly per statement.
void write_step_seconds(SQLite::Database& db, std::int64_t run_id, std::int64_t first,
                        const std::vector<double>& seconds) {
  SQLite::Statement clear(db,
                          "DELETE FROM metrics WHERE run_id = ? AND name = 'step_s' "
                          "AND step >= ? AND step < ?");
  clear.bind(1, run_id);
  clear.bind(2, first);
  clear.bind(3, first + kEpochStepStride);
  clear.exec();
  const size_t total = seconds.size();
  const size_t full_chunks = total / kRowsPerInsert;
  auto insert_rows = [&](SQLite::Statement& insert, size_t from, size_t rows) {
    for (size_t i = 0; i < rows; ++i) {
      insert.bind(static_cast<int>(2 * i + 1), first + static_cast<std::int64_t>(from + i));
      insert.bind(static_cast<int>(2 * i + 2), seconds[from + i]);
    }
    insert.exec();
    insert.reset();
  };
  if (full_chunks > 0) {
    SQLite::Statement chunk(db, step_insert_sql(run_id, kRowsPerInsert));
    for (size_t c = 0; c < full_chunks; ++c) insert_rows(chunk, c * kRowsPerInsert, kRowsPerInsert);
  }
  if (const size_t rest = total - full_chunks * kRowsPerInsert; rest > 0) {
    SQLite::Statement tail(db, step_insert_sql(run_id, rest));
    insert_rows(tail, full_chunks * kRowsPerInsert, rest);
  }
}

// SQLite only says "unable to open database file"; say which part of the path is wrong.
std::string open_hint(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return " (it is a directory; pass a file path with --db)";
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    return " (directory '" + parent.string() + "' does not exist)";
  }
  return "";
}

}  // namespace

Store::Store(std::string path, std::unique_ptr<SQLite::Database> db)
    : path_(std::move(path)), db_(std::move(db)) {}
Store::~Store() = default;
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;

Store Store::Open(const std::string& path) {
  try {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
                                                 kBusyTimeoutMs);
    // SQLite silently falls back to read-only; fail now rather than at the first result.
    if (sqlite3_db_readonly(db->getHandle(), "main") == 1) {
      throw StoreError("cannot open database '" + path +
                       "' for writing: the file is read-only; pass another --db");
    }
    configure_connection(*db);
    migrate(*db, path);
    return Store(path, std::move(db));
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot open database '" + path + "': " + e.what() + open_hint(path));
  }
}

std::optional<Store> Store::OpenForReading(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::nullopt;
  try {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
    db->setBusyTimeout(kBusyTimeoutMs);
    if (read_user_version(*db) != kSchemaVersion) return std::nullopt;
    return Store(path, std::move(db));
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot open database '" + path + "': " + e.what() + open_hint(path));
  }
}

int Store::schema_version() {
  return guarded(path_, "read the schema version", [&] { return read_user_version(*db_); });
}

std::int64_t Store::begin_experiment(const ExperimentRecord& experiment) {
  return guarded(path_, "record experiment '" + experiment.name + "'", [&] {
    SQLite::Statement insert(*db_,
                             std::string("INSERT INTO experiments(name, file_path, file_text, "
                                         "file_hash, created_at, host, host_pid, hostname, "
                                         "shard, uid, heartbeat_at) VALUES(?, ?, ?, ?, ") +
                                 kNow + ", ?, ?, ?, ?, " + kNewUid + ", " + kUnixNow + ")");
    insert.bind(1, experiment.name);
    bind_text_or_null(insert, 2, experiment.file_path);
    bind_text_or_null(insert, 3, experiment.file_text);
    bind_text_or_null(insert, 4, experiment.file_hash);
    bind_text_or_null(insert, 5, experiment.host_json);
    bind_positive_or_null(insert, 6, experiment.host_pid);
    bind_text_or_null(insert, 7, experiment.hostname);
    bind_text_or_null(insert, 8, experiment.shard);
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

namespace {

std::string experiment_name_of(SQLite::Database& db, std::int64_t experiment_id,
                               const std::string& path) {
  SQLite::Statement query(db, "SELECT name FROM experiments WHERE id = ?");
  query.bind(1, experiment_id);
  if (!query.executeStep()) {
    throw StoreError("experiment " + std::to_string(experiment_id) + " not found in database '" +
                     path + "'");
  }
  return query.getColumn(0).getString();
}

std::string describe_orch(const std::string& hostname, int pid) {
  return "host " + (hostname.empty() ? std::string("?") : hostname) + ", pid " +
         std::to_string(pid);
}

}  // namespace

Claim Store::claim_run(std::int64_t experiment_id, const std::string& run_key, double grace_s) {
  return guarded(path_, "claim run '" + run_key + "'", [&] {
    // IMMEDIATE takes the write lock before reading, so the check and the claim are one step.
    SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    const std::string name = experiment_name_of(*db_, experiment_id, path_);
    Claim claim;
    if (has_ok_run(*db_, name, run_key)) {
      claim.outcome = ClaimOutcome::kFinished;
      transaction.commit();
      return claim;
    }
    SQLite::Statement holder(
        *db_, std::string("SELECT c.experiment_id, e.hostname, e.host_pid, ") + kUnixNow +
                  " - e.heartbeat_at FROM claims c JOIN experiments e ON e.id = c.experiment_id "
                  "WHERE c.experiment_name = ? AND c.run_key = ?");
    holder.bind(1, name);
    holder.bind(2, run_key);
    if (holder.executeStep() && holder.getColumn(0).getInt64() != experiment_id) {
      const std::int64_t owner = holder.getColumn(0).getInt64();
      const std::string who =
          describe_orch(text_of(holder.getColumn(1)), holder.getColumn(2).getInt());
      const bool silent =
          holder.getColumn(3).isNull() || holder.getColumn(3).getDouble() >= grace_s;
      if (!silent) {
        claim.outcome = ClaimOutcome::kHeld;
        claim.holder = who;
        transaction.commit();
        return claim;
      }
      claim.taken_from =
          who +
          (holder.getColumn(3).isNull()
               ? std::string(", no heartbeat")
               : ", silent for " +
                     std::to_string(static_cast<long>(holder.getColumn(3).getDouble())) + " s");
      SQLite::Statement abandon(
          *db_, std::string("UPDATE runs SET status = 'interrupted', stop_layer = 'interrupt', "
                            "finished_at = ") +
                    kNow +
                    ", error = ? WHERE experiment_id = ? AND run_key = ? "
                    "AND status IN ('pending', 'running')");
      abandon.bind(1, "its orch (" + claim.taken_from +
                          ") stopped sending heartbeats; another orch took the run over");
      abandon.bind(2, owner);
      abandon.bind(3, run_key);
      abandon.exec();
    }
    SQLite::Statement insert(*db_,
                             std::string("INSERT OR REPLACE INTO claims(experiment_name, "
                                         "run_key, experiment_id, claimed_at) VALUES(?, ?, ?, ") +
                                 kNow + ")");
    insert.bind(1, name);
    insert.bind(2, run_key);
    insert.bind(3, experiment_id);
    insert.exec();
    transaction.commit();
    return claim;
  });
}

void Store::release_claim(std::int64_t experiment_id, const std::string& run_key) {
  guarded(path_, "release the claim on run '" + run_key + "'", [&] {
    SQLite::Statement remove(*db_, "DELETE FROM claims WHERE experiment_id = ? AND run_key = ?");
    remove.bind(1, experiment_id);
    remove.bind(2, run_key);
    remove.exec();
  });
}

void Store::drop_claims(std::int64_t experiment_id) {
  guarded(path_, "drop the claims of experiment " + std::to_string(experiment_id), [&] {
    SQLite::Statement remove(*db_, "DELETE FROM claims WHERE experiment_id = ?");
    remove.bind(1, experiment_id);
    remove.exec();
  });
}

std::vector<ClaimRecord> Store::claims(const std::string& experiment_name) {
  return guarded(path_, "read the claims of experiment '" + experiment_name + "'", [&] {
    SQLite::Statement query(
        *db_, std::string("SELECT c.run_key, c.experiment_id, e.hostname, e.host_pid, ") +
                  kUnixNow +
                  " - e.heartbeat_at FROM claims c JOIN experiments e "
                  "ON e.id = c.experiment_id WHERE c.experiment_name = ? ORDER BY c.rowid");
    query.bind(1, experiment_name);
    std::vector<ClaimRecord> claims;
    while (query.executeStep()) {
      ClaimRecord claim;
      claim.run_key = text_of(query.getColumn(0));
      claim.experiment_id = query.getColumn(1).getInt64();
      claim.hostname = text_of(query.getColumn(2));
      claim.host_pid = query.getColumn(3).getInt();
      claim.heartbeat_age_s = query.getColumn(4).isNull() ? std::numeric_limits<double>::infinity()
                                                          : query.getColumn(4).getDouble();
      claims.push_back(std::move(claim));
    }
    return claims;
  });
}

bool Store::finished_ok(const std::string& experiment_name, const std::string& run_key) {
  return guarded(path_, "look up run '" + run_key + "'",
                 [&] { return has_ok_run(*db_, experiment_name, run_key); });
}

std::vector<std::string> Store::run_keys(const std::string& experiment_name, KeysThat which) {
  return guarded(path_, "read the run keys of experiment '" + experiment_name + "'", [&] {
    SQLite::Statement query(
        *db_, std::string("SELECT DISTINCT r.run_key FROM runs r JOIN "
                          "experiments e ON e.id = r.experiment_id WHERE ") +
                  (which == KeysThat::kFinishedOk ? "r.status = 'ok'"
                                                  : "r.status NOT IN ('pending', 'running')") +
                  " AND e.name = ? ORDER BY r.run_key");
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

std::vector<std::int64_t> Store::add_runs(std::int64_t experiment_id,
                                          const std::vector<RunRecord>& runs) {
  return guarded(path_, "record the runs of experiment " + std::to_string(experiment_id), [&] {
    SQLite::Transaction transaction(*db_);
    SQLite::Statement name_query(*db_, "SELECT name FROM experiments WHERE id = ?");
    name_query.bind(1, experiment_id);
    if (!name_query.executeStep()) {
      throw StoreError("experiment " + std::to_string(experiment_id) + " not found in database '" +
                       path_ + "'");
    }
    const std::string name = name_query.getColumn(0).getString();

    // Attempts count across every experiment of this name, so a resumed run is attempt 2.
    SQLite::Statement previous(*db_,
                               "SELECT MAX(r.attempt), MIN(r.id) FROM runs r JOIN experiments e "
                               "ON e.id = r.experiment_id WHERE e.name = ? AND r.run_key = ?");
    SQLite::Statement insert_run(
        *db_,
        std::string("INSERT INTO runs(experiment_id, run_key, swept, repeat, params, status, "
                    "attempt, parent_run_id, memory_key, budget_bytes, batch_size, config_key, "
                    "uid) VALUES(?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ") +
            kNewUid + ")");
    SQLite::Statement insert_param(
        *db_, "INSERT INTO params(run_id, key, value_text, value_num) VALUES(?, ?, ?, ?)");

    std::vector<std::int64_t> ids;
    ids.reserve(runs.size());
    for (const RunRecord& run : runs) {
      previous.reset();
      previous.bind(1, name);
      previous.bind(2, run.run_key);
      previous.executeStep();
      const bool tried_before = !previous.getColumn(0).isNull();

      insert_run.reset();
      insert_run.bind(1, experiment_id);
      insert_run.bind(2, run.run_key);
      bind_text_or_null(insert_run, 3, run.swept);
      insert_run.bind(4, run.repeat);
      bind_text_or_null(insert_run, 5, run.params_json);
      if (tried_before) {
        insert_run.bind(6, previous.getColumn(0).getInt() + 1);
        insert_run.bind(7, previous.getColumn(1).getInt64());
      } else {
        insert_run.bind(6, 1);
        insert_run.bind(7);
      }
      bind_text_or_null(insert_run, 8, run.memory_key);
      // A budget of 0 is a real answer (no budget), so it is stored and matched as given.
      insert_run.bind(9, run.budget_bytes);
      bind_positive_or_null(insert_run, 10, run.batch_size);
      bind_text_or_null(insert_run, 11, run.config_key);
      insert_run.exec();
      const std::int64_t run_id = db_->getLastInsertRowid();
      ids.push_back(run_id);

      for (const ParamRecord& param : run.params) {
        insert_param.reset();
        insert_param.bind(1, run_id);
        insert_param.bind(2, param.key);
        insert_param.bind(3, param.value_text);
        if (param.value_num) {
          insert_param.bind(4, *param.value_num);
        } else {
          insert_param.bind(4);
        }
        insert_param.exec();
      }
    }
    transaction.commit();
    return ids;
  });
}

void Store::mark_running(std::int64_t run_id, int worker_pid, const std::string& backend,
                         const std::string& cpu_set) {
  guarded(path_, "mark run " + std::to_string(run_id) + " running", [&] {
    SQLite::Statement update(
        *db_, std::string("UPDATE runs SET status = 'running', worker_pid = ?, backend = ?, "
                          "cpu_set = ?, started_at = ") +
                  kNow + " WHERE id = ?");
    update.bind(1, worker_pid);
    bind_text_or_null(update, 2, backend);
    bind_text_or_null(update, 3, cpu_set);
    update.bind(4, run_id);
    update.exec();
    expect_one_change(update, run_id, path_);
  });
}

void Store::set_start_seconds(std::int64_t run_id, double seconds) {
  guarded(path_, "record the start cost of run " + std::to_string(run_id), [&] {
    SQLite::Statement update(*db_, "UPDATE runs SET start_s = ? WHERE id = ?");
    update.bind(1, seconds);
    update.bind(2, run_id);
    update.exec();
    expect_one_change(update, run_id, path_);
  });
}

void Store::set_log_path(std::int64_t run_id, const std::string& log_path) {
  guarded(path_, "record the log of run " + std::to_string(run_id), [&] {
    SQLite::Statement update(*db_, "UPDATE runs SET log_path = ? WHERE id = ?");
    update.bind(1, log_path);
    update.bind(2, run_id);
    update.exec();
    expect_one_change(update, run_id, path_);
  });
}

void Store::record_epoch(std::int64_t run_id, const EpochRecord& epoch) {
  const std::string action =
      "record epoch " + std::to_string(epoch.epoch) + " of run " + std::to_string(run_id);
  guarded(path_, action, [&] {
    SQLite::Transaction transaction(*db_);
    SQLite::Statement insert(
        *db_,
        "INSERT OR REPLACE INTO epochs(run_id, epoch, seconds, warmup_seconds, steps, "
        "timed_samples, samples_per_s, train_loss, train_accuracy, val_loss, val_accuracy, "
        "val_seconds, warmup_steps, data_seconds, compute_seconds, step_median_s, step_p95_s, "
        "median_epoch_s, median_epoch_low_s, median_epoch_high_s, untimed_seconds, "
        "other_cpu_cores, run_queue, step_dispersion, median_samples_per_s) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, run_id);
    insert.bind(2, epoch.epoch);
    insert.bind(3, epoch.seconds);
    insert.bind(4, epoch.warmup_seconds);
    insert.bind(5, epoch.steps);
    insert.bind(6, epoch.timed_samples);
    insert.bind(7, epoch.samples_per_s);
    bind_measured(insert, 8, epoch.train_loss);
    bind_measured(insert, 9, epoch.train_accuracy);
    bind_measured(insert, 10, epoch.val_loss);
    bind_measured(insert, 11, epoch.val_accuracy);
    bind_measured(insert, 12, epoch.val_seconds);
    insert.bind(13, epoch.warmup_steps);
    insert.bind(14, epoch.data_seconds);
    insert.bind(15, epoch.compute_seconds);
    insert.bind(16, epoch.step_median_s);
    insert.bind(17, epoch.step_p95_s);
    bind_measured(insert, 18, epoch.median_epoch_s);
    bind_measured(insert, 19, epoch.median_epoch_low_s);
    bind_measured(insert, 20, epoch.median_epoch_high_s);
    bind_measured(insert, 21, epoch.untimed_seconds);
    bind_measured(insert, 22, epoch.other_cpu_cores);
    bind_measured(insert, 23, epoch.run_queue);
    bind_measured(insert, 24, epoch.step_dispersion);
    bind_measured(insert, 25, epoch.median_samples_per_s);
    insert.exec();
    // Steps are numbered across epochs so that a run's series reads in order; the
    // epoch's first step number is its epoch times a stride larger than any epoch.
    const std::int64_t first = static_cast<std::int64_t>(epoch.epoch) * kEpochStepStride;
    write_step_seconds(*db_, run_id, first, epoch.step_seconds);
    transaction.commit();
  });
}

std::vector<double> Store::metric_values(std::int64_t run_id, const std::string& name) {
  return guarded(path_, "read metric " + name + " of run " + std::to_string(run_id), [&] {
    SQLite::Statement query(
        *db_, "SELECT value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step");
    query.bind(1, run_id);
    query.bind(2, name);
    std::vector<double> values;
    while (query.executeStep()) values.push_back(query.getColumn(0).getDouble());
    return values;
  });
}

void Store::finish_run(std::int64_t run_id, const RunOutcome& outcome) {
  guarded(path_, "record the outcome of run " + std::to_string(run_id), [&] {
    SQLite::Statement update(
        *db_,
        std::string("UPDATE runs SET status = ?, finished_at = ") + kNow +
            ", wall_s = ?, peak_rss_bytes = ?, exit_signal = ?, error = ?, stop_layer = ?, "
            "other_cpu_cores = ?, run_queue = ?, busy = ?, projected_s = ?, memory_trims = ?, "
            "held_peak_bytes = ? WHERE id = ?");
    update.bind(1, outcome.status);
    update.bind(2, outcome.wall_s);
    update.bind(3, outcome.peak_rss_bytes);
    if (outcome.exit_signal) {
      update.bind(4, *outcome.exit_signal);
    } else {
      update.bind(4);
    }
    bind_text_or_null(update, 5, outcome.error);
    bind_text_or_null(update, 6, outcome.stop_layer);
    bind_measured(update, 7, outcome.other_cpu_cores);
    bind_measured(update, 8, outcome.run_queue);
    bind_text_or_null(update, 9, outcome.busy);
    bind_measured(update, 10, outcome.projected_s);
    update.bind(11, outcome.memory_trims);
    bind_positive_or_null(update, 12, outcome.held_peak_bytes);
    update.bind(13, run_id);
    update.exec();
    expect_one_change(update, run_id, path_);
  });
}

std::vector<UnfinishedRun> Store::unfinished_runs(const std::string& experiment_name) {
  return guarded(path_, "read the unfinished runs of experiment '" + experiment_name + "'", [&] {
    SQLite::Statement query(*db_,
                            "SELECT r.id, r.status, e.host_pid, e.hostname, e.id FROM runs r "
                            "JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ? "
                            "AND r.status IN ('pending', 'running') ORDER BY r.id");
    query.bind(1, experiment_name);
    std::vector<UnfinishedRun> runs;
    while (query.executeStep()) {
      UnfinishedRun run;
      run.run_id = query.getColumn(0).getInt64();
      run.status = text_of(query.getColumn(1));
      run.host_pid = query.getColumn(2).getInt();
      run.hostname = text_of(query.getColumn(3));
      run.experiment_id = query.getColumn(4).getInt64();
      runs.push_back(std::move(run));
    }
    return runs;
  });
}

std::optional<std::int64_t> Store::smallest_oom_batch(const std::string& memory_key,
                                                      std::int64_t budget_bytes) {
  const std::string action = "look up out-of-memory runs of memory key '" + memory_key +
                             "' and budget " + std::to_string(budget_bytes);
  return guarded(path_, action, [&]() -> std::optional<std::int64_t> {
    SQLite::Statement query(*db_,
                            "SELECT MIN(batch_size) FROM runs WHERE memory_key = ? "
                            "AND budget_bytes = ? AND status = 'oom'");
    query.bind(1, memory_key);
    query.bind(2, budget_bytes);
    query.executeStep();
    if (query.getColumn(0).isNull()) return std::nullopt;
    return query.getColumn(0).getInt64();
  });
}

void Store::record_probe_trial(const ProbeTrial& trial) {
  const std::string action = "record a probe trial of memory key '" + trial.memory_key +
                             "' at batch size " + std::to_string(trial.batch_size);
  guarded(path_, action, [&] {
    SQLite::Statement insert(
        *db_, std::string("INSERT INTO probe_trials(memory_key, budget_bytes, batch_size, status, "
                          "peak_rss_bytes, stop_layer, error, steps, plateau_step, growth_bytes, "
                          "accumulation_steps, kind, seconds, memory_trims, held_peak_bytes, "
                          "created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ") +
                  kNow + ")");
    insert.bind(1, trial.memory_key);
    insert.bind(2, trial.budget_bytes);
    insert.bind(3, trial.batch_size);
    insert.bind(4, trial.status);
    insert.bind(5, trial.peak_rss_bytes);
    bind_text_or_null(insert, 6, trial.stop_layer);
    bind_text_or_null(insert, 7, trial.error);
    insert.bind(8, trial.steps);
    bind_positive_or_null(insert, 9, trial.plateau_step);
    insert.bind(10, trial.growth_bytes);
    insert.bind(11, trial.accumulation_steps);
    insert.bind(12, trial.kind);
    insert.bind(13, trial.seconds);
    insert.bind(14, trial.memory_trims);
    bind_positive_or_null(insert, 15, trial.held_peak_bytes);
    insert.exec();
  });
}

void Store::record_probe_answer(const std::string& memory_key, std::int64_t budget_bytes,
                                const ProbeAnswer& answer) {
  const std::string action = "record the probe answer for memory key '" + memory_key +
                             "' and budget " + std::to_string(budget_bytes);
  guarded(path_, action, [&] {
    SQLite::Statement insert(
        *db_, std::string("INSERT OR REPLACE INTO probe_answers(memory_key, budget_bytes, "
                          "max_batch_size, predicted_peak_bytes, margin_bytes, fixed_bytes, "
                          "per_sample_bytes, noise_bytes, growth_bytes, corrected_by_run_id, note, "
                          "rehearsed_peak_bytes, epoch_excess_bytes, created_at) "
                          "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ") +
                  kNow + ")");
    insert.bind(1, memory_key);
    insert.bind(2, budget_bytes);
    insert.bind(3, answer.max_batch_size);
    insert.bind(4, answer.predicted_peak_bytes);
    insert.bind(5, answer.margin_bytes);
    insert.bind(6, answer.fixed_bytes);
    insert.bind(7, answer.per_sample_bytes);
    insert.bind(8, answer.noise_bytes);
    insert.bind(9, answer.growth_bytes);
    bind_positive_or_null(insert, 10, answer.corrected_by_run_id);
    bind_text_or_null(insert, 11, answer.note);
    bind_positive_or_null(insert, 12, answer.rehearsed_peak_bytes);
    insert.bind(13, answer.epoch_excess_bytes);
    insert.exec();
  });
}

namespace {

constexpr const char* kAnswerColumns =
    "max_batch_size, COALESCE(predicted_peak_bytes, 0), COALESCE(margin_bytes, 0), "
    "COALESCE(fixed_bytes, 0), COALESCE(per_sample_bytes, 0), COALESCE(noise_bytes, 0), "
    "COALESCE(growth_bytes, 0), COALESCE(corrected_by_run_id, 0), note, created_at, budget_bytes, "
    "COALESCE(rehearsed_peak_bytes, 0), COALESCE(epoch_excess_bytes, 0)";

ProbeAnswer answer_of(SQLite::Statement& query) {
  ProbeAnswer answer;
  answer.max_batch_size = query.getColumn(0).getInt64();
  answer.predicted_peak_bytes = query.getColumn(1).getInt64();
  answer.margin_bytes = query.getColumn(2).getInt64();
  answer.fixed_bytes = query.getColumn(3).getInt64();
  answer.per_sample_bytes = query.getColumn(4).getInt64();
  answer.noise_bytes = query.getColumn(5).getInt64();
  answer.growth_bytes = query.getColumn(6).getInt64();
  answer.corrected_by_run_id = query.getColumn(7).getInt64();
  answer.note = text_of(query.getColumn(8));
  answer.created_at = text_of(query.getColumn(9));
  answer.rehearsed_peak_bytes = query.getColumn(11).getInt64();
  answer.epoch_excess_bytes = query.getColumn(12).getInt64();
  return answer;
}

}  // namespace

std::optional<ProbeAnswer> Store::probe_answer(const std::string& memory_key,
                                               std::int64_t budget_bytes) {
  const std::string action = "read the probe answer for memory key '" + memory_key +
                             "' and budget " + std::to_string(budget_bytes);
  return guarded(path_, action, [&]() -> std::optional<ProbeAnswer> {
    SQLite::Statement query(*db_, std::string("SELECT ") + kAnswerColumns +
                                      " FROM probe_answers WHERE memory_key = ? "
                                      "AND budget_bytes = ?");
    query.bind(1, memory_key);
    query.bind(2, budget_bytes);
    if (!query.executeStep()) return std::nullopt;
    return answer_of(query);
  });
}

std::vector<std::pair<std::int64_t, ProbeAnswer>> Store::probe_answers(
    const std::string& memory_key) {
  const std::string action = "read the probe answers for memory key '" + memory_key + "'";
  return guarded(path_, action, [&] {
    SQLite::Statement query(*db_, std::string("SELECT ") + kAnswerColumns +
                                      " FROM probe_answers WHERE memory_key = ? "
                                      "ORDER BY created_at DESC");
    query.bind(1, memory_key);
    std::vector<std::pair<std::int64_t, ProbeAnswer>> answers;
    while (query.executeStep()) {
      answers.emplace_back(query.getColumn(10).getInt64(), answer_of(query));
    }
    return answers;
  });
}

std::vector<MemoryObservation> Store::memory_observations(const std::string& memory_key) {
  const std::string action = "read the measured peaks of memory key '" + memory_key + "'";
  return guarded(path_, action, [&] {
    SQLite::Statement query(
        *db_,
        "SELECT batch_size, peak_rss_bytes, full_run FROM ("
        "SELECT id, created_at AS at, batch_size, peak_rss_bytes, kind = 'rehearsal' AS full_run "
        "FROM probe_trials WHERE memory_key = ? AND status = 'ok' AND peak_rss_bytes > 0 "
        "UNION ALL SELECT id, finished_at AS at, batch_size, peak_rss_bytes, 1 AS full_run "
        "FROM runs WHERE memory_key = ? AND status = 'ok' AND peak_rss_bytes > 0 "
        "AND batch_size > 0) ORDER BY at, id");
    query.bind(1, memory_key);
    query.bind(2, memory_key);
    std::vector<MemoryObservation> observations;
    while (query.executeStep()) {
      observations.push_back({query.getColumn(0).getInt64(), query.getColumn(1).getInt64(),
                              query.getColumn(2).getInt() != 0});
    }
    return observations;
  });
}

bool Store::knows_memory_key(const std::string& memory_key) {
  const std::string action = "look up memory key '" + memory_key + "'";
  return guarded(path_, action, [&] {
    SQLite::Statement query(*db_,
                            "SELECT EXISTS(SELECT 1 FROM probe_trials WHERE memory_key = ?) "
                            "OR EXISTS(SELECT 1 FROM runs WHERE memory_key = ?)");
    query.bind(1, memory_key);
    query.bind(2, memory_key);
    query.executeStep();
    return query.getColumn(0).getInt() != 0;
  });
}

std::vector<ProbeTrial> Store::probe_trials(const std::string& memory_key,
                                            std::int64_t budget_bytes) {
  const std::string action = "read the probe trials of memory key '" + memory_key +
                             "' and budget " + std::to_string(budget_bytes);
  return guarded(path_, action, [&] {
    SQLite::Statement query(*db_,
                            "SELECT memory_key, budget_bytes, batch_size, status, peak_rss_bytes, "
                            "stop_layer, error, COALESCE(steps, 0), COALESCE(plateau_step, 0), "
                            "COALESCE(growth_bytes, 0), COALESCE(accumulation_steps, 1), "
                            "kind, COALESCE(seconds, 0), COALESCE(memory_trims, 0), "
                            "COALESCE(held_peak_bytes, 0) FROM probe_trials WHERE memory_key = ? "
                            "AND budget_bytes = ? ORDER BY id");
    query.bind(1, memory_key);
    query.bind(2, budget_bytes);
    std::vector<ProbeTrial> trials;
    while (query.executeStep()) {
      ProbeTrial trial;
      trial.memory_key = text_of(query.getColumn(0));
      trial.budget_bytes = query.getColumn(1).getInt64();
      trial.batch_size = query.getColumn(2).getInt64();
      trial.status = text_of(query.getColumn(3));
      trial.peak_rss_bytes = query.getColumn(4).getInt64();
      trial.stop_layer = text_of(query.getColumn(5));
      trial.error = text_of(query.getColumn(6));
      trial.steps = query.getColumn(7).getInt64();
      trial.plateau_step = query.getColumn(8).getInt64();
      trial.growth_bytes = query.getColumn(9).getInt64();
      trial.accumulation_steps = query.getColumn(10).getInt64();
      trial.kind = text_of(query.getColumn(11));
      trial.seconds = query.getColumn(12).getDouble();
      trial.memory_trims = query.getColumn(13).getInt64();
      trial.held_peak_bytes = query.getColumn(14).getInt64();
      trials.push_back(std::move(trial));
    }
    return trials;
  });
}

std::vector<RunSummary> Store::latest_runs(const std::string& experiment_name) {
  return guarded(path_, "read the runs of experiment '" + experiment_name + "'", [&] {
    SQLite::Statement query(
        *db_,
        "SELECT run_id, run_key, swept, repeat, attempt, status, epochs, wall_s, epoch_s, "
        "samples_per_s, train_loss, val_accuracy, peak_rss_bytes, error, batch_size, stop_layer, "
        "step_median_s, step_p95_s, data_fraction, backend, log_path, config_key, "
        "(SELECT params FROM runs WHERE runs.id = run_summary.run_id), val_loss, "
        "median_epoch_s, median_epoch_low_s, median_epoch_high_s, other_cpu_cores, run_queue, "
        "busy, projected_s, start_s, step_dispersion, median_samples_per_s "
        "FROM run_summary "
        "WHERE run_id IN (SELECT COALESCE(MAX(CASE WHEN r.status = 'ok' THEN r.id END), "
        "MAX(r.id)) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ? "
        "GROUP BY r.run_key) ORDER BY run_id");
    query.bind(1, experiment_name);
    std::vector<RunSummary> summaries;
    while (query.executeStep()) {
      RunSummary s;
      s.run_id = query.getColumn(0).getInt64();
      s.run_key = text_of(query.getColumn(1));
      s.swept = text_of(query.getColumn(2));
      s.repeat = query.getColumn(3).getInt();
      s.attempt = query.getColumn(4).getInt();
      s.status = text_of(query.getColumn(5));
      s.epochs = query.getColumn(6).getInt();
      s.wall_s = query.getColumn(7).getDouble();
      s.epoch_s = query.getColumn(8).getDouble();
      s.samples_per_s = query.getColumn(9).getDouble();
      s.train_loss = measured_of(query.getColumn(10));
      s.val_accuracy = measured_of(query.getColumn(11));
      s.peak_rss_bytes = query.getColumn(12).getInt64();
      s.error = text_of(query.getColumn(13));
      s.batch_size = query.getColumn(14).getInt64();
      s.stop_layer = text_of(query.getColumn(15));
      s.step_median_s = query.getColumn(16).getDouble();
      s.step_p95_s = query.getColumn(17).getDouble();
      s.data_fraction = query.getColumn(18).getDouble();
      s.backend = text_of(query.getColumn(19));
      s.log_path = text_of(query.getColumn(20));
      s.config_key = text_of(query.getColumn(21));
      s.params_json = text_of(query.getColumn(22));
      s.val_loss = measured_of(query.getColumn(23));
      s.median_epoch_s = measured_of(query.getColumn(24));
      s.median_epoch_low_s = measured_of(query.getColumn(25));
      s.median_epoch_high_s = measured_of(query.getColumn(26));
      s.other_cpu_cores = measured_of(query.getColumn(27));
      s.run_queue = measured_of(query.getColumn(28));
      s.busy = text_of(query.getColumn(29));
      s.projected_s = measured_of(query.getColumn(30));
      s.start_s = measured_of(query.getColumn(31));
      s.step_dispersion = measured_of(query.getColumn(32));
      s.median_samples_per_s = measured_of(query.getColumn(33));
      summaries.push_back(std::move(s));
    }
    return summaries;
  });
}

std::string Store::latest_experiment_name() {
  return guarded(path_, "read the latest experiment", [&] {
    SQLite::Statement query(*db_, "SELECT name FROM experiments ORDER BY id DESC LIMIT 1");
    return query.executeStep() ? query.getColumn(0).getString() : std::string();
  });
}

std::vector<EpochRecord> Store::epochs_of(std::int64_t run_id) {
  return guarded(path_, "read the epochs of run " + std::to_string(run_id), [&] {
    SQLite::Statement query(
        *db_,
        "SELECT epoch, seconds, warmup_seconds, steps, timed_samples, samples_per_s, train_loss, "
        "train_accuracy, val_loss, val_accuracy, val_seconds, warmup_steps, data_seconds, "
        "compute_seconds, step_median_s, step_p95_s, median_epoch_s, median_epoch_low_s, "
        "median_epoch_high_s, untimed_seconds, other_cpu_cores, run_queue, step_dispersion "
        "FROM epochs WHERE run_id = ? ORDER BY epoch");
    query.bind(1, run_id);
    std::vector<EpochRecord> epochs;
    while (query.executeStep()) {
      EpochRecord e;
      e.epoch = query.getColumn(0).getInt();
      e.seconds = query.getColumn(1).getDouble();
      e.warmup_seconds = query.getColumn(2).getDouble();
      e.steps = query.getColumn(3).getInt64();
      e.timed_samples = query.getColumn(4).getInt64();
      e.samples_per_s = query.getColumn(5).getDouble();
      e.train_loss = measured_of(query.getColumn(6));
      e.train_accuracy = measured_of(query.getColumn(7));
      e.val_loss = measured_of(query.getColumn(8));
      e.val_accuracy = measured_of(query.getColumn(9));
      e.val_seconds = measured_of(query.getColumn(10));
      e.warmup_steps = query.getColumn(11).getInt64();
      e.data_seconds = query.getColumn(12).getDouble();
      e.compute_seconds = query.getColumn(13).getDouble();
      e.step_median_s = query.getColumn(14).getDouble();
      e.step_p95_s = query.getColumn(15).getDouble();
      e.median_epoch_s = measured_of(query.getColumn(16));
      e.median_epoch_low_s = measured_of(query.getColumn(17));
      e.median_epoch_high_s = measured_of(query.getColumn(18));
      e.untimed_seconds = measured_of(query.getColumn(19));
      e.other_cpu_cores = measured_of(query.getColumn(20));
      e.run_queue = measured_of(query.getColumn(21));
      e.step_dispersion = measured_of(query.getColumn(22));
      epochs.push_back(std::move(e));
    }
    return epochs;
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
