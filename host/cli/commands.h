// The subcommands of `orch`. Each takes the parsed options and returns the exit code;
// bad input is thrown as UserError and printed by main().
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace orch {

struct Options {
  std::string db_path = "orch.db";
  std::vector<std::string> plugin_dirs;
  std::string file;                    // run, plan
  std::string sql;                     // sql
  std::string sql_format = "table";    // sql: table | csv | json
  std::string experiment;              // report, best: empty = the latest
  std::string memory_limit;            // run, probe: overrides [train] memory_limit
  std::vector<std::string> overrides;  // run, plan, probe: --set KEY=VALUE, in order
  bool run_infeasible = false;
  std::int64_t probe_start = 1;
  std::int64_t probe_steps = 32;  // at most, per trial
  bool probe_again = false;
  bool probe_no_rehearsal = false;  // answer from the trials alone, without an epoch
  bool best_toml = false;           // best: print the winner as experiment-file sections
  std::string objective_metric;     // report, best: override the file's [objective] metric
  std::string objective_goal;       // report, best: minimize | maximize
  std::string html_path;            // report: also write the report as one HTML page here
  int jobs = 1;                     // run: runs at once on this machine
  std::string shard;                // run: "I/N", run only shard I of N of the sweep
  std::string machine;              // run: this machine's name; report, best: whose runs
  std::string report_by;            // report: "machine" puts the machines side by side
  double claim_grace_s = 60;        // run: a claim whose orch is silent this long is taken back
  bool slurm = false;               // submit: to Slurm (the only scheduler so far)
  int array_parallelism = 0;        // submit: at most this many array tasks at once; 0 = no limit
  std::string partition;            // submit: sbatch --partition
  std::string time_limit;           // submit: sbatch --time
  int shards = 0;                   // submit: array tasks; 0 = one per run
  int cpus_per_task = 0;            // submit: sbatch --cpus-per-task; 0 = from the file
  bool dry_run = false;             // submit: print the job script, submit nothing
  std::vector<std::string> merge_inputs;  // merge: shard databases; empty = the shard dirs
  bool json = false;                      // doctor, best, report, plan, status: JSON
  std::int64_t run_id = 0;                // export: the run whose weights are copied
  std::string output_path;                // export: -o, where they are copied to
};

// Exit status of a sweep stopped by Ctrl-C or SIGTERM, as shells report it.
inline constexpr int kExitInterrupted = 130;

int run_command(const Options& options);
int plan_command(const Options& options);
int probe_command(const Options& options);
int plugins_command(const Options& options);
int sql_command(const Options& options);
int report_command(const Options& options);
int best_command(const Options& options);
int submit_command(const Options& options);
int merge_command(const Options& options);
int status_command(const Options& options);
int doctor_command(const Options& options);
int export_command(const Options& options);

// Exit status of `orch merge` that merged what it found but found shards missing or
// unfinished: the merged database is not the whole sweep yet.
inline constexpr int kExitIncomplete = 3;

}  // namespace orch
