// How long a whole training takes, projected from what a run measured: the start of its
// worker, every epoch's training time from its median step, validation, the time the
// loop spends outside its steps, and the warm-up's extra cost once. Benchmark mode
// measures one projected epoch, which the projection repeats for the run's epochs; a
// full run's projection is what the same training takes without other processes' stalls.
// No torch here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/store.h"

namespace orch {

struct TrainingPlan {
  int epochs = 1;               // train.epochs
  std::int64_t batch_size = 1;  // samples per batch
  bool benchmark = false;       // `measured` holds one projected epoch
};

// Seconds; NaN when nothing was measured to project from (no epoch with a median step).
double project_training_seconds(double start_s, const std::vector<storage::EpochRecord>& measured,
                                const TrainingPlan& plan);

// "3 epochs of 3,270 samples, about 24 min": what `orch best` and `orch report` print.
std::string describe_training(int epochs, double samples_per_epoch, double seconds);

// "24 min", "1 h 05 min", "38 s": a duration as people say it.
std::string describe_duration(double seconds);

}  // namespace orch
