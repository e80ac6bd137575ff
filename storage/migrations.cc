// The schema's migration steps: kMigrations[i] takes a database from version i to i + 1.
// A file of its own because it only grows: every schema change appends a step here.
#include <iterator>
#include <stdexcept>
#include <string>

#include "storage/schema.h"
#include "storage/store.h"

namespace orch::storage {
namespace {

// kMigrations[i] takes a database from version i to i + 1: append new steps, never edit old ones.
constexpr const char* kMigrations[] = {
    // 0 -> 1: the initial schema.
    R"sql(
CREATE TABLE experiments(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  file_path TEXT,
  file_text TEXT,
  file_hash TEXT,
  created_at TEXT NOT NULL,
  host TEXT
);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  run_key TEXT NOT NULL,
  swept TEXT,
  repeat INTEGER NOT NULL DEFAULT 0,
  params TEXT,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 1,
  parent_run_id INTEGER REFERENCES runs(id),
  worker_pid INTEGER,
  started_at TEXT,
  finished_at TEXT,
  wall_s REAL,
  peak_rss_bytes INTEGER,
  peak_device_bytes INTEGER,
  exit_signal INTEGER,
  error TEXT
);
CREATE TABLE params(
  run_id INTEGER NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value_text TEXT,
  value_num REAL,
  PRIMARY KEY(run_id, key)
);
CREATE TABLE epochs(
  run_id INTEGER NOT NULL REFERENCES runs(id),
  epoch INTEGER NOT NULL,
  seconds REAL,
  warmup_seconds REAL,
  steps INTEGER,
  timed_samples INTEGER,
  samples_per_s REAL,
  train_loss REAL,
  train_accuracy REAL,
  val_loss REAL,
  val_accuracy REAL,
  val_seconds REAL,
  PRIMARY KEY(run_id, epoch)
);
CREATE INDEX runs_run_key ON runs(run_key);
CREATE INDEX runs_experiment_id ON runs(experiment_id);
CREATE VIEW run_summary AS
SELECT e.name AS experiment,
       r.id AS run_id,
       r.run_key,
       r.swept,
       r.repeat,
       r.attempt,
       r.status,
       COALESCE(agg.epochs, 0) AS epochs,
       r.wall_s,
       agg.epoch_s,
       agg.samples_per_s,
       last.train_loss,
       last.val_accuracy,
       r.peak_rss_bytes,
       r.error
FROM runs r
JOIN experiments e ON e.id = r.experiment_id
LEFT JOIN (SELECT run_id, COUNT(*) AS epochs, AVG(seconds) AS epoch_s,
                  AVG(samples_per_s) AS samples_per_s, MAX(epoch) AS last_epoch
           FROM epochs GROUP BY run_id) agg ON agg.run_id = r.id
LEFT JOIN epochs last ON last.run_id = r.id AND last.epoch = agg.last_epoch;
)sql",
    // 1 -> 2: memory keys and budgets on runs, the probe tables, the host that ran an experiment.
    R"sql(
DROP VIEW run_summary;
ALTER TABLE experiments ADD COLUMN host_pid INTEGER;
ALTER TABLE experiments ADD COLUMN hostname TEXT;
ALTER TABLE runs ADD COLUMN memory_key TEXT;
ALTER TABLE runs ADD COLUMN budget_bytes INTEGER;
ALTER TABLE runs ADD COLUMN batch_size INTEGER;
ALTER TABLE runs ADD COLUMN stop_layer TEXT;
CREATE INDEX runs_memory_key_budget ON runs(memory_key, budget_bytes);
CREATE TABLE probe_trials(
  id INTEGER PRIMARY KEY,
  memory_key TEXT NOT NULL,
  budget_bytes INTEGER NOT NULL,
  batch_size INTEGER NOT NULL,
  status TEXT NOT NULL,
  peak_rss_bytes INTEGER,
  stop_layer TEXT,
  error TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX probe_trials_memory_key_budget ON probe_trials(memory_key, budget_bytes);
CREATE TABLE probe_answers(
  memory_key TEXT NOT NULL,
  budget_bytes INTEGER NOT NULL,
  max_batch_size INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY(memory_key, budget_bytes)
);
CREATE VIEW run_summary AS
SELECT e.name AS experiment,
       r.id AS run_id,
       r.run_key,
       r.swept,
       r.repeat,
       r.attempt,
       r.status,
       COALESCE(agg.epochs, 0) AS epochs,
       r.wall_s,
       agg.epoch_s,
       agg.samples_per_s,
       last.train_loss,
       last.val_accuracy,
       r.peak_rss_bytes,
       r.error,
       r.batch_size,
       r.stop_layer
FROM runs r
JOIN experiments e ON e.id = r.experiment_id
LEFT JOIN (SELECT run_id, COUNT(*) AS epochs, AVG(seconds) AS epoch_s,
                  AVG(samples_per_s) AS samples_per_s, MAX(epoch) AS last_epoch
           FROM epochs GROUP BY run_id) agg ON agg.run_id = r.id
LEFT JOIN epochs last ON last.run_id = r.id AND last.epoch = agg.last_epoch;
)sql",
    // 2 -> 3: step-time distributions, data wait vs compute, per-step metrics, the backend
    // and log of each run, and views for the common questions.
    R"sql(
DROP VIEW run_summary;
ALTER TABLE epochs ADD COLUMN warmup_steps INTEGER;
ALTER TABLE epochs ADD COLUMN data_seconds REAL;
ALTER TABLE epochs ADD COLUMN compute_seconds REAL;
ALTER TABLE epochs ADD COLUMN step_median_s REAL;
ALTER TABLE epochs ADD COLUMN step_p95_s REAL;
ALTER TABLE runs ADD COLUMN backend TEXT;
ALTER TABLE runs ADD COLUMN log_path TEXT;
ALTER TABLE runs ADD COLUMN config_key TEXT;
CREATE TABLE metrics(
  run_id INTEGER NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  PRIMARY KEY(run_id, name, step)
) WITHOUT ROWID;
CREATE VIEW run_summary AS
SELECT e.name AS experiment,
       r.id AS run_id,
       r.run_key,
       r.swept,
       r.repeat,
       r.attempt,
       r.status,
       COALESCE(agg.epochs, 0) AS epochs,
       r.wall_s,
       agg.epoch_s,
       agg.samples_per_s,
       last.train_loss,
       last.val_accuracy,
       r.peak_rss_bytes,
       r.error,
       r.batch_size,
       r.stop_layer,
       agg.step_median_s,
       agg.step_p95_s,
       CASE WHEN agg.timed_s > 0 THEN agg.data_s / agg.timed_s END AS data_fraction,
       r.backend,
       r.log_path,
       r.config_key,
       last.val_loss
FROM runs r
JOIN experiments e ON e.id = r.experiment_id
LEFT JOIN (SELECT run_id, COUNT(*) AS epochs, AVG(seconds) AS epoch_s,
                  AVG(samples_per_s) AS samples_per_s, MAX(epoch) AS last_epoch,
                  AVG(step_median_s) AS step_median_s, AVG(step_p95_s) AS step_p95_s,
                  SUM(data_seconds) AS data_s, SUM(seconds) AS timed_s
           FROM epochs GROUP BY run_id) agg ON agg.run_id = r.id
LEFT JOIN epochs last ON last.run_id = r.id AND last.epoch = agg.last_epoch;
CREATE VIEW runs_flat AS
SELECT s.experiment, s.run_id, s.run_key, s.status, s.repeat, s.attempt, s.swept,
       (SELECT value_text FROM params p WHERE p.run_id = s.run_id AND p.key = 'backend.plugin') AS backend_plugin,
       (SELECT value_num FROM params p WHERE p.run_id = s.run_id AND p.key = 'backend.threads') AS threads,
       (SELECT value_text FROM params p WHERE p.run_id = s.run_id AND p.key = 'dataset.plugin') AS dataset,
       (SELECT value_text FROM params p WHERE p.run_id = s.run_id AND p.key = 'model.plugin') AS model,
       (SELECT value_num FROM params p WHERE p.run_id = s.run_id AND p.key = 'train.batch_size') AS batch_size,
       (SELECT value_num FROM params p WHERE p.run_id = s.run_id AND p.key = 'train.accumulation_steps') AS accumulation_steps,
       (SELECT value_num FROM params p WHERE p.run_id = s.run_id AND p.key = 'train.epochs') AS epochs,
       (SELECT value_text FROM params p WHERE p.run_id = s.run_id AND p.key = 'train.optimizer') AS optimizer,
       (SELECT value_num FROM params p WHERE p.run_id = s.run_id AND p.key = 'train.lr') AS lr,
       s.epoch_s, s.samples_per_s, s.step_median_s, s.step_p95_s, s.data_fraction,
       s.train_loss, s.val_accuracy, s.peak_rss_bytes / 1048576.0 AS peak_rss_mib, s.wall_s,
       s.stop_layer, s.error, s.backend, s.log_path
FROM run_summary s;
CREATE VIEW best_runs AS
SELECT f.* FROM runs_flat f
WHERE f.status = 'ok'
  AND f.epoch_s = (SELECT MIN(g.epoch_s) FROM runs_flat g
                   WHERE g.experiment = f.experiment AND g.status = 'ok');
)sql",
    // 3 -> 4: scale-out. Rows get ids that stay unique across databases (merging shard
    // databases is idempotent by them); an orch process proves it is alive by a heartbeat on
    // its experiment row; claims make two orch processes on one database run a point once.
    R"sql(
