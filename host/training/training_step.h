// Internal to host/training: what the trainer's loops share (full epochs in trainer.cc,
// benchmark mode in benchmark_mode.cc, memory trials in memory_trial.cc): the set-up every
// loop starts with, one batch through the model as the trainer times it, the validation
// pass, and the bookkeeping of an epoch's record.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>

#include "host/run/train_options.h"
#include "host/training/trainer.h"
#include "orch/backend.h"
#include "orch/dataset.h"
#include "orch/model.h"
#include "storage/store.h"

namespace orch::training {

using Clock = std::chrono::steady_clock;
inline constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();

inline double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// What training and a memory trial do first: check the data and precision, seed, and put
// the model on the device in the mode the task needs. Throws std::invalid_argument for an
// empty training split or a precision the backend does not support.
DatasetInfo prepare(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options);

// Optimizer steps in one epoch of the training split: accumulation_steps batches each, the
// last one perhaps fewer.
std::int64_t optimizer_steps_per_epoch(const DatasetInfo& info, const TrainOptions& options);

// Sample-weighted sums of loss and metrics over an epoch.
struct Totals {
  double loss = 0;
  double accuracy = 0;
  std::int64_t samples = 0;
  void add(double batch_loss, const Metrics& metrics, std::int64_t n) {
    loss += batch_loss * n;
    auto it = metrics.find("accuracy");
    if (it != metrics.end()) {
      accuracy += it->second * n;
      has_accuracy = true;
    }
    samples += n;
  }
  bool has_accuracy = false;
  double mean_loss() const { return samples ? loss / samples : kNotMeasured; }
  double mean_accuracy() const {
    return samples && has_accuracy ? accuracy / samples : kNotMeasured;
  }
};

// One batch through the model, as the trainer times it.
struct StepResult {
  std::int64_t samples = 0;
  double data_seconds = 0;  // fetching the batch onto the device
  double seconds = 0;       // the whole step
  double loss = kNotMeasured;
  Batch batch;
  torch::Tensor output;
};

// What training and inference share: fetch a batch, run it through the model at the
// run's precision, and when training, backward and, once per `accumulation_steps`
// batches, the clipped optimizer step at the scheduled learning rate.
class Stepper {
 public:
  // `steps_per_epoch` and `total_steps` count optimizer steps; the schedule follows them.
  // Keeps references to `options` and `on_optimizer_step`: both must outlive it.
  Stepper(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
          std::int64_t steps_per_epoch, std::int64_t total_steps,
          const OptimizerStepCallback& on_optimizer_step);

  // Batches per optimizer step: accumulation_steps when training, 1 when inferring.
  std::int64_t group() const { return group_; }
  // Optimizer steps taken so far.
  std::int64_t steps_done() const { return steps_done_; }
  // The optimizer, for checkpoints; none when inferring.
  torch::optim::Optimizer* optimizer() { return optimizer_.get(); }
  // A resumed run goes on from the step count of its checkpoint (the schedule follows it).
  void resume_at(std::int64_t steps_done) { steps_done_ = steps_done; }
  // Called where a step's memory peaks: after the forward pass, after backward and after
  // the optimizer step. Memory trials read the worker's memory there.
  void on_memory_point(std::function<void()> callback) { memory_point_ = std::move(callback); }

  // `closes_epoch`: the last batch of an epoch steps the optimizer even when its
  // accumulation group is incomplete.
  StepResult step(const torch::Tensor& indices, bool closes_epoch);

 private:
  void optimizer_step();

  Backend& backend_;
  Dataset& dataset_;
  Model& model_;
  const TrainOptions& options_;
  const std::int64_t group_;
  const std::int64_t steps_per_epoch_;
  const std::int64_t total_steps_;
  const OptimizerStepCallback& on_optimizer_step_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;  // none when inferring
  std::int64_t pending_ = 0;                            // batches since the last optimizer step
  std::int64_t steps_done_ = 0;                         // optimizer steps so far
  std::function<void()> memory_point_;
};

// The training split's indices in a shuffled order that starts over, reshuffled, when too
// few are left for a whole batch: benchmark mode and memory trials count steps, not epochs.
// Shuffling has its own generator so that the order depends on the seed alone.
class ShuffledCycle {
 public:
  ShuffledCycle(std::int64_t seed, std::int64_t size);
  // The next `n` indices (n <= size).
  torch::Tensor next(std::int64_t n);

 private:
  at::Generator shuffle_;
  std::int64_t size_;
  torch::Tensor order_;
  std::int64_t position_ = 0;
};

// `max_batches` > 0 stops after that many batches (a memory trial needs one).
void validate(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
              std::int64_t val_size, Totals& totals, std::int64_t max_batches = 0);

// A step left out of timing (`batches` batches of it), or a timed one.
void add_warmup(storage::EpochRecord& record, double seconds, std::int64_t batches);
void add_timed(storage::EpochRecord& record, std::int64_t samples, double data_seconds,
               double seconds);

// The epoch's training time as its median step predicts it (training samples / samples
// per timed step x the median step), the interval of that projection from the median's,
// the throughput at the median step and how far the slow steps stray from it.
void project_from_median(storage::EpochRecord& record, std::int64_t train_size,
                         double samples_per_step);

}  // namespace orch::training
