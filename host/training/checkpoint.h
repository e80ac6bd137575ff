// Checkpoints of a training run ([train] checkpoint): after an epoch, everything the next
// epoch depends on, so that a run interrupted later resumes bit for bit where it was:
// the model's parameters and buffers, the optimizer's state, the optimizer steps taken
// (the learning-rate schedule is a function of them), the batches trained (warm-up), the
// epochs done, and the state of the global CPU generator and of the shuffle generator.
// Written to a temporary name, synced and renamed, so a checkpoint on disk is always whole.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "host/run/train_options.h"
#include "host/training/training_step.h"
#include "orch/model.h"

namespace orch::training {

// What the epoch loop carries from one epoch to the next besides model and optimizer.
struct LoopState {
  std::int64_t epochs_done = 0;
  std::int64_t batches = 0;  // batches trained so far: warm-up counts them
};

class Checkpointer {
 public:
  // After every checkpoint it saved (`skipped_why` empty) or had to skip (why not).
  using Notify = std::function<void(std::int64_t epoch, const std::string& skipped_why)>;

  // Saves "<prefix>-e<epoch>.pt" files (host/run/checkpoint_files.h) when the options ask
  // for checkpoints and `prefix` is set; resumes from `resume_from` when it is set.
  // `at_epochs`: epochs after which a checkpoint is saved even when the options ask for none.
  Checkpointer(const TrainOptions& options, std::string prefix, std::string resume_from,
               Notify notify, std::vector<int> at_epochs = {});

  // Restores the model, optimizer, steps and generators from `resume_from` and returns
  // the loop's state; epochs_done = 0 when there is nothing to resume. Throws
  // std::runtime_error naming the file when it cannot be read.
  LoopState resume(Model& model, Stepper& stepper, at::Generator& shuffle);

  // After an epoch: saves a checkpoint when one is due. A checkpoint that cannot be
  // written (disk budget, I/O error) is skipped and notified, never fails the training.
  void after_epoch(const LoopState& state, Model& model, Stepper& stepper, at::Generator& shuffle);

 private:
  bool due(const LoopState& state) const;
  void save(const LoopState& state, Model& model, Stepper& stepper, at::Generator& shuffle);

  const TrainOptions& options_;
  std::string prefix_;
  std::string resume_from_;
  Notify notify_;
  std::vector<int> at_epochs_;
  Clock::time_point last_saved_;
};

}  // namespace orch::training
