// Internal to host/training: benchmark mode, which measures steps instead of training
// whole epochs and projects an epoch from them (host/training/trainer.h says what the
// record then holds).
#pragma once

#include "host/training/training_step.h"

namespace orch::training {

// Warm-up, then measured steps over the shuffled data (wrapping around) until the
// throughput estimate is tight enough; calls `on_epoch` once with the projected epoch.
// A step is one optimizer step.
void benchmark(Stepper& stepper, Backend& backend, Dataset& dataset, Model& model,
               const TrainOptions& options, const DatasetInfo& info, const EpochCallback& on_epoch,
               const ProgressCallback& on_progress);

}  // namespace orch::training
