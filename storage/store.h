// Run history in SQLite. The host process is the only writer; workers never touch
// the database. Knows nothing of torch or plugins: it stores plain records.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "storage/run_status.h"

namespace SQLite {
class Database;
}

namespace orch::storage {

// Thrown for every storage failure, with a message that names the database file.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int kSchemaVersion = 12;

// The machine a sweep ran on (table machines): what decides speed, hashed into a
// fingerprint, and a name for people. The pair identifies it: two machines may share a
// name only when they came from different databases (a merge keeps both).
struct MachineRecord {
  std::string fingerprint;
  std::string name;
  std::string facts_json;  // the facts the fingerprint hashes, a JSON object
  // "recorded:hostname/cpu/cores/memory" as schema 11's migration fingerprinted this
  // host's older rows: such a machine is adopted (renamed and refingerprinted) by this one.
  std::string recorded_key;
  // The name was given (orch run --machine NAME): another machine under it is refused.
  bool named_by_user = false;
};

// A machine row, as reports list them.
struct MachineRow {
  std::int64_t id = 0;
  std::string fingerprint;
  std::string name;
  std::string facts_json;
};

struct ExperimentRecord {
  std::string name;
  std::string file_path;
  std::string file_text;
  std::string file_hash;
  std::string host_json;  // machine and software description, a JSON object
  int host_pid = 0;       // the orch process that ran it, to tell abandoned runs
  std::string hostname;
  std::string shard;            // "I/N" when this orch ran shard I of N of the sweep; else empty
  std::int64_t machine_id = 0;  // from Store::machine_id; 0: not known (NULL)
};

// One resolved parameter of a run, e.g. key "train.batch_size". value_num is set
// when the value is a number or bool, so SQL can compare it numerically.
struct ParamRecord {
  std::string key;
  std::string value_text;
  std::optional<double> value_num;
};

struct RunRecord {
  std::string run_key;
  std::string params_json;  // all resolved parameters, a JSON object
  std::vector<ParamRecord> params;
  std::string swept;  // the swept values, "train.batch_size=4 train.epochs=2"
  int repeat = 0;
  // Runs with equal memory keys differ only in what does not change memory per step
  // (batch size aside): the same model, data shape, backend and optimizer.
  std::string memory_key;
  std::int64_t budget_bytes = 0;  // the memory budget the run was given
  std::int64_t batch_size = 0;    // train.batch_size as run (halving changes it)
  // Equal for the repeats of one configuration: the run key without the repeat.
  std::string config_key;
};

// Values that were not measured (no validation pass, a model without accuracy) are NaN
// here and NULL in the database.
struct EpochRecord {
  int epoch = 0;              // 1-based
  double seconds = 0;         // timed training steps (warm-up steps excluded)
  double warmup_seconds = 0;  // time of the warm-up steps in this epoch
  std::int64_t steps = 0;     // all training steps in the epoch
  std::int64_t timed_samples = 0;
  double samples_per_s = 0;
  double train_loss = 0;
  double train_accuracy = 0;
  double val_loss = 0;
  double val_accuracy = 0;
  double val_seconds = 0;
  std::int64_t warmup_steps = 0;  // steps left out of timing (first epoch only)
  double data_seconds = 0;        // of `seconds`: waiting for the dataset's batches
  double compute_seconds = 0;     // of `seconds`: forward, backward, optimizer step
  double step_median_s = 0;       // of the timed steps
  double step_p95_s = 0;
  // The epoch's training time projected from its median step (training samples / samples
  // per step x the median step), and the 95% interval of that projection from the
  // median's distribution-free interval: what rankings compare, since other processes'
  // stalls move a mean and hardly move a median. NaN when not measured.
  double median_epoch_s = std::numeric_limits<double>::quiet_NaN();
  double median_epoch_low_s = std::numeric_limits<double>::quiet_NaN();
  double median_epoch_high_s = std::numeric_limits<double>::quiet_NaN();
  // Training samples per second at the median step: the throughput rankings compare.
  double median_samples_per_s = std::numeric_limits<double>::quiet_NaN();
  // Time in the epoch's training loop outside the timed steps and validation: orch's own
  // bookkeeping per step, shuffling. In benchmark mode, projected to a whole epoch.
  double untimed_seconds = std::numeric_limits<double>::quiet_NaN();
  // How busy the machine was during the epoch, measured by the host: cores' worth of CPU
  // time that other processes used on the run's cores, and the mean number of runnable
  // tasks on the machine besides the run's own. NaN when not measured.
  double other_cpu_cores = std::numeric_limits<double>::quiet_NaN();
  double run_queue = std::numeric_limits<double>::quiet_NaN();
  // (p95 - p50) / p50 of the timed steps: 0.1 on a quiet machine is common, 9 means the
  // slow tenth of the steps took ten times the typical one.
  double step_dispersion = std::numeric_limits<double>::quiet_NaN();
  // Every timed step's seconds; stored as metrics rows named "step_s".
  std::vector<double> step_seconds;
  // The first epoch after a resume from a checkpoint: trained in a fresh process, which
  // warmed up again (epochs.resumed).
  bool resumed = false;
};

struct RunOutcome {
  RunStatus status = RunStatus::kOk;  // final: neither pending nor running
  double wall_s = 0;
  std::int64_t peak_rss_bytes = 0;
  std::optional<int> exit_signal;
  std::string error;
  std::string stop_layer;  // what stopped it: cgroup | watchdog | allocator | timeout | ...
  // Over the whole run, as in EpochRecord; NaN when not measured.
  double other_cpu_cores = std::numeric_limits<double>::quiet_NaN();
  double run_queue = std::numeric_limits<double>::quiet_NaN();
  // Empty when the machine was quiet; else what made it busy, for people ("machine busy:
  // other processes used 0.9 cores during this run").
  std::string busy;
  // The whole training's projected seconds (start, every epoch's steps, validation and
  // bookkeeping) from what the run measured; NaN when it cannot be projected.
  double projected_s = std::numeric_limits<double>::quiet_NaN();
  // How often the worker handed freed heap memory back near its budget, and the most it
  // held right after (0: it never came that close).
  std::int64_t memory_trims = 0;
  std::int64_t held_peak_bytes = 0;
};

// A run that was planned or started by an orch that did not finish it.
struct UnfinishedRun {
  std::int64_t run_id = 0;
  RunStatus status = RunStatus::kPending;  // pending or running
  int host_pid = 0;
  std::string hostname;
  std::int64_t experiment_id = 0;
};

// A point of a sweep that an orch process has taken to run (see Store::claim_run).
struct ClaimRecord {
  std::string run_key;
  std::int64_t experiment_id = 0;  // the claiming orch's experiment row
  std::string hostname;
  int host_pid = 0;
  double heartbeat_age_s = 0;  // seconds since its orch last said it was alive; inf if never
};

enum class ClaimOutcome {
  kClaimed,   // this orch runs it now
  kFinished,  // it already finished ok (perhaps run by another orch meanwhile)
  kHeld,      // another orch that is alive is running it
};

struct Claim {
  ClaimOutcome outcome = ClaimOutcome::kClaimed;
  std::string holder;      // kHeld: "host H, pid P"
  std::string taken_from;  // kClaimed from a dead orch: "host H, pid P, silent for S s"
};

// One trial of `orch probe`: training steps at one batch size under a budget, until the
// peak memory stops growing, with a validation batch in between.
struct ProbeTrial {
  std::string memory_key;
  std::int64_t budget_bytes = 0;
  std::int64_t batch_size = 0;
  RunStatus status = RunStatus::kOk;  // ok, oom, or why a trial failed
  std::int64_t peak_rss_bytes = 0;
  std::string stop_layer;
  std::string error;
  std::int64_t steps = 0;               // optimizer steps it ran
  std::int64_t plateau_step = 0;        // when the peak stopped growing; 0 = it did not
  std::int64_t growth_bytes = 0;        // how much the peak grew over the last half of its steps
  std::int64_t accumulation_steps = 1;  // batches per optimizer step, as the run has them
  // "trial": steps until the peak stops growing; "rehearsal": one whole epoch of the run,
  // validation pass included, at the answer the trials gave.
  std::string kind = "trial";
  double seconds = 0;  // wall time of the worker
  // How often the worker handed freed heap memory back, and the most it held right after
  // doing so (0: it never did). Trials trim throughout; rehearsals, like runs, from 90%
  // of the budget on.
  std::int64_t memory_trims = 0;
  std::int64_t held_peak_bytes = 0;
};

// What `orch probe` concluded for a memory key and budget, with what it rests on.
struct ProbeAnswer {
  std::int64_t max_batch_size = 0;
  std::int64_t predicted_peak_bytes = 0;  // the memory model's peak at max_batch_size
  std::int64_t margin_bytes = 0;          // kept free for what a full run adds to a trial
  std::int64_t fixed_bytes = 0;           // the model: fixed + per_sample x batch size
  std::int64_t per_sample_bytes = 0;
  std::int64_t noise_bytes = 0;           // trial-to-trial variation of the peak (1 sigma)
  std::int64_t growth_bytes = 0;          // growth a full run may add over a trial
  std::int64_t rehearsed_peak_bytes = 0;  // peak of the epoch rehearsed at the answer; 0 = none
  std::int64_t epoch_excess_bytes = 0;    // what that epoch held above the model's peak
  std::int64_t corrected_by_run_id = 0;   // a full run that ran out of memory below it; 0 = none
  std::string note;                       // why it was corrected, for people
  std::string created_at;
};

// A measured peak of a memory key at one batch size: a probe trial's or a finished run's.
struct MemoryObservation {
  std::int64_t batch_size = 0;
  std::int64_t peak_rss_bytes = 0;
  bool full_run = false;  // a run that finished ok (all epochs, validation), not a trial
};

// A row of the run_summary view, as the report prints it.
struct RunSummary {
  std::int64_t run_id = 0;
  std::int64_t machine_id = 0;  // the machine of its experiment row; 0 when unknown
  std::string machine;          // that machine's name
  std::string run_key;
  std::string swept;
  int repeat = 0;
  int attempt = 0;
  RunStatus status = RunStatus::kPending;
  std::int64_t batch_size = 0;
  std::string stop_layer;
  double step_median_s = 0;  // mean over epochs of each epoch's median step
  double step_p95_s = 0;
  double data_fraction = 0;  // data wait / timed seconds
  std::string backend;       // the backend's own description, e.g. "cpu, 2 intra-op threads"
  std::string log_path;      // the worker's own output
  std::string config_key;    // shared by the repeats of one configuration
  std::string params_json;   // every resolved parameter
  double val_loss = 0;       // last epoch
  int epochs = 0;
  double wall_s = 0;
  double epoch_s = 0;        // mean timed seconds per epoch
  double samples_per_s = 0;  // mean over epochs
  double train_loss = 0;     // last epoch
  double val_accuracy = 0;   // last epoch
  std::int64_t peak_rss_bytes = 0;
  std::string error;
  // See EpochRecord and RunOutcome: NaN (busy: empty) when not measured.
  double median_epoch_s = std::numeric_limits<double>::quiet_NaN();  // mean over epochs
  double median_epoch_low_s = std::numeric_limits<double>::quiet_NaN();
  double median_epoch_high_s = std::numeric_limits<double>::quiet_NaN();
  double other_cpu_cores = std::numeric_limits<double>::quiet_NaN();
  double run_queue = std::numeric_limits<double>::quiet_NaN();
  std::string busy;
  double projected_s = std::numeric_limits<double>::quiet_NaN();
  double start_s = std::numeric_limits<double>::quiet_NaN();
  double step_dispersion = std::numeric_limits<double>::quiet_NaN();  // the largest over epochs
  double median_samples_per_s = std::numeric_limits<double>::quiet_NaN();  // mean over epochs
  // Empty when one attempt trained every epoch; else the sentence that says its timing
  // spans the attempt it resumed from a checkpoint and its own (runs.resumed_from_epoch).
  std::string resumed;
};

// One point a search suggested (table search_points).
struct SearchPointRecord {
  int index = 0;                    // 0-based, in the order the search suggested its points
  std::string strategy;             // "random", "sobol", "bayes"
  std::string config_key;           // the configuration it became: its runs carry this key
  std::string swept;                // "train.lr=0.003 model.hidden=96", as the runs show it
  std::vector<double> coordinates;  // the point as the sampler holds it
};

// What SQLite says a cell holds, so machine-readable output can keep numbers numbers.
enum class CellKind { kNull, kInteger, kReal, kText, kBlob };

// Result of a read-only query: column names and rows of printable cells, and each cell's
// kind. Reals are printed to 6 significant digits, or exactly (17) when asked.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::vector<CellKind>> kinds;  // one per cell of rows
};