ALTER TABLE experiments ADD COLUMN uid TEXT;
ALTER TABLE experiments ADD COLUMN heartbeat_at REAL;
ALTER TABLE experiments ADD COLUMN shard TEXT;
ALTER TABLE runs ADD COLUMN uid TEXT;
ALTER TABLE runs ADD COLUMN cpu_set TEXT;
UPDATE experiments SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL;
UPDATE runs SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL;
CREATE UNIQUE INDEX experiments_uid ON experiments(uid);
CREATE UNIQUE INDEX runs_uid ON runs(uid);
CREATE TABLE claims(
  experiment_name TEXT NOT NULL,
  run_key TEXT NOT NULL,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  claimed_at TEXT NOT NULL,
  PRIMARY KEY(experiment_name, run_key)
);
)sql",
    // 4 -> 5: what starting a run costs: seconds from the fork of its worker until its
    // first training step (plugins made, data loaded, model built).
    R"sql(
ALTER TABLE runs ADD COLUMN start_s REAL;
)sql",
    // 5 -> 6: answers that hold. Epoch times projected from the median step with their 95%
    // interval (what rankings compare), time outside the timed steps, how busy the machine
    // was, the projected length of the whole training, and probes that say how they know.
    R"sql(
ALTER TABLE epochs ADD COLUMN median_epoch_s REAL;
ALTER TABLE epochs ADD COLUMN median_epoch_low_s REAL;
ALTER TABLE epochs ADD COLUMN median_epoch_high_s REAL;
ALTER TABLE epochs ADD COLUMN untimed_seconds REAL;
ALTER TABLE epochs ADD COLUMN other_cpu_cores REAL;
ALTER TABLE epochs ADD COLUMN run_queue REAL;
ALTER TABLE epochs ADD COLUMN step_dispersion REAL;
ALTER TABLE epochs ADD COLUMN median_samples_per_s REAL;
ALTER TABLE runs ADD COLUMN other_cpu_cores REAL;
ALTER TABLE runs ADD COLUMN run_queue REAL;
ALTER TABLE runs ADD COLUMN busy TEXT;
ALTER TABLE runs ADD COLUMN projected_s REAL;
ALTER TABLE probe_trials ADD COLUMN steps INTEGER;
ALTER TABLE probe_trials ADD COLUMN plateau_step INTEGER;
ALTER TABLE probe_trials ADD COLUMN growth_bytes INTEGER;
ALTER TABLE probe_trials ADD COLUMN accumulation_steps INTEGER;
ALTER TABLE probe_answers ADD COLUMN predicted_peak_bytes INTEGER;
ALTER TABLE probe_answers ADD COLUMN margin_bytes INTEGER;
ALTER TABLE probe_answers ADD COLUMN fixed_bytes INTEGER;
ALTER TABLE probe_answers ADD COLUMN per_sample_bytes INTEGER;
ALTER TABLE probe_answers ADD COLUMN noise_bytes INTEGER;
ALTER TABLE probe_answers ADD COLUMN growth_bytes INTEGER;
ALTER TABLE probe_answers ADD COLUMN corrected_by_run_id INTEGER;
ALTER TABLE probe_answers ADD COLUMN note TEXT;
DROP VIEW best_runs;
DROP VIEW runs_flat;
DROP VIEW run_summary;
CREATE VIEW run_summary AS
SELECT e.name AS experiment,
       r.id AS run_id,
       r.run_key,
       r.swept,
       r.repeat,
       r.attempt,
       r.status,
       COALESCE(agg.epochs, 0) AS epochs,
       r.wall_s,
       agg.epoch_s,
       agg.samples_per_s,
       last.train_loss,
       last.val_accuracy,
       r.peak_rss_bytes,
       r.error,
       r.batch_size,
       r.stop_layer,
       agg.step_median_s,
       agg.step_p95_s,
       CASE WHEN agg.timed_s > 0 THEN agg.data_s / agg.timed_s END AS data_fraction,
       r.backend,
       r.log_path,
       r.config_key,
       last.val_loss,
       agg.median_epoch_s,
       agg.median_epoch_low_s,
       agg.median_epoch_high_s,
       r.other_cpu_cores,
       r.run_queue,
       r.busy,
       r.projected_s,
       r.start_s,
       agg.step_dispersion,
       agg.median_samples_per_s
