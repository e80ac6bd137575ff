// The training loop, the same for every plugin: epochs over shuffled batches, the
// optimizer from [train], warm-up steps left out of timing, and the backend synchronized
// before every timestamp so that time means finished work.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "orch/backend.h"
#include "orch/dataset.h"
#include "orch/model.h"
#include "storage/store.h"

namespace orch {

struct TrainOptions {
  std::int64_t epochs = 1;
  std::int64_t batch_size = 32;
  std::string optimizer = "adam";
  double lr = 1e-3;
  std::int64_t warmup_steps = 3;
  std::int64_t seed = 0;
  // Gradients of this many batches are summed before each optimizer step, so that
  // batch_size x accumulation_steps samples make one update.
  std::int64_t accumulation_steps = 1;
  // A memory trial: stop after this many optimizer steps and skip validation; 0 = off.
  std::int64_t max_steps = 0;
  // Benchmark mode: after the warm-up, measured steps until the 95% interval of the
  // median step time is within `target_rel_ci` of it (at least `min_steps`, at most
  // `max_steps`), instead of full epochs.
  bool benchmark = false;
  std::int64_t min_steps = 20;
  std::int64_t bench_max_steps = 1000;
  double target_rel_ci = 0.02;
};

using EpochCallback = std::function<void(const storage::EpochRecord&)>;

// Where training is, for people watching: sent about twice a second, never per step.
struct TrainProgress {
  std::int64_t epoch = 0;
  std::int64_t epochs = 0;
  std::int64_t step = 0;             // within the epoch
  std::int64_t steps_per_epoch = 0;
  double samples_per_s = 0;          // since the previous progress report
};
using ProgressCallback = std::function<void(const TrainProgress&)>;

// Trains `model` on `dataset` and calls `on_epoch` after each epoch with its numbers. In
// benchmark mode there is one record: samples/s is batch / median step time, its
// `seconds` is the projected time of one epoch (training samples / samples/s), and
// there is no validation.
// Throws whatever the plugins or LibTorch throw.
void train(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
           const EpochCallback& on_epoch, const ProgressCallback& on_progress = {});

}  // namespace orch