class Store {
 public:
  // Opens or creates the database at path and migrates it to kSchemaVersion.
  // Throws StoreError naming the path when it cannot be opened or written.
  static Store Open(const std::string& path);
  // Opens an existing database of this schema version for reading only: nothing when the
  // file does not exist or another orch version wrote it (nothing is migrated). Writing
  // through it throws StoreError.
  static std::optional<Store> OpenForReading(const std::string& path);
  ~Store();
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;

  const std::string& path() const { return path_; }
  int schema_version();

  // The id of this machine's row, added when new. A machine the database knows under the
  // same name with another fingerprint is refused (StoreError saying which facts differ)
  // when the name was given by the user; a row older than schema 11 with the same
  // recorded key is adopted, so that a resumed sweep still skips what this host ran.
  std::int64_t machine_id(const MachineRecord& machine);
  // Every machine row, by id.
  std::vector<MachineRow> machines();
  // The machine of the latest experiment row with this name; 0 when none or unknown.
  std::int64_t latest_machine_id(const std::string& experiment_name);

  std::int64_t begin_experiment(const ExperimentRecord& experiment);
  // Says that the orch of this experiment row is alive; claims of an orch whose heartbeat
  // is older than a grace period are taken back by the next orch that wants the point.
  void heartbeat(std::int64_t experiment_id);

