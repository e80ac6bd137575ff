// Store's reads of runs for reports and resumption: the latest attempt per run key, the
// epochs and step times of a run, and the runs an orch left unfinished.
#include <SQLiteCpp/SQLiteCpp.h>

#include "storage/store.h"
#include "storage/store_sql.h"

namespace orch::storage {

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
      run.status = status_of(query.getColumn(1), path_);
      run.host_pid = query.getColumn(2).getInt();
      run.hostname = text_of(query.getColumn(3));
      run.experiment_id = query.getColumn(4).getInt64();
      runs.push_back(std::move(run));
    }
    return runs;
  });
}

std::vector<RunSummary> Store::latest_runs(const std::string& experiment_name,
                                           std::int64_t machine_id) {
  return guarded(path_, "read the runs of experiment '" + experiment_name + "'", [&] {
    SQLite::Statement query(
        *db_,
        "SELECT run_id, run_key, swept, repeat, attempt, status, epochs, wall_s, epoch_s, "
        "samples_per_s, train_loss, val_accuracy, peak_rss_bytes, error, batch_size, stop_layer, "
        "step_median_s, step_p95_s, data_fraction, backend, log_path, config_key, "
        "(SELECT params FROM runs WHERE runs.id = run_summary.run_id), val_loss, "
        "median_epoch_s, median_epoch_low_s, median_epoch_high_s, other_cpu_cores, run_queue, "
        "busy, projected_s, start_s, step_dispersion, median_samples_per_s, "
        "(SELECT e.machine_id FROM runs rr JOIN experiments e ON e.id = rr.experiment_id "
        "WHERE rr.id = run_summary.run_id), "
        "(SELECT m.name FROM runs rr JOIN experiments e ON e.id = rr.experiment_id "
        "JOIN machines m ON m.id = e.machine_id WHERE rr.id = run_summary.run_id), "
        "(SELECT 'run ' || r.id || ' resumed from a checkpoint after epoch ' || "
        "r.resumed_from_epoch || ': epochs up to it were timed by run ' || "
        "r.resumed_from_run_id || ', epoch ' || (r.resumed_from_epoch + 1) || "
        "' in a fresh process (its warm-up steps untimed)' FROM runs r "
        "WHERE r.id = run_summary.run_id AND r.resumed_from_epoch IS NOT NULL) "
        "FROM run_summary WHERE run_id IN (SELECT COALESCE(MAX(CASE WHEN r.status = 'ok' THEN r.id "
        "END), "
        "MAX(r.id)) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ?" +
            machine_clause(machine_id) + " GROUP BY e.machine_id, r.run_key) ORDER BY run_id");
    query.bind(1, experiment_name);
    std::vector<RunSummary> summaries;
    while (query.executeStep()) {
      RunSummary s;
      s.run_id = query.getColumn(0).getInt64();
      s.run_key = text_of(query.getColumn(1));
      s.swept = text_of(query.getColumn(2));
      s.repeat = query.getColumn(3).getInt();
      s.attempt = query.getColumn(4).getInt();
      s.status = status_of(query.getColumn(5), path_);
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
      s.machine_id = query.getColumn(34).isNull() ? 0 : query.getColumn(34).getInt64();
      s.machine = text_of(query.getColumn(35));
      s.resumed = text_of(query.getColumn(36));
      summaries.push_back(std::move(s));
    }
    return summaries;
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

}  // namespace orch::storage
