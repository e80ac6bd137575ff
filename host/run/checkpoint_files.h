// Where a run's checkpoints live and whether the next one fits its disk budget. No torch
// here: the scheduler finds and removes checkpoints, the worker writes and reads them
// (host/training/checkpoint.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "host/run/train_options.h"

namespace orch {

// Kept free on the checkpoints' filesystem when train.checkpoint_disk is empty.
inline constexpr std::int64_t kCheckpointDiskMargin = std::int64_t{256} << 20;

// "<prefix>-e<epoch>.pt": the epoch in the name lets the host know where a run resumes
// without reading the file.
std::string checkpoint_path(const std::string& prefix, std::int64_t epoch);

struct FoundCheckpoint {
  std::string path;
  std::int64_t epoch = 0;  // epochs done when it was saved
};
// The checkpoint of `prefix` with the most epochs done; nothing when there is none.
std::optional<FoundCheckpoint> latest_checkpoint(const std::string& prefix);

// Removes every checkpoint of `prefix` (and half-written ones) except `keep`.
void remove_checkpoints(const std::string& prefix, const std::string& keep = "");

// Empty when `bytes` more fit into the folder `dir` under `options.checkpoint_disk` (the
// files already there count) and on its filesystem; otherwise why not, in one sentence.
std::string checkpoint_does_not_fit(const TrainOptions& options, const std::string& dir,
                                    std::int64_t bytes);

}  // namespace orch
