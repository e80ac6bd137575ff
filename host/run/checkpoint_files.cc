#include "host/run/checkpoint_files.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "host/base/memory_budget.h"

namespace orch {
namespace fs = std::filesystem;

namespace {

// The epoch of a file named "<stem of prefix>-e<epoch>.pt" (or .pt.partial); -1 otherwise.
std::int64_t epoch_of(const std::string& name, const std::string& stem, bool* partial) {
  const std::string head = stem + "-e";
  if (name.compare(0, head.size(), head) != 0) return -1;
  std::string rest = name.substr(head.size());
  *partial = false;
  const std::string partial_tail = ".pt.partial";
  if (rest.size() > partial_tail.size() &&
      rest.compare(rest.size() - partial_tail.size(), partial_tail.size(), partial_tail) == 0) {
    *partial = true;
    rest.resize(rest.size() - partial_tail.size());
  } else if (rest.size() > 3 && rest.compare(rest.size() - 3, 3, ".pt") == 0) {
    rest.resize(rest.size() - 3);
  } else {
    return -1;
  }
  if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::strtoll(rest.c_str(), nullptr, 10);
}

template <class Visit>
void each_checkpoint(const std::string& prefix, Visit visit) {
  const fs::path p(prefix);
  std::error_code error;
  fs::directory_iterator it(p.parent_path(), error);
  if (error) return;
  const std::string stem = p.filename().string();
  for (const auto& entry : it) {
    bool partial = false;
    const std::int64_t epoch = epoch_of(entry.path().filename().string(), stem, &partial);
    if (epoch >= 0) visit(entry.path().string(), epoch, partial);
  }
}

}  // namespace

std::string checkpoint_path(const std::string& prefix, std::int64_t epoch) {
  return prefix + "-e" + std::to_string(epoch) + ".pt";
}

std::optional<FoundCheckpoint> latest_checkpoint(const std::string& prefix) {
  std::optional<FoundCheckpoint> latest;
  each_checkpoint(prefix, [&](const std::string& path, std::int64_t epoch, bool partial) {
    if (!partial && (!latest || epoch > latest->epoch)) latest = FoundCheckpoint{path, epoch};
  });
  return latest;
}

void remove_checkpoints(const std::string& prefix, const std::string& keep) {
  each_checkpoint(prefix, [&](const std::string& path, std::int64_t, bool) {
    std::error_code ignored;
    if (path != keep) fs::remove(path, ignored);
  });
}

std::string checkpoint_does_not_fit(const TrainOptions& options, const std::string& dir,
                                    std::int64_t bytes) {
  std::error_code error;
  const fs::space_info space = fs::space(dir, error);
  if (error) return "cannot read the free space of " + dir + ": " + error.message();
  const auto free_bytes = static_cast<std::int64_t>(space.available);
  if (options.checkpoint_disk.empty()) {
    if (bytes + kCheckpointDiskMargin <= free_bytes) return "";
    return "the checkpoint needs " + describe_bytes(bytes) + " and " + dir + " has " +
           describe_bytes(free_bytes) + " free, of which orch leaves " +
           describe_bytes(kCheckpointDiskMargin) + " (train.checkpoint_disk sets a budget)";
  }
  // A percentage is of the free space; the files already in the folder count.
  MachineMemory disk;
  disk.total_bytes = std::int64_t{1} << 62;
  disk.available_bytes = free_bytes;
  const std::int64_t budget = parse_budget(options.checkpoint_disk, disk, "train.checkpoint_disk");
  std::int64_t used = 0;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::error_code ignored;
    if (entry.is_regular_file(ignored)) used += static_cast<std::int64_t>(entry.file_size(ignored));
  }
  if (used + bytes <= budget && bytes <= free_bytes) return "";
  return "the checkpoint needs " + describe_bytes(bytes) + ", and with the " +
         describe_bytes(used) + " already in " + dir + " that is over train.checkpoint_disk = \"" +
         options.checkpoint_disk + "\" (" + describe_bytes(budget) +
         ") or the free space; raise the budget or remove old checkpoints";
}

}  // namespace orch
