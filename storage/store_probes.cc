// Store's memory knowledge per memory key and budget, for `orch probe` and the planner:
// probe trials and answers, measured peaks, and the runs that ran out of memory.
#include <SQLiteCpp/SQLiteCpp.h>

#include "storage/store.h"
#include "storage/store_sql.h"

namespace orch::storage {

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
    insert.bind(4, status_word(trial.status));
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
      trial.status = status_of(query.getColumn(3), path_);
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

}  // namespace orch::storage
