// What a worker tells the host about its run, one JSON object per line on a pipe.
// The host alone turns these into database rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "storage/store.h"

namespace orch {

struct WorkerEvent {
  // kReady: plugins made, data loaded, model built; the first training step comes next.
  // kTrial: a memory trial's report (orch probe), sent before kFinished.
  // kCheckpoint: a checkpoint after epoch.epoch was saved, or (message) why it was skipped.
  enum class Kind { kStarted, kReady, kProgress, kEpoch, kTrial, kFinished, kError, kCheckpoint };
  Kind kind = Kind::kError;
  int pid = 0;                       // started
  std::string backend;               // started: the backend's own description
  std::int64_t train_size = 0;       // started: training samples in the dataset
  storage::EpochRecord epoch;        // epoch; progress: epoch, steps, samples_per_s
  std::int64_t epochs = 0;           // progress: epochs in the run
  std::int64_t steps_per_epoch = 0;  // progress
  std::int64_t peak_rss_bytes = 0;   // trial, finished, error
  std::int64_t trial_steps = 0;      // trial: optimizer steps
  std::int64_t plateau_step = 0;     // trial: when the peak stopped growing; 0 = never
  std::int64_t growth_bytes = 0;     // trial: growth of the peak over its last half
  std::string message;               // error; checkpoint: why it was skipped
  bool out_of_memory = false;        // error: the backend recognised an OOM
};

std::string encode_event(const WorkerEvent& event);  // one line, without '\n'
// Returns nothing for a line that is not a valid event (a plugin writing to the pipe's
// fd by mistake must not crash the host).
std::optional<WorkerEvent> decode_event(const std::string& line);

// Writes events to a file descriptor; used in the worker process only.
class EventWriter {
 public:
  explicit EventWriter(int fd) : fd_(fd) {}
  void send(const WorkerEvent& event);

 private:
  int fd_;
};

}  // namespace orch
