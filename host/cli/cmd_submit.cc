// orch submit --slurm FILE: one Slurm job array for a sweep. Each array task runs its shard
// of the runs (`orch run --shard I/N`) into a database of its own on shared storage, since
// SQLite must not be shared over a network file system; `orch merge` folds them together.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "host/base/memory_budget.h"
#include "host/base/text.h"
#include "host/base/user_error.h"
#include "host/cli/commands.h"
#include "host/cli/prepared_sweep.h"
#include "host/cluster/shard.h"
#include "host/cluster/shard_manifest.h"
#include "host/cluster/subprocess.h"
#include "host/schedule/run_setup.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kMiB = 1ll << 20;
const std::string kTaskId = "${SLURM_ARRAY_TASK_ID}";

// What the orch host process of a task holds beside its worker, whose budget covers the
// worker alone. Measured here (/proc/PID/status of an `orch run` host with LibTorch and the
// cpu, synthetic and mlp plugins loaded, while its worker trained): VmRSS 154 MiB, VmHWM
// 157 MiB, of which RssAnon 58 MiB; the rest is LibTorch's code, file pages the forked
// worker shares and the task's cgroup counts once. Slurm's --mem limits host and worker
// together, so a task asks for the largest run budget plus this, rounded up from 157 MiB
// for plugins that load more libraries.
constexpr std::int64_t kHostHeadroomBytes = 256 * kMiB;

bool shell_safe(const std::string& word) {
  if (word.empty()) return false;
  for (unsigned char c : word) {
    if (!(std::isalnum(c) || std::strchr("_./=:,+@%-", c))) return false;
  }
  return true;
}

std::string single_quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// One argument as bash reads it back unchanged; ${SLURM_ARRAY_TASK_ID} stays expandable.
std::string shell_word(const std::string& word) {
  const auto at = word.find(kTaskId);
  if (at != std::string::npos) {
    const std::string before = word.substr(0, at);
    const std::string after = word.substr(at + kTaskId.size());
    return (before.empty() ? "" : shell_word(before)) + kTaskId +
           (after.empty() ? "" : shell_word(after));
  }
  return shell_safe(word) ? word : single_quoted(word);
}

// sbatch reads #SBATCH lines itself; it accepts a double-quoted value.
std::string directive_value(const std::string& value) {
  return shell_safe(value) ? value : "\"" + value + "\"";
}

std::string absolute(const std::string& path) {
  std::error_code ignored;
  return fs::absolute(path, ignored).lexically_normal().string();
}

std::string this_executable() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error) throw UserError("cannot find the orch binary (/proc/self/exe): " + error.message());
  return exe.string();
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// --cpus-per-task, else the largest thread count the file fixes, else 1.
int cpus_per_task(const Options& options, const std::vector<RunSpec>& runs) {
  if (options.cpus_per_task > 0) return options.cpus_per_task;
  std::int64_t cpus = 1;
  for (const auto& run : runs) cpus = std::max(cpus, fixed_threads(run));
  return static_cast<int>(cpus);
}

struct Submission {
  std::string directory;
  std::string file;  // the experiment file, absolute
  int shards = 1;
  std::int64_t budget_bytes = 0;  // the largest run budget
  std::int64_t mem_mib = 0;       // --mem
  int cpus = 1;
  std::string memory_limit;          // each task's --memory-limit; empty: each run keeps its own
  std::vector<std::string> command;  // each task's orch command line, unquoted
};

std::string command_line(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& word : words) line += (line.empty() ? "" : " ") + shell_word(word);
  return line;
}

std::string job_script(const Options& options, const std::string& name, size_t runs,
                       const Submission& job) {
  std::string array = "0-" + std::to_string(job.shards - 1);
  if (options.array_parallelism > 0) array += "%" + std::to_string(options.array_parallelism);
  std::string script = "#!/bin/bash\n";
  script += "#SBATCH --job-name=" + directive_value("orch-" + name) + "\n";
  script += "#SBATCH --array=" + array + "\n";
  script += "#SBATCH --mem=" + std::to_string(job.mem_mib) + "M\n";
  script += "#SBATCH --cpus-per-task=" + std::to_string(job.cpus) + "\n";
  if (!options.partition.empty()) {
    script += "#SBATCH --partition=" + directive_value(options.partition) + "\n";
  }
  if (!options.time_limit.empty()) {
    script += "#SBATCH --time=" + directive_value(options.time_limit) + "\n";
  }
  script += "#SBATCH --output=" + directive_value(job.directory + "/slurm-%A_%a.out") + "\n";
  script += "# Written by `orch submit --slurm` at " + utc_now() + ": experiment '" + name + "', " +
            std::to_string(runs) + " runs in " + std::to_string(job.shards) + " shards.\n";
  script +=
      "# Task I runs shard I into its own database (SQLite must not be shared over a\n"
      "# network file system); fold them together with `orch merge`. --mem is the\n"
      "# largest run budget (" +
      describe_bytes(job.budget_bytes) + ") plus " + describe_bytes(kHostHeadroomBytes) +
      " for the orch process itself.\n";
  script += "set -euo pipefail\n";
  script += "exec " + command_line(job.command) + "\n";
  return script;
}

