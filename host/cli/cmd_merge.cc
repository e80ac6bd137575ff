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

}  // namespace

int merge_command(const Options& options) {
  std::vector<ShardManifest> manifests;
  std::vector<Target> targets;
  if (options.merge_inputs.empty()) {
    for (const auto& path : manifests_beside(options.db_path)) {
      manifests.push_back(read_manifest(path));
    }
    if (manifests.empty()) {
      const std::string looked = fs::path(shard_directory(options.db_path, "*")).string();
      throw UserError("nothing to merge: no experiment was submitted beside " + options.db_path +
                      " (no " + looked + "/manifest.json); pass the shard databases: orch --db " +
                      options.db_path + " merge SHARD.db...");
    }
    for (const auto& manifest : manifests) {
      const std::string dir = shard_directory(options.db_path, manifest.experiment);
      for (int i = 0; i < manifest.shards; ++i) {
        std::error_code error;
        const std::string path = shard_database(dir, i);
        targets.push_back({path, &manifest, i, !fs::exists(path, error)});
      }
    }
  } else {
    for (const auto& path : options.merge_inputs) targets.push_back({path});
  }
  // Every file is checked before any is merged, so bad input leaves the main database as
  // it was.
  for (const auto& target : targets) {
    if (!target.missing) storage::check_mergeable(target.path);
  }

  std::cout << "merging into " << options.db_path << "\n";
  int merged = 0, present = 0, conflicts = 0, unfinished = 0, missing = 0;
  std::vector<std::string> conflict_lines, unfinished_lines;
  for (const auto& target : targets) {
    const std::string label = target.manifest
                                  ? "shard " + std::to_string(target.shard) + "/" +
                                        std::to_string(target.manifest->shards) + " of '" +
                                        target.manifest->experiment + "' " + target.path
                                  : target.path;
    if (target.missing) {
      ++missing;
      const auto planned = target.manifest->runs_of(target.shard).size();
      const std::string log = target.manifest->job_id.empty()
                                  ? ""
                                  : "; see " + (fs::path(target.path).parent_path() /
                                                ("slurm-" + target.manifest->job_id + "_" +
                                                 std::to_string(target.shard) + ".out"))
                                                   .string();
      std::cout << label << ": missing (" << planned << (planned == 1 ? " run" : " runs")
                << "): its task has not started yet, or stopped before it wrote anything" << log
                << "\n";
      continue;
    }
    storage::MergeReport report = storage::merge_shard(options.db_path, target.path);
    int open = static_cast<int>(report.unfinished.size());
    for (const auto& conflict : report.conflicts)
      conflict_lines.push_back(storage::describe(conflict));
    if (target.manifest && !target.manifest->auto_batch_size) {
      // Every run of the shard must now have a final row in the main database.
      const auto done = final_keys(options.db_path, target.manifest->experiment);
      std::map<std::string, std::string> in_progress;
      for (const auto& run : report.unfinished) in_progress[run.run_key] = run.status;
      open = 0;
      for (const auto& run : target.manifest->runs_of(target.shard)) {
        if (done.count(run.key)) continue;
        ++open;
        auto found = in_progress.find(run.key);
        unfinished_lines.push_back(
            "run " + run.key + " (" + run.swept + ") of '" + target.manifest->experiment +
            "', shard " + std::to_string(target.shard) + ": " +
            (found != in_progress.end() ? "still " + found->second : "not started yet"));
      }
    } else {
      for (const auto& run : report.unfinished) unfinished_lines.push_back(storage::describe(run));
      if (target.manifest) {
        // batch_size = "auto": the keys follow the probe, so count instead of matching.
        std::set<std::string> finished;
        for (const auto& run : storage::read_runs(target.path, target.manifest->experiment).runs) {
          if (run.status != "pending" && run.status != "running") finished.insert(run.run_key);
        }
        const int planned = static_cast<int>(target.manifest->runs_of(target.shard).size());
        const int not_started = planned - static_cast<int>(finished.size()) - open;
        if (not_started > 0) {
          open += not_started;
          unfinished_lines.push_back(std::to_string(not_started) + " run(s) of shard " +
                                     std::to_string(target.shard) + " of '" +
                                     target.manifest->experiment + "': not started yet");
        }
      }
    }
    std::cout << label << ": merged " << report.runs_merged << ", already present "
              << report.runs_already_present << ", conflicts " << report.conflicts.size()
              << ", unfinished " << open << "\n";
    merged += report.runs_merged;
    present += report.runs_already_present;
    conflicts += static_cast<int>(report.conflicts.size());
    unfinished += open;
  }
  std::cout << "total: merged " << merged << ", already present " << present << ", conflicts "
            << conflicts << ", unfinished " << unfinished << ", missing shards " << missing << "\n";
  print_list("conflicts (the main database keeps its ok row; the shard's is left out):",
             conflict_lines);
  print_list("unfinished (merged by a later `orch merge` once they finish):", unfinished_lines);
  if (missing > 0 || unfinished > 0) {
    std::cout << "incomplete: " << options.db_path << " does not hold every run yet; run "
              << "`orch merge` again when the tasks have finished\n";
    return kExitIncomplete;
  }
  std::cout << (manifests.empty() ? "complete: every finished run of these shards is in "
                                  : "complete: every run of the submitted sweeps is in ")
            << options.db_path
            << (conflicts > 0 ? ", or a run of its key already was (see the conflicts)" : "")
            << "\n";
  return 0;
}

}  // namespace orch
