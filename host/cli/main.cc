// orch: parse the command line into Options, dispatch to one subcommand, and turn every
// error into one readable line and a non-zero exit.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <utility>
#include <vector>

#include "host/base/user_error.h"
#include "host/cli/commands.h"
#include "storage/store.h"

namespace {

constexpr int kExitError = 1;
constexpr int kExitBadInput = 2;

struct Subcommand {
  const char* name;
  const char* help;
  std::function<int(const orch::Options&)> run;
  std::function<void(CLI::App&, orch::Options&)> add_arguments;
};

int run_command_line(int argc, char** argv);

}  // namespace

// Every command has finished its work, closed its database and unloaded its plugins when
// run_command_line returns. What is left at exit is LibTorch's own teardown: its static
// destructors deregister every operator, 0.2 s of nothing a user waits for after each
// command (perf of `orch run`: c10::impl::OperatorEntry::deregisterKernel_). So the
// streams are flushed and the process ends without running them.
int main(int argc, char** argv) {
  const int exit_code = run_command_line(argc, argv);
  spdlog::shutdown();
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(exit_code);
}

namespace {

// The arguments several subcommands share, each added where that subcommand's help lists it.
void add_file(CLI::App& cmd, orch::Options& o) {
  cmd.add_option("file", o.file, "experiment file (TOML)")->required();
}

void add_budget(CLI::App& cmd, orch::Options& o) {
  cmd.add_option("--memory-limit", o.memory_limit,
                 "memory budget per run, e.g. 6GiB, 512MiB or 80% (overrides the file)");
}

void add_overrides(CLI::App& cmd, orch::Options& o) {
  // One KEY=VALUE per --set, so that the experiment file after it stays positional.
  cmd.add_option("--set", o.overrides,
                 "KEY=VALUE: use this value instead of the file's value or sweep of KEY, "
                 "e.g. --set train.epochs=1 (repeatable)")
      ->type_name("KEY=VALUE")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

// The experiment file, as every command that reads one takes it: the file, its budget and
// its --set overrides.
void add_experiment_file(CLI::App& cmd, orch::Options& o) {
  add_file(cmd, o);
  add_budget(cmd, o);
  add_overrides(cmd, o);
}

// plan and status: the experiment file, and --json for scripts.
void add_experiment_file_with_json(CLI::App& cmd, orch::Options& o) {
  add_experiment_file(cmd, o);
  cmd.add_flag("--json", o.json,
               "print the answer as JSON for scripts (docs/command-line.md shows its shape)");
}

void add_recorded_experiment(CLI::App& cmd, orch::Options& o) {
  cmd.add_option("-e,--experiment", o.experiment, "experiment name (default: the latest)");
  cmd.add_option("--metric", o.objective_metric,
                 "rank by this metric instead of the file's [objective] metric");
  cmd.add_option("--goal", o.objective_goal, "minimize or maximize the metric")
      ->check(CLI::IsMember({"minimize", "maximize"}));
  cmd.add_option("--machine", o.machine,
                 "rank this machine's runs (default: the machine that ran the experiment last)")
      ->type_name("NAME");
}

void add_run_arguments(CLI::App& cmd, orch::Options& o) {
  add_experiment_file(cmd, o);
  cmd.add_flag("--run-infeasible", o.run_infeasible,
               "also run batch sizes at least as large as one that ran out of memory");
  cmd.add_option("-j,--jobs", o.jobs, "runs at once, each with its share of the cores and memory")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd.add_option("--shard", o.shard,
                 "I/N: run only shard I of N of the sweep (0 <= I < N; run i of the "
                 "plan is in shard i mod N)")
      ->type_name("I/N");
  cmd.add_option("--machine", o.machine,
                 "name this machine's runs (default: its CPU, cores and memory); the same "
                 "name with other hardware in the database is refused")
      ->type_name("NAME");
  cmd.add_option("--claim-grace", o.claim_grace_s,
                 "seconds without a heartbeat after which another orch's claim on a "
                 "run is taken back")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
}

void add_submit_arguments(CLI::App& cmd, orch::Options& o) {
  add_experiment_file(cmd, o);
  cmd.add_flag("--slurm", o.slurm, "submit with sbatch (required: the only scheduler)");
  cmd.add_option("--shards", o.shards, "array tasks (default: one per run)")
      ->check(CLI::Range(1, 100000));
  cmd.add_option("--array-parallelism", o.array_parallelism,
                 "at most K array tasks at once (sbatch --array=...%K)")
      ->check(CLI::Range(1, 100000));
  cmd.add_option("--partition", o.partition, "sbatch --partition");
  cmd.add_option("--time", o.time_limit, "sbatch --time, e.g. 30:00 or 1-00:00:00");
  cmd.add_option("--cpus-per-task", o.cpus_per_task,
                 "sbatch --cpus-per-task (default: the file's threads, else 1)")
      ->check(CLI::Range(1, 4096));
  cmd.add_flag("--dry-run", o.dry_run, "print the job script; submit nothing");
}

void add_merge_arguments(CLI::App& cmd, orch::Options& o) {
  cmd.add_option("shards", o.merge_inputs,
                 "shard databases (default: every submitted experiment's shards)");
}

void add_probe_arguments(CLI::App& cmd, orch::Options& o) {
  add_experiment_file(cmd, o);
  cmd.add_option("--start", o.probe_start, "first batch size tried")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30))
      ->capture_default_str();
  cmd.add_option("--max-steps,--steps", o.probe_steps,
                 "optimizer steps per trial at most (a trial stops when its peak "
                 "memory stops growing)")
      ->check(CLI::Range(std::int64_t{8}, std::int64_t{10000}))
      ->capture_default_str();
  cmd.add_flag("--again", o.probe_again, "probe even when an answer is stored");
  cmd.add_flag("--no-rehearsal", o.probe_no_rehearsal,
               "answer from the trials alone: skip the epoch that rehearses the answer "
               "(quicker, but a whole run may peak above the trials)");
}