std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw UserError("cannot write " + path);
  return path;
}

// The same --shards resumes an earlier submission (each task skips what its database
// finished ok); another count would put runs in other shards than their databases hold.
void check_earlier_submission(const std::string& directory, int shards) {
  const std::string path = manifest_path(directory);
  std::error_code error;
  if (!fs::exists(path, error)) return;
  const ShardManifest earlier = read_manifest(path);
  if (earlier.shards == shards) return;
  throw UserError(directory + " holds an earlier submission of this experiment in " +
                  std::to_string(earlier.shards) + " shards (job " +
                  (earlier.job_id.empty() ? std::string("not submitted") : earlier.job_id) +
                  "), not " + std::to_string(shards) + ": resubmit with --shards " +
                  std::to_string(earlier.shards) +
                  " to resume it, or merge it (`orch merge`) and remove that directory first");
}

void require_slurm(const Options& options) {
  if (!options.slurm) {
    throw UserError(
        "orch submit needs --slurm: Slurm is the only scheduler orch submits to; "
        "add --slurm (with --dry-run to see the job script first)");
  }
}

// The default share and "80%" are of the memory of the machine that runs, not this one.
bool relative_limit(const std::string& limit) {
  return limit.empty() || limit.find('%') != std::string::npos;
}

std::int64_t largest_budget(const std::vector<RunSpec>& runs) {
  std::int64_t budget = 0;
  for (const auto& run : runs) budget = std::max(budget, run_budget(run));
  return budget;
}

void warn_of_swept_relative_limits(const std::set<std::string>& limits, std::int64_t budget) {
  for (const auto& limit : limits) {
    if (relative_limit(limit)) {
      spdlog::warn(
          "train.memory_limit is swept and some values are relative to the memory "
          "of the node that runs them; --mem asks for {} per task, which a larger "
          "share could exceed",
          describe_bytes(budget));
      return;
    }
  }
}

// Budgets become --mem, so each task needs an absolute one (see relative_limit). A budget
// fixed here goes to the tasks as --memory-limit, and the plan is made again with it,
// because the budget is part of every run key. Sets the task's --memory-limit and the
// largest run budget in `job`; may replace `prepared`.
void fix_task_budget(const Options& options, PreparedSweep& prepared, Submission& job) {
  std::set<std::string> limits;
  for (const auto& run : prepared.runs) limits.insert(run.train.memory_limit);
  job.budget_bytes = largest_budget(prepared.runs);
  if (limits.size() != 1) {
    job.memory_limit.clear();  // swept: each run keeps its own
    warn_of_swept_relative_limits(limits, job.budget_bytes);
    return;
  }
  const std::string& limit = *limits.begin();
  if (!relative_limit(limit)) {
    job.memory_limit = limit;  // the same text: the same run keys
    return;
  }
  Options task_options = options;
  task_options.memory_limit = std::to_string(job.budget_bytes / kMiB) + "MiB";
  prepared = prepare_sweep_again(task_options);
  job.memory_limit = task_options.memory_limit;
  job.budget_bytes = run_budget(prepared.runs.front());
}

// --shards, else one per run; never more shards than runs.
int shard_count(const Options& options, const std::string& name, int run_count) {
  const int shards = options.shards > 0 ? options.shards : run_count;
  if (shards <= run_count) return shards;
  spdlog::warn("--shards {} is more than the {} runs of '{}': using {} shards, one run each",
               shards, run_count, name, run_count);
  return run_count;
}

// `orch run --shard ${SLURM_ARRAY_TASK_ID}/N` into the task's own database, with the
// plugin directories, budget and --set of this command.
std::vector<std::string> task_command(const Options& options, const Submission& job) {
  std::vector<std::string> command = {this_executable(), "--db",
                                      job.directory + "/shard-" + kTaskId + ".db"};
  for (const auto& dir : options.plugin_dirs) {
    command.push_back("--plugin-dir");
    command.push_back(absolute(dir));
  }
  for (const auto& word :
       {std::string("run"), job.file, std::string("--shard"),
        kTaskId + "/" + std::to_string(job.shards), std::string("-j"), std::string("1")}) {
    command.push_back(word);
  }
  if (!job.memory_limit.empty()) {
    command.push_back("--memory-limit");
    command.push_back(job.memory_limit);
  }
  for (const auto& set : options.overrides) {
    command.push_back("--set");
    command.push_back(set);
  }
  return command;
}

// The job: shards, --mem, --cpus-per-task and each task's command line. `job` comes with
// its budget from fix_task_budget.
void plan_job(const Options& options, const PreparedSweep& prepared, Submission& job) {
  const std::string& name = prepared.experiment.name;
  job.shards = shard_count(options, name, static_cast<int>(prepared.runs.size()));
  job.directory = shard_directory(options.db_path, name);
  job.mem_mib = (job.budget_bytes + kHostHeadroomBytes + kMiB - 1) / kMiB;
  job.cpus = cpus_per_task(options, prepared.runs);
  job.file = absolute(options.file);
  job.command = task_command(options, job);
}