  // Takes the point `run_key` of this experiment's name for this experiment row, atomically
  // (BEGIN IMMEDIATE: two orch processes on one database cannot both get it). A claim whose
  // orch sent no heartbeat for `grace_s` seconds is taken over, and the runs it left
  // pending or running are marked interrupted. Hold the claim until the point is done.
  Claim claim_run(std::int64_t experiment_id, const std::string& run_key, double grace_s);
  void release_claim(std::int64_t experiment_id, const std::string& run_key);
  // Every claim on points of experiments with this name.
  std::vector<ClaimRecord> claims(const std::string& experiment_name);
  // Drops every claim of an experiment row (its orch is known to be gone).
  void drop_claims(std::int64_t experiment_id);

  // Resume is per machine: a run finished ok on another machine is not done here.
  // machine_id 0 asks about every machine.
  // True when a run with this key finished ok in any experiment of this name on the machine.
  bool finished_ok(const std::string& experiment_name, const std::string& run_key,
                   std::int64_t machine_id = 0);
  // The run keys of the experiments with this name that finished ok (kFinishedOk), that
  // finished ok or were pruned (kSettled: a resumed sweep runs neither again), or that
  // reached any final status, neither pending nor running (kEnded).
  enum class KeysThat { kFinishedOk, kSettled, kEnded };
  std::vector<std::string> run_keys(const std::string& experiment_name, KeysThat which,
                                    std::int64_t machine_id = 0);
  // The machine description (a JSON object) of the latest experiment with this name;
  // empty when there is none.
  std::string latest_host_json(const std::string& experiment_name);

