#include "storage/store_sql.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace orch::storage {

void bind_text_or_null(SQLite::Statement& statement, int index, const std::string& text) {
  if (text.empty()) {
    statement.bind(index);
  } else {
    statement.bind(index, text);
  }
}

void bind_positive_or_null(SQLite::Statement& statement, int index, std::int64_t value) {
  if (value > 0) {
    statement.bind(index, value);
  } else {
    statement.bind(index);
  }
}

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

RunStatus status_of(const SQLite::Column& column, const std::string& path) {
  try {
    return run_status_named(text_of(column));
  } catch (const std::invalid_argument& e) {
    throw StoreError("database '" + path + "': " + e.what());
  }
}

void expect_one_change(SQLite::Statement& statement, std::int64_t run_id, const std::string& path) {
  if (statement.getChanges() == 0) {
    throw StoreError("run " + std::to_string(run_id) + " not found in database '" + path + "'");
  }
}

std::string machine_clause(std::int64_t machine_id) {
  return machine_id == 0 ? "" : " AND e.machine_id = " + std::to_string(machine_id);
}

std::int64_t machine_of_experiment(SQLite::Database& db, std::int64_t experiment_id) {
  SQLite::Statement query(db, "SELECT machine_id FROM experiments WHERE id = ?");
  query.bind(1, experiment_id);
  if (!query.executeStep() || query.getColumn(0).isNull()) return 0;
  return query.getColumn(0).getInt64();
}

bool has_ok_run(SQLite::Database& db, const std::string& experiment_name,
                const std::string& run_key, std::int64_t machine_id) {
  SQLite::Statement query(db,
                          "SELECT EXISTS(SELECT 1 FROM runs r JOIN experiments e "
                          "ON e.id = r.experiment_id WHERE e.name = ? AND r.run_key = ? "
                          "AND r.status = 'ok'" +
                              machine_clause(machine_id) + ")");
  query.bind(1, experiment_name);
  query.bind(2, run_key);
  query.executeStep();
  return query.getColumn(0).getInt() != 0;
}

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

}  // namespace orch::storage