FROM runs r
JOIN experiments e ON e.id = r.experiment_id
LEFT JOIN (SELECT run_id, COUNT(*) AS epochs, AVG(seconds) AS epoch_s,
                  AVG(samples_per_s) AS samples_per_s, MAX(epoch) AS last_epoch,
                  AVG(step_median_s) AS step_median_s, AVG(step_p95_s) AS step_p95_s,
                  SUM(data_seconds) AS data_s, SUM(seconds) AS timed_s,
                  AVG(median_epoch_s) AS median_epoch_s,
                  AVG(median_epoch_low_s) AS median_epoch_low_s,
                  AVG(median_epoch_high_s) AS median_epoch_high_s,
                  MAX(step_dispersion) AS step_dispersion,
                  -- Samples over time, so that with median_epoch_s it gives the
                  -- epoch's samples exactly (an average of rates would not).
                  SUM(median_epoch_s * median_samples_per_s) /
                      SUM(CASE WHEN median_samples_per_s IS NOT NULL
                               THEN median_epoch_s END) AS median_samples_per_s
           FROM epochs GROUP BY run_id) agg ON agg.run_id = r.id
LEFT JOIN epochs last ON last.run_id = r.id AND last.epoch = agg.last_epoch;
CREATE VIEW runs_flat AS
SELECT s.experiment, s.run_id, s.run_key, s.status, s.repeat, s.attempt, s.swept,
       (SELECT value_text FROM params p WHERE p.run_id = s.run_id AND p.key = 'backend.plugin') AS backend_plugin,
       (SELECT value_num FROM params p WHERE p.run_id = s.run_id AND p.key = 'backend.threads') AS threads,
       (SELECT value_text FROM params p WHERE p.run_id = s.run_id AND p.key = 'dataset.plugin') AS dataset,
       (SELECT value_text FROM params p WHERE p.run_id = s.run_id AND p.key = 'model.plugin') AS model,
       (SELECT value_num FROM params p WHERE p.run_id = s.run_id AND p.key = 'train.batch_size') AS batch_size,
       (SELECT value_num FROM params p WHERE p.run_id = s.run_id AND p.key = 'train.accumulation_steps') AS accumulation_steps,
       (SELECT value_num FROM params p WHERE p.run_id = s.run_id AND p.key = 'train.epochs') AS epochs,
       (SELECT value_text FROM params p WHERE p.run_id = s.run_id AND p.key = 'train.optimizer') AS optimizer,
       (SELECT value_num FROM params p WHERE p.run_id = s.run_id AND p.key = 'train.lr') AS lr,
       s.epoch_s, s.samples_per_s, s.step_median_s, s.step_p95_s, s.data_fraction,
       s.train_loss, s.val_accuracy, s.peak_rss_bytes / 1048576.0 AS peak_rss_mib, s.wall_s,
       s.stop_layer, s.error, s.backend, s.log_path,
       s.median_epoch_s, s.other_cpu_cores, s.busy, s.projected_s
