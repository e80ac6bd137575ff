// Store's writes of runs as they happen: the plan's pending rows with their parameters, the
// start, each epoch with its step times, and the outcome.
#include <SQLiteCpp/SQLiteCpp.h>

#include "storage/store.h"
#include "storage/store_sql.h"

namespace orch::storage {
namespace {

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

// Binds a planned run to add_runs' INSERT INTO runs. `previous` holds MAX(attempt) and
// MIN(id) of the runs of its key so far, NULL when it was never tried.
void bind_planned_run(SQLite::Statement& insert_run, std::int64_t experiment_id,
                      const RunRecord& run, SQLite::Statement& previous) {
  const bool tried_before = !previous.getColumn(0).isNull();
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
}

// One params row per resolved parameter of the run.
void insert_params(SQLite::Statement& insert_param, std::int64_t run_id,
                   const std::vector<ParamRecord>& params) {
  for (const ParamRecord& param : params) {
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

}  // namespace

std::vector<std::int64_t> Store::add_runs(std::int64_t experiment_id,
                                          const std::vector<RunRecord>& runs) {
  return guarded(path_, "record the runs of experiment " + std::to_string(experiment_id), [&] {
    // IMMEDIATE: a transaction that reads before it writes cannot wait for another orch's
    // write in WAL mode (SQLite answers "database is locked" at once), so it takes the
    // write lock first and waits its turn like every other writer.
    SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    const std::string name = experiment_name_of(*db_, experiment_id, path_);

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
      insert_run.reset();
      bind_planned_run(insert_run, experiment_id, run, previous);
      insert_run.exec();
      const std::int64_t run_id = db_->getLastInsertRowid();
      ids.push_back(run_id);
      insert_params(insert_param, run_id, run.params);
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

void Store::set_weights_path(std::int64_t run_id, const std::string& weights_path) {
  guarded(path_, "record the weights of run " + std::to_string(run_id), [&] {
    SQLite::Statement update(*db_, "UPDATE runs SET weights_path = ? WHERE id = ?");
    if (weights_path.empty()) {
      update.bind(1);  // NULL
    } else {
      update.bind(1, weights_path);
    }
    update.bind(2, run_id);
    update.exec();
    expect_one_change(update, run_id, path_);
  });
}

std::string Store::weights_path(std::int64_t run_id) {
  return guarded(path_, "read the weights of run " + std::to_string(run_id), [&] {
    SQLite::Statement query(*db_, "SELECT weights_path FROM runs WHERE id = ?");
    query.bind(1, run_id);
    if (!query.executeStep()) {
      throw StoreError("database '" + path_ + "' has no run " + std::to_string(run_id) +
                       "; list them with: orch sql \"SELECT id, swept, status FROM runs\"");
    }
    return query.getColumn(0).isNull() ? std::string() : query.getColumn(0).getString();
  });
}

std::map<std::int64_t, std::string> Store::saved_weights(const std::string& experiment_name) {
  return guarded(path_, "read the saved weights of '" + experiment_name + "'", [&] {
    SQLite::Statement query(*db_,
                            "SELECT r.id, r.weights_path FROM runs r JOIN experiments e ON e.id "
                            "= r.experiment_id WHERE e.name = ? AND r.weights_path IS NOT NULL");
    query.bind(1, experiment_name);
    std::map<std::int64_t, std::string> saved;
    while (query.executeStep())
      saved[query.getColumn(0).getInt64()] = query.getColumn(1).getString();
    return saved;
  });
}

void Store::record_epoch(std::int64_t run_id, const EpochRecord& epoch) {
  const std::string action =
      "record epoch " + std::to_string(epoch.epoch) + " of run " + std::to_string(run_id);
  guarded(path_, action, [&] {
    SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(
        *db_,
        "INSERT OR REPLACE INTO epochs(run_id, epoch, seconds, warmup_seconds, steps, "
        "timed_samples, samples_per_s, train_loss, train_accuracy, val_loss, val_accuracy, "
        "val_seconds, warmup_steps, data_seconds, compute_seconds, step_median_s, step_p95_s, "
        "median_epoch_s, median_epoch_low_s, median_epoch_high_s, untimed_seconds, "
        "other_cpu_cores, run_queue, step_dispersion, median_samples_per_s, resumed) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
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
    insert.bind(26, epoch.resumed ? 1 : 0);
    insert.exec();
    // Steps are numbered across epochs so that a run's series reads in order; the
    // epoch's first step number is its epoch times a stride larger than any epoch.
    const std::int64_t first = static_cast<std::int64_t>(epoch.epoch) * kEpochStepStride;
    write_step_seconds(*db_, run_id, first, epoch.step_seconds);
    transaction.commit();
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
    update.bind(1, status_word(outcome.status));
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

}  // namespace orch::storage
