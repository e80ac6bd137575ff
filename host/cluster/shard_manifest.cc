#include "host/cluster/shard_manifest.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "host/base/user_error.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

// Bumped when a field changes meaning; read_manifest refuses versions it does not know.
constexpr int kManifestVersion = 1;

}  // namespace

std::vector<ManifestRun> ShardManifest::runs_of(int shard) const {
  std::vector<ManifestRun> mine;
  for (const auto& run : runs) {
    if (run.shard == shard) mine.push_back(run);
  }
  return mine;
}

std::string manifest_path(const std::string& shard_directory) {
  return (fs::path(shard_directory) / "manifest.json").string();
}

void write_manifest(const std::string& path, const ShardManifest& manifest) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& run : manifest.runs) {
    runs.push_back({{"key", run.key}, {"swept", run.swept}, {"shard", run.shard}});
  }
  nlohmann::json json = {{"manifest_version", kManifestVersion},
                         {"experiment", manifest.experiment},
                         {"file", manifest.file},
                         {"shards", manifest.shards},
                         {"job_id", manifest.job_id},
                         {"created_at", manifest.created_at},
                         {"command", manifest.command},
                         {"memory_limit", manifest.memory_limit},
                         {"overrides", manifest.overrides},
                         {"auto_batch_size", manifest.auto_batch_size},
                         {"runs", runs}};
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << json.dump(2) << "\n";
    if (!out) throw UserError("cannot write the shard manifest " + temporary);
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    throw UserError("cannot write the shard manifest " + path + ": " + error.message());
  }
}

ShardManifest read_manifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read the shard manifest " + path + ": no such file");
  const std::string fix = "; it is written by `orch submit --slurm`: remove the directory " +
                          fs::path(path).parent_path().string() +
                          " after merging what is "
                          "there, and submit again";
  nlohmann::json json;
  try {
    in >> json;
  } catch (const nlohmann::json::exception& e) {
    throw UserError("shard manifest " + path + " is not valid JSON (" + e.what() + ")" + fix);
  }
  ShardManifest manifest;
  try {
    const int version = json.at("manifest_version").get<int>();
    if (version != kManifestVersion) {
      throw UserError("shard manifest " + path + " has version " + std::to_string(version) +
                      ", which this orch does not know (it knows " +
                      std::to_string(kManifestVersion) + "); use the orch that submitted it");
    }
    manifest.experiment = json.at("experiment").get<std::string>();
    manifest.file = json.at("file").get<std::string>();
    manifest.shards = json.at("shards").get<int>();
    manifest.job_id = json.at("job_id").get<std::string>();
    manifest.created_at = json.at("created_at").get<std::string>();
    manifest.command = json.at("command").get<std::string>();
    manifest.memory_limit = json.at("memory_limit").get<std::string>();
    manifest.overrides = json.at("overrides").get<std::vector<std::string>>();
    manifest.auto_batch_size = json.at("auto_batch_size").get<bool>();
    for (const auto& run : json.at("runs")) {
      manifest.runs.push_back({run.at("key").get<std::string>(), run.at("swept").get<std::string>(),
                               run.at("shard").get<int>()});
    }
  } catch (const nlohmann::json::exception& e) {
    throw UserError("shard manifest " + path + " is incomplete (" + e.what() + ")" + fix);
  }
  if (manifest.shards < 1) {
    throw UserError("shard manifest " + path + " says " + std::to_string(manifest.shards) +
                    " shards" + fix);
  }
  return manifest;
}

std::vector<std::string> manifests_beside(const std::string& db_path) {
  std::error_code error;
  const fs::path db = fs::absolute(db_path, error);
  const fs::path shards = db.parent_path() / (db.stem().string() + "-shards");
  std::vector<std::string> found;
  if (!fs::is_directory(shards, error)) return found;
  for (const auto& entry : fs::directory_iterator(shards, error)) {
    const fs::path manifest = entry.path() / "manifest.json";
    if (entry.is_directory(error) && fs::exists(manifest, error))
      found.push_back(manifest.string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace orch