FROM run_summary s;
CREATE VIEW best_runs AS
SELECT f.* FROM runs_flat f
WHERE f.status = 'ok'
  AND COALESCE(f.median_epoch_s, f.epoch_s) =
      (SELECT MIN(COALESCE(g.median_epoch_s, g.epoch_s)) FROM runs_flat g
       WHERE g.experiment = f.experiment AND g.status = 'ok');
)sql",
    // 6 -> 7: probes rehearse their answer: one epoch of the real run, validation pass
    // included, under the budget. A rehearsal is kept beside the trials (kind), and the
    // answer says what the rehearsal peaked at and what a whole epoch held above the
    // trials' memory model.
    R"sql(
ALTER TABLE probe_trials ADD COLUMN kind TEXT NOT NULL DEFAULT 'trial';
ALTER TABLE probe_trials ADD COLUMN seconds REAL;
ALTER TABLE probe_answers ADD COLUMN rehearsed_peak_bytes INTEGER;
ALTER TABLE probe_answers ADD COLUMN epoch_excess_bytes INTEGER;
)sql",
    // 7 -> 8: a worker hands freed heap memory back near its budget, and probe trials do
    // so throughout; runs and trials say how often they did and the most they held right
    // after.
    R"sql(
ALTER TABLE runs ADD COLUMN memory_trims INTEGER;
ALTER TABLE runs ADD COLUMN held_peak_bytes INTEGER;
ALTER TABLE probe_trials ADD COLUMN memory_trims INTEGER;
ALTER TABLE probe_trials ADD COLUMN held_peak_bytes INTEGER;
)sql",
    // 8 -> 9: a search ([search] strategy = random, sobol, bayes) keeps every point it
    // suggested, so that a resumed search, or a second orch on the same database, goes on
    // with the same search instead of starting another. Outcomes are the runs of the
    // point's configuration (runs.config_key).
    R"sql(
