#include "host/cluster/shard.h"

#include <filesystem>

#include "host/base/user_error.h"

namespace orch {
namespace {

bool parse_count(const std::string& text, int& value) {
  if (text.empty() || text.size() > 9) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  value = std::stoi(text);
  return true;
}

}  // namespace

ShardSpec parse_shard(const std::string& text, const std::string& where) {
  const auto slash = text.find('/');
  ShardSpec shard;
  const bool parsed = slash != std::string::npos &&
                      parse_count(text.substr(0, slash), shard.index) &&
                      parse_count(text.substr(slash + 1), shard.count);
  if (!parsed || shard.count < 1 || shard.index >= shard.count) {
    throw UserError(where + ": '" + text + "' is not a shard; write I/N with 0 <= I < N, " +
                    "e.g. 0/4 for the first of four shards (Slurm's SLURM_ARRAY_TASK_ID " +
                    "with --array=0-3)");
  }
  return shard;
}

bool in_shard(int run_position, const ShardSpec& shard) {
  return run_position % shard.count == shard.index;
}

std::vector<RunSpec> runs_of_shard(const std::vector<RunSpec>& runs, const ShardSpec& shard) {
  std::vector<RunSpec> mine;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (in_shard(static_cast<int>(i), shard)) mine.push_back(runs[i]);
  }
  return mine;
}

std::string shard_directory(const std::string& db_path, const std::string& experiment_name) {
  namespace fs = std::filesystem;
  std::error_code ignored;
  const fs::path db = fs::absolute(db_path, ignored);
  return (db.parent_path() / (db.stem().string() + "-shards") / experiment_name).string();
}

std::string shard_database(const std::string& directory, int index) {
  return (std::filesystem::path(directory) / ("shard-" + std::to_string(index) + ".db")).string();
}

}  // namespace orch