void add_doctor_arguments(CLI::App& cmd, orch::Options& o) {
  cmd.add_flag("--json", o.json, "print the findings and machine facts as JSON");
}

void add_no_arguments(CLI::App&, orch::Options&) {}

void add_report_arguments(CLI::App& cmd, orch::Options& o) {
  add_recorded_experiment(cmd, o);
  cmd.add_option("--html", o.html_path,
                 "also write the report with charts as one self-contained HTML file");
  cmd.add_option("--by", o.report_by,
                 "machine: configurations as rows, machines and devices as columns, epoch "
                 "times and ratios to the fastest")
      ->check(CLI::IsMember({"machine"}));
  cmd.add_flag("--json", o.json,
               "print the report as JSON for scripts (docs/command-line.md shows its shape)");
}

void add_best_arguments(CLI::App& cmd, orch::Options& o) {
  add_recorded_experiment(cmd, o);
  cmd.add_flag("--toml", o.best_toml, "print the winner as experiment-file sections");
  cmd.add_flag("--json", o.json,
               "print the answer as JSON for scripts (docs/command-line.md shows its shape)");
}

void add_export_arguments(CLI::App& cmd, orch::Options& o) {
  cmd.add_option("run", o.run_id, "the run's id (orch report and orch run print it)")->required();
  cmd.add_option("-o,--output", o.output_path, "where to write the weights, e.g. model.pt")
      ->required();
}

void add_sql_arguments(CLI::App& cmd, orch::Options& o) {
  cmd.add_option("query", o.sql, "one SELECT statement")->required();
  cmd.add_option("--format", o.sql_format,
                 "table (for people), csv, or json (for programs: numbers stay numbers; "
                 "docs/database.md shows its shape)")
      ->check(CLI::IsMember({"table", "csv", "json"}));
}

// In the order `orch --help` lists them.
const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> table = {
      {"run", "run an experiment file's sweep (skips runs that already finished ok)",
       orch::run_command, add_run_arguments},
      {"submit", "submit a sweep to Slurm as a job array, one shard database per task",
       orch::submit_command, add_submit_arguments},
      {"merge", "fold shard databases into the main database (merging twice adds nothing)",
       orch::merge_command, add_merge_arguments},
      {"status", "how many runs of an experiment file are done, running, failed, pending",
       orch::status_command, add_experiment_file_with_json},
      {"plan", "show the runs a sweep expands to; runs nothing", orch::plan_command,
       add_experiment_file_with_json},
      {"probe", "find the largest batch size that fits the memory budget", orch::probe_command,
       add_probe_arguments},
      {"doctor",
       "say whether this machine is ready to measure: BLAS, threads, cores, "
       "memory cgroup, swap, load, CPU governor",
       orch::doctor_command, add_doctor_arguments},
      {"plugins", "list the plugins found and their parameters", orch::plugins_command,
       add_no_arguments},
      {"report", "table of an experiment's runs and the best one", orch::report_command,
       add_report_arguments},
      {"best", "the best configuration of an experiment", orch::best_command, add_best_arguments},
      {"sql", "run a read-only SQL query on the database", orch::sql_command, add_sql_arguments},
      {"export", "copy a run's trained weights ([train] save) to a file", orch::export_command,
       add_export_arguments},
  };
  return table;
}

// Warnings are for people, not for pipes: stdout carries only the command's result.
void log_to_stderr() {
  spdlog::set_default_logger(spdlog::stderr_color_st("orch"));
  spdlog::set_pattern("orch: %l: %v");
}

void add_global_options(CLI::App& app, orch::Options& options) {
  app.require_subcommand(1);
  app.add_option("--db", options.db_path, "SQLite database of run history")->capture_default_str();
  app.add_option("--plugin-dir", options.plugin_dirs,
                 "extra directory with plugin libraries (repeatable; also ORCH_PLUGIN_PATH)");
}

using Parsers = std::vector<std::pair<CLI::App*, const Subcommand*>>;

Parsers add_subcommands(CLI::App& app, orch::Options& options) {
  Parsers parsers;
  for (const auto& sub : subcommands()) {
    CLI::App* cmd = app.add_subcommand(sub.name, sub.help);
    cmd->fallthrough();  // --db and --plugin-dir may also follow the subcommand
    sub.add_arguments(*cmd, options);
    parsers.emplace_back(cmd, &sub);
  }
  return parsers;
}

// Input the user can fix (the file, a flag, the database) exits 2; any other failure exits 1.
int run_parsed_subcommand(const Parsers& parsers, const orch::Options& options) {
  try {
    for (const auto& [cmd, sub] : parsers) {
      if (cmd->parsed()) return sub->run(options);
    }
  } catch (const orch::UserError& e) {
    std::cerr << "orch: error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const orch::storage::StoreError& e) {
    std::cerr << "orch: error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "orch: error: " << e.what() << "\n";
    return kExitError;
  }
  return kExitError;
}

int run_command_line(int argc, char** argv) {
  log_to_stderr();
  orch::Options options;
  CLI::App app{
      "orch: run training sweeps in isolated workers, record them in SQLite, "
      "and find the best configuration"};
  add_global_options(app, options);
  const Parsers parsers = add_subcommands(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitBadInput;
  }
  return run_parsed_subcommand(parsers, options);
}

}  // namespace