  // Records the runs of a plan in one transaction, status "pending"; returns their ids
  // in order. A run key that was tried before gets the next attempt number.
  std::vector<std::int64_t> add_runs(std::int64_t experiment_id,
                                     const std::vector<RunRecord>& runs);

  // cpu_set: the cores the worker was pinned to, "0-3" or "2"; empty when not pinned.
  void mark_running(std::int64_t run_id, int worker_pid, const std::string& backend = "",
                    const std::string& cpu_set = "");
  // Seconds from the fork of the run's worker until its first training step.
  void set_start_seconds(std::int64_t run_id, double seconds);
  // Where the worker's stdout and stderr go; set before the worker starts.
  void set_log_path(std::int64_t run_id, const std::string& log_path);
  // The file holding a run's trained weights ([train] save); "" says it holds none (any
  // more). Throws StoreError naming the run when there is no such run.
  void set_weights_path(std::int64_t run_id, const std::string& weights_path);
  std::string weights_path(std::int64_t run_id);
  // Run id -> weights file of the runs of experiments with this name that kept weights.
  std::map<std::int64_t, std::string> saved_weights(const std::string& experiment_name);
  // Per-step timings of each epoch of a run: name "step_s", step numbering across epochs.
  std::vector<double> metric_values(std::int64_t run_id, const std::string& name);
  // Idempotent: writing the same (run, epoch) twice keeps one row, the last. The epoch's
  // step times go to metrics in the same transaction.
  void record_epoch(std::int64_t run_id, const EpochRecord& epoch);
  void finish_run(std::int64_t run_id, const RunOutcome& outcome);

