// orch merge [SHARD_DB...]: fold shard databases into the main one (--db). Without
// arguments, the shards of every experiment submitted beside the main database, checked
// against their manifests: a shard whose database is missing, or whose runs have not all
// finished, makes the merge incomplete (exit 3); merging again later adds the rest.
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "host/base/user_error.h"
#include "host/cli/commands.h"
#include "host/cluster/shard.h"
#include "host/cluster/shard_manifest.h"
#include "storage/merge.h"
#include "storage/store.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

// Lists of runs longer than this are cut, with a count of the rest.
constexpr size_t kListed = 20;

// One shard database to merge, and what the manifest planned for it (if there is one).
struct Target {
  std::string path;
  const ShardManifest* manifest = nullptr;
  int shard = -1;
  bool missing = false;
};

// Run keys of the experiment that reached a final state in the database at db_path.
std::set<std::string> final_keys(const std::string& db_path, const std::string& experiment) {
  auto store = storage::Store::OpenForReading(db_path);
  if (!store) return {};
  const auto keys = store->run_keys(experiment, storage::Store::KeysThat::kEnded);
  return {keys.begin(), keys.end()};
}

void print_list(const std::string& heading, const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  std::cout << heading << "\n";
  for (size_t i = 0; i < lines.size() && i < kListed; ++i) std::cout << "  " << lines[i] << "\n";
  if (lines.size() > kListed) std::cout << "  ... and " << lines.size() - kListed << " more\n";
}

// The manifests of every experiment submitted beside the main database; there must be one.
std::vector<ShardManifest> submitted_manifests(const std::string& db_path) {
  std::vector<ShardManifest> manifests;
  for (const auto& path : manifests_beside(db_path)) manifests.push_back(read_manifest(path));
  if (manifests.empty()) {
    const std::string looked = fs::path(shard_directory(db_path, "*")).string();
    throw UserError("nothing to merge: no experiment was submitted beside " + db_path + " (no " +
                    looked + "/manifest.json); pass the shard databases: orch --db " + db_path +
                    " merge SHARD.db...");
  }
  return manifests;
}

// Every shard each manifest planned, present or not.
std::vector<Target> planned_targets(const std::string& db_path,
                                    const std::vector<ShardManifest>& manifests) {
  std::vector<Target> targets;
  for (const auto& manifest : manifests) {
    const std::string dir = shard_directory(db_path, manifest.experiment);
    for (int i = 0; i < manifest.shards; ++i) {
      std::error_code error;
      const std::string path = shard_database(dir, i);
      targets.push_back({path, &manifest, i, !fs::exists(path, error)});
    }
  }
  return targets;
}

std::vector<Target> given_targets(const std::vector<std::string>& paths) {
  std::vector<Target> targets;
  for (const auto& path : paths) targets.push_back({path});
  return targets;
}

// "shard 1/3 of 'exp' PATH", or the path alone when no manifest planned it.
std::string label_of(const Target& target) {
  return target.manifest ? "shard " + std::to_string(target.shard) + "/" +
                               std::to_string(target.manifest->shards) + " of '" +
                               target.manifest->experiment + "' " + target.path
                         : target.path;
}

void print_missing(const Target& target, const std::string& label) {
  const auto planned = target.manifest->runs_of(target.shard).size();
  const std::string log =
      target.manifest->job_id.empty()
          ? ""
          : "; see " +
                (fs::path(target.path).parent_path() /
                 ("slurm-" + target.manifest->job_id + "_" + std::to_string(target.shard) + ".out"))
                    .string();
  std::cout << label << ": missing (" << planned << (planned == 1 ? " run" : " runs")
            << "): its task has not started yet, or stopped before it wrote anything" << log
            << "\n";
}

// The planned runs of the shard without a final row in the main database, each described
// in `lines`; returns how many.
int unfinished_by_key(const std::string& db_path, const Target& target,
                      const storage::MergeReport& report, std::vector<std::string>& lines) {
  const auto done = final_keys(db_path, target.manifest->experiment);
  std::map<std::string, std::string> in_progress;
  for (const auto& run : report.unfinished) in_progress[run.run_key] = status_word(run.status);
  int open = 0;
  for (const auto& run : target.manifest->runs_of(target.shard)) {
    if (done.count(run.key)) continue;
    ++open;
    auto found = in_progress.find(run.key);
    lines.push_back("run " + run.key + " (" + run.swept + ") of '" + target.manifest->experiment +
                    "', shard " + std::to_string(target.shard) + ": " +
                    (found != in_progress.end() ? "still " + found->second : "not started yet"));
  }
  return open;
}