CREATE TABLE search_points(
  experiment TEXT NOT NULL,
  point_index INTEGER NOT NULL,
  strategy TEXT NOT NULL,
  config_key TEXT NOT NULL,
  swept TEXT NOT NULL,
  coordinates TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY(experiment, point_index)
);
)sql",
    // 9 -> 10: a run may keep its trained weights ([train] save); the file's path, beside
    // the database, for orch export.
    R"sql(
ALTER TABLE runs ADD COLUMN weights_path TEXT;
)sql",
    // 10 -> 11: a run's machine is part of what it measured, so one history can hold the
    // same sweep run on several machines. A machine is its fingerprint (a hash of what
    // decides speed) and its name; each experiment row (one orch run) names its machine.
    // Rows from before get a machine from the host facts they recorded, fingerprinted
    // "recorded:hostname/cpu/cores/memory" until the first orch run on that host adopts it
    // (Store::machine_id), or "unknown" when they recorded none.
    R"sql(
CREATE TABLE machines(
  id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  name TEXT NOT NULL,
  facts TEXT,
  created_at TEXT NOT NULL,
  UNIQUE(name, fingerprint)
);
ALTER TABLE experiments ADD COLUMN machine_id INTEGER REFERENCES machines(id);
CREATE TEMP TABLE recorded_machine AS
SELECT id AS experiment_id, created_at, host,
       CASE WHEN json_valid(host) AND json_type(host) = 'object'
            THEN 'recorded:' || COALESCE(json_extract(host, '$.hostname'), '') || '/' ||
                 COALESCE(json_extract(host, '$.cpu'), '') || '/' ||
                 COALESCE(json_extract(host, '$.cores'), '') || '/' ||
                 COALESCE(json_extract(host, '$.memory_bytes'), '')
            ELSE 'unknown' END AS fingerprint,
       CASE WHEN json_valid(host) AND json_type(host) = 'object'
            THEN COALESCE(NULLIF(json_extract(host, '$.hostname'), ''), 'unknown')
            ELSE 'unknown' END AS name
FROM experiments;
INSERT OR IGNORE INTO machines(fingerprint, name, facts, created_at)
SELECT fingerprint, name, host, MIN(created_at) FROM recorded_machine
GROUP BY fingerprint, name ORDER BY MIN(experiment_id);
UPDATE experiments SET machine_id =
  (SELECT m.id FROM recorded_machine t JOIN machines m
   ON m.fingerprint = t.fingerprint AND m.name = t.name
   WHERE t.experiment_id = experiments.id);
DROP TABLE temp.recorded_machine;
CREATE INDEX experiments_machine_id ON experiments(machine_id);
)sql",
    // 11 -> 12: checkpoints ([train] checkpoint). A run that resumed from one says after
    // which epoch and of which attempt; the earlier epochs are copied into it, each naming
    // the run that measured it (from_run_id), and the first epoch trained after the resume
    // is marked (resumed), since it ran in a fresh process. A checkpoint skipped (disk
    // budget, I/O error) leaves its reason on the run.
    R"sql(
ALTER TABLE runs ADD COLUMN resumed_from_epoch INTEGER;
ALTER TABLE runs ADD COLUMN resumed_from_run_id INTEGER REFERENCES runs(id);
ALTER TABLE runs ADD COLUMN checkpoint_note TEXT;
ALTER TABLE epochs ADD COLUMN resumed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE epochs ADD COLUMN from_run_id INTEGER REFERENCES runs(id);
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion, "one migration step per schema version");

}  // namespace

const char* migration_sql(int from_version) {
  if (from_version < 0 || from_version >= kSchemaVersion) {
    throw std::out_of_range("no migration step from schema version " +
                            std::to_string(from_version));
  }
  return kMigrations[from_version];
}

}  // namespace orch::storage
