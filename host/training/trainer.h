// The training loop, the same for every plugin: epochs over shuffled batches, the
// optimizer and learning-rate schedule from [train], warm-up steps left out of timing,
// and the backend synchronized before every timestamp so that time means finished work.
// Inference runs the same loop with forward passes only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "host/run/train_options.h"
#include "orch/backend.h"
#include "orch/dataset.h"
#include "orch/model.h"
#include "storage/store.h"

namespace orch {

using EpochCallback = std::function<void(const storage::EpochRecord&)>;

// Where training is, for people watching: sent about twice a second, never per step.
struct TrainProgress {
  std::int64_t epoch = 0;
  std::int64_t epochs = 0;
  std::int64_t step = 0;  // within the epoch
  std::int64_t steps_per_epoch = 0;
  double samples_per_s = 0;  // since the previous progress report
};
using ProgressCallback = std::function<void(const TrainProgress&)>;

// After each optimizer step: its number (0-based, counted over the run) and the
// learning rate the optimizer stepped with, read back from it.
struct OptimizerStep {
  std::int64_t step = 0;
  double lr = 0;
};
using OptimizerStepCallback = std::function<void(const OptimizerStep&)>;

// Checkpoints ([train] checkpoint, host/training/checkpoint.h) of a run trained in full
// epochs: where the worker saves them and where it resumes from.
struct CheckpointPlan {
  std::string prefix;       // "<folder>/<run key>"; empty = no checkpoints
  std::string resume_from;  // a checkpoint file; empty = train from the start
  // After each checkpoint saved (`skipped_why` empty) or skipped (why).
  std::function<void(std::int64_t epoch, const std::string& skipped_why)> on_checkpoint;
  // Epochs after which a checkpoint is saved whatever the options say: the rungs where
  // ASHA may pause the run ([search] promote = true).
  std::vector<int> at_epochs;
};

// What a memory trial saw: the run's own training steps at its batch size until the peak
// memory stopped growing, one validation batch, then steps until it stopped again.
struct TrialReport {
  std::int64_t steps = 0;         // optimizer steps (batches when inferring)
  std::int64_t plateau_step = 0;  // when the peak first stopped growing; 0 = it never did
  std::int64_t growth_bytes = 0;  // how much the peak grew over the last half of the steps after
                                  // the validation batch (of all steps without one)
  std::int64_t peak_bytes = 0;    // the highest memory the worker saw itself hold
};

// Steps at least this many times before a peak can count as having stopped growing.
inline constexpr std::int64_t kTrialMinSteps = 4;

// A memory trial for `orch probe`: the run's precision, optimizer, accumulation and batch
// size, its training loop and its validation batch, without timing or epochs. Stops after
// `max_steps` optimizer steps at the latest. Memory is read through backend.memory() after
// the forward pass, after backward and after each optimizer step.
TrialReport memory_trial(Backend& backend, Dataset& dataset, Model& model,
                         const TrainOptions& options, std::int64_t max_steps);

// Trains `model` on `dataset` and calls `on_epoch` after each epoch with its numbers. In
// benchmark mode there is one record: samples/s is samples per step / median step time
// (a step is one optimizer step: accumulation_steps batches), its `seconds` is the
// projected time of one epoch (training samples / samples/s), and there is no validation.
// With options.inference each epoch is one timed pass of forward passes over the
// training split, without gradients; loss, accuracy and validation are NaN.
// A resumed run trains the epochs after its checkpoint's; its first epoch is marked
// `resumed` and warms up again (a fresh process). Benchmark mode and inference save none.
// Throws std::invalid_argument for a precision the backend does not support, and
// whatever the plugins or LibTorch throw.
void train(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
           const EpochCallback& on_epoch, const ProgressCallback& on_progress = {},
           const OptimizerStepCallback& on_optimizer_step = {},
           const CheckpointPlan& checkpoints = {});

}  // namespace orch