// The shard's runs in progress, and with batch_size = "auto" (the keys follow the probe)
// the planned runs it has no row of yet, counted instead of matched; described in `lines`.
int unfinished_by_count(const Target& target, const storage::MergeReport& report,
                        std::vector<std::string>& lines) {
  int open = static_cast<int>(report.unfinished.size());
  for (const auto& run : report.unfinished) lines.push_back(storage::describe(run));
  if (!target.manifest) return open;
  std::set<std::string> finished;
  for (const auto& run : storage::read_runs(target.path, target.manifest->experiment).runs) {
    if (is_final(run.status)) finished.insert(run.run_key);
  }
  const int planned = static_cast<int>(target.manifest->runs_of(target.shard).size());
  const int not_started = planned - static_cast<int>(finished.size()) - open;
  if (not_started > 0) {
    open += not_started;
    lines.push_back(std::to_string(not_started) + " run(s) of shard " +
                    std::to_string(target.shard) + " of '" + target.manifest->experiment +
                    "': not started yet");
  }
  return open;
}

// What the merge of every target came to.
struct Totals {
  int merged = 0, present = 0, conflicts = 0, unfinished = 0, missing = 0;
  std::vector<std::string> conflict_lines, unfinished_lines;
};

void merge_target(const std::string& db_path, const Target& target, Totals& totals) {
  const std::string label = label_of(target);
  if (target.missing) {
    ++totals.missing;
    print_missing(target, label);
    return;
  }
  storage::MergeReport report = storage::merge_shard(db_path, target.path);
  for (const auto& conflict : report.conflicts) {
    totals.conflict_lines.push_back(storage::describe(conflict));
  }
  // Every run of a shard with a manifest (and run keys known before it ran) must now have
  // a final row in the main database.
  const int open = target.manifest && !target.manifest->auto_batch_size
                       ? unfinished_by_key(db_path, target, report, totals.unfinished_lines)
                       : unfinished_by_count(target, report, totals.unfinished_lines);
  std::cout << label << ": merged " << report.runs_merged << ", already present "
            << report.runs_already_present << ", conflicts " << report.conflicts.size()
            << ", unfinished " << open << "\n";
  totals.merged += report.runs_merged;
  totals.present += report.runs_already_present;
  totals.conflicts += static_cast<int>(report.conflicts.size());
  totals.unfinished += open;
}

// Prints the totals and the verdict; returns the exit code.
int print_totals(const std::string& db_path, bool submitted, const Totals& totals) {
  std::cout << "total: merged " << totals.merged << ", already present " << totals.present
            << ", conflicts " << totals.conflicts << ", unfinished " << totals.unfinished
            << ", missing shards " << totals.missing << "\n";
  print_list("conflicts (the main database keeps its ok row; the shard's is left out):",
             totals.conflict_lines);
  print_list("unfinished (merged by a later `orch merge` once they finish):",
             totals.unfinished_lines);
  if (totals.missing > 0 || totals.unfinished > 0) {
    std::cout << "incomplete: " << db_path << " does not hold every run yet; run "
              << "`orch merge` again when the tasks have finished\n";
    return kExitIncomplete;
  }
  std::cout << (submitted ? "complete: every run of the submitted sweeps is in "
                          : "complete: every finished run of these shards is in ")
            << db_path
            << (totals.conflicts > 0 ? ", or a run of its key already was (see the conflicts)" : "")
            << "\n";
  return 0;
}

}  // namespace

int merge_command(const Options& options) {
  const bool submitted = options.merge_inputs.empty();
  // The targets point into the manifests, which live as long as this command.
  const std::vector<ShardManifest> manifests =
      submitted ? submitted_manifests(options.db_path) : std::vector<ShardManifest>{};
  const std::vector<Target> targets =
      submitted ? planned_targets(options.db_path, manifests) : given_targets(options.merge_inputs);
  // Every file is checked before any is merged, so bad input leaves the main database as
  // it was.
  for (const auto& target : targets) {
    if (!target.missing) storage::check_mergeable(target.path);
  }
  std::cout << "merging into " << options.db_path << "\n";
  Totals totals;
  for (const auto& target : targets) merge_target(options.db_path, target, totals);
  return print_totals(options.db_path, submitted, totals);
}

}  // namespace orch