  // Resuming from checkpoints ([train] checkpoint). The latest run of `run_key` in the
  // experiments with this name that recorded epochs, ended neither ok nor for good (status
  // interrupted, timeout or crashed, or pruned: paused by ASHA with promote = true, whose
  // checkpoint is kept): the attempt a checkpoint of the key continues.
  std::optional<std::int64_t> attempt_to_resume(const std::string& experiment_name,
                                                const std::string& run_key);
  // Run `run_id` resumes after epoch `epochs_done` of `from_run_id`: copies that run's
  // epochs 1..epochs_done into it (epochs.from_run_id names the run that measured each)
  // and records runs.resumed_from_epoch and resumed_from_run_id. Returns the epochs copied.
  int resume_run(std::int64_t run_id, std::int64_t from_run_id, int epochs_done);
  // Why a checkpoint of the run was skipped (runs.checkpoint_note), or "" to clear it.
  void set_checkpoint_note(std::int64_t run_id, const std::string& note);

  // Runs of experiments with this name left pending or running, oldest first.
  std::vector<UnfinishedRun> unfinished_runs(const std::string& experiment_name);

  // The smallest batch size that ran out of memory (status oom) with this memory key and
  // budget, in any experiment; nothing when none did.
  std::optional<std::int64_t> smallest_oom_batch(const std::string& memory_key,
                                                 std::int64_t budget_bytes);

  void record_probe_trial(const ProbeTrial& trial);
  // Replaces an earlier answer for the same memory key and budget.
  void record_probe_answer(const std::string& memory_key, std::int64_t budget_bytes,
                           const ProbeAnswer& answer);
  std::optional<ProbeAnswer> probe_answer(const std::string& memory_key, std::int64_t budget_bytes);
  // Every stored answer of this memory key, whatever its budget, newest first.
  std::vector<std::pair<std::int64_t, ProbeAnswer>> probe_answers(const std::string& memory_key);
  // Trials for this key and budget, in the order they were recorded.
  std::vector<ProbeTrial> probe_trials(const std::string& memory_key, std::int64_t budget_bytes);
  // Every measured peak of this memory key, any budget: probe trials that fitted and runs
  // that finished ok, oldest first.
  std::vector<MemoryObservation> memory_observations(const std::string& memory_key);
  // Whether any probe trial or run was recorded with this memory key.
  bool knows_memory_key(const std::string& memory_key);

  // Per run key and machine of the experiments with this name, oldest first: the run that
  // finished ok, else the latest attempt. machine_id 0: every machine's runs.
  std::vector<RunSummary> latest_runs(const std::string& experiment_name,
                                      std::int64_t machine_id = 0);
  // The epochs of a run in order (step_seconds left empty: see metric_values).
  std::vector<EpochRecord> epochs_of(std::int64_t run_id);

  // Records point `point.index` of the search of this experiment name; false (nothing
  // written) when that index is taken already: another orch suggested it first.
  bool add_search_point(const std::string& experiment_name, const SearchPointRecord& point);
  // Every point the search of this experiment name suggested, by index.
  std::vector<SearchPointRecord> search_points(const std::string& experiment_name);

  // The name of the experiment started last, empty when there is none.
  std::string latest_experiment_name();
  // The file text the latest experiment of this name ran with; empty when unknown.
  std::string latest_experiment_text(const std::string& experiment_name);

 private:
  Store(std::string path, std::unique_ptr<SQLite::Database> db);
  std::string path_;
  std::unique_ptr<SQLite::Database> db_;
};

// Runs one SQL statement on a database opened read-only and returns all its rows.
// Throws StoreError when the file is missing, the SQL is invalid or tries to write.
QueryResult query_read_only(const std::string& path, const std::string& sql,
                            bool exact_reals = false);

}  // namespace orch::storage