std::string find_sbatch() {
  const std::string sbatch = find_on_path("sbatch");
  if (sbatch.empty()) {
    throw UserError(
        "sbatch is not on PATH: orch submit needs Slurm's client commands "
        "(sbatch) on this machine; `orch submit --slurm --dry-run` prints the job "
        "script without them");
  }
  return sbatch;
}

ShardManifest manifest_of(const Options& options, const PreparedSweep& prepared,
                          const Submission& job) {
  const std::vector<RunSpec>& runs = prepared.runs;
  ShardManifest manifest;
  manifest.experiment = prepared.experiment.name;
  manifest.file = job.file;
  manifest.shards = job.shards;
  for (size_t i = 0; i < runs.size(); ++i) {
    // Run i of the plan is in shard i mod N (see in_shard), as the tasks will split it.
    const ShardSpec shard{static_cast<int>(i) % job.shards, job.shards};
    manifest.runs.push_back({runs[i].key, runs[i].swept_text(), shard.index});
  }
  manifest.created_at = utc_now();
  manifest.command = command_line(job.command);
  manifest.memory_limit = job.memory_limit;
  manifest.overrides = options.overrides;
  manifest.auto_batch_size = prepared.experiment.auto_batch_size;
  return manifest;
}

// The shard directory with the job script and the manifest in it; returns the script's path.
std::string write_job_files(const Submission& job, const std::string& script,
                            const ShardManifest& manifest) {
  std::error_code error;
  fs::create_directories(job.directory, error);
  if (error) {
    throw UserError("cannot create the shard directory " + job.directory + ": " + error.message() +
                    "; pass a --db in a writable directory");
  }
  const std::string script_path = write_text(job.directory + "/job.sbatch", script);
  fs::permissions(script_path, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add,
                  error);
  write_manifest(manifest_path(job.directory), manifest);
  return script_path;
}

// Returns the Slurm job id.
std::string sbatch_job(const std::string& sbatch, const std::string& script_path) {
  Captured submitted = run_capturing(sbatch, {"--parsable", script_path});
  if (submitted.exit_code != 0) {
    throw UserError("sbatch refused the job (exit " + std::to_string(submitted.exit_code) +
                    "): " + trim(submitted.err.empty() ? submitted.out : submitted.err) +
                    "; the job script is " + script_path);
  }
  // --parsable prints "jobid" or "jobid;cluster".
  std::string job_id = trim(submitted.out);
  job_id = job_id.substr(0, job_id.find(';'));
  if (job_id.empty()) {
    throw UserError("sbatch printed no job id (" + trim(submitted.err) + "); the job script is " +
                    script_path);
  }
  return job_id;
}

void print_submitted(const Options& options, const std::string& name, size_t runs,
                     const Submission& job, const std::string& script_path,
                     const std::string& job_id) {
  const std::string db = shell_word(options.db_path);
  std::cout << "experiment '" << name << "': " << runs << " runs in " << job.shards
            << " array tasks"
            << (options.array_parallelism > 0
                    ? ", at most " + std::to_string(options.array_parallelism) + " at once"
                    : "")
            << "; each asks for " << job.mem_mib << " MiB (a run's budget of "
            << describe_bytes(job.budget_bytes) << " and orch itself) and " << job.cpus
            << (job.cpus == 1 ? " cpu" : " cpus") << "\n"
            << "job script " << script_path << ", shard databases and Slurm output in "
            << job.directory << "\n"
            << "slurm job: " << job_id << "\n"
            << "next: `orch --db " << db << " status " << shell_word(options.file)
            << "` to follow it, then `orch --db " << db
            << " merge` to fold the shard databases into " << options.db_path << "\n";
}

}  // namespace

int submit_command(const Options& options) {
  require_slurm(options);
  // Everything about the input is checked before anything is written.
  PreparedSweep prepared = prepare_sweep(options);
  check_input_paths(prepared.experiment, prepared.runs);
  if (prepared.experiment.search.samples()) {
    // Each point of a search depends on the outcomes before it, which one database holds;
    // array tasks each write their own, since SQLite is not shared over network storage.
    throw UserError("'" + options.file +
                    "' has a sampled [search], and Slurm array tasks each write their own "
                    "database: the tasks could not learn from each other's points. Run the "
                    "search as one job on one node (orch run FILE -j N inside an sbatch "
                    "script), or as several orch run processes sharing a --db on local disk");
  }
  Submission job;
  fix_task_budget(options, prepared, job);
  plan_job(options, prepared, job);
  check_earlier_submission(job.directory, job.shards);

  const std::string& name = prepared.experiment.name;
  const std::string script = job_script(options, name, prepared.runs.size(), job);
  if (options.dry_run) {
    std::cout << script;
    return 0;
  }
  const std::string sbatch = find_sbatch();
  ShardManifest manifest = manifest_of(options, prepared, job);
  const std::string script_path = write_job_files(job, script, manifest);
  manifest.job_id = sbatch_job(sbatch, script_path);
  write_manifest(manifest_path(job.directory), manifest);
  print_submitted(options, name, prepared.runs.size(), job, script_path, manifest.job_id);
  return 0;
}

}  // namespace orch
