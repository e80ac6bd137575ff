#include "host/training/trainer.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "host/base/stats.h"
#include "host/training/benchmark_mode.h"
#include "host/training/checkpoint.h"
#include "host/training/training_step.h"

namespace orch {
namespace {

using training::Clock;
using training::kNotMeasured;
using training::seconds_between;
using training::Stepper;
using training::StepResult;
using training::Totals;

// The epoch's timing from its timed steps, and what its loop spent outside them.
void close_epoch_timing(storage::EpochRecord& record, std::int64_t train_size,
                        Clock::time_point loop_start) {
  // The sum of the timed steps: what training takes, without what orch adds around it.
  for (double seconds : record.step_seconds) record.seconds += seconds;
  record.samples_per_s = record.seconds > 0 ? record.timed_samples / record.seconds : 0;
  record.step_median_s = stats::median(record.step_seconds);
  record.step_p95_s = stats::percentile(record.step_seconds, 95);
  if (!record.step_seconds.empty()) {
    training::project_from_median(record, train_size,
                                  static_cast<double>(record.timed_samples) /
                                      static_cast<double>(record.step_seconds.size()));
  }
  // What the loop spent outside the steps: shuffling, orch's bookkeeping per step.
  record.untimed_seconds = std::max(
      0.0, seconds_between(loop_start, Clock::now()) - record.seconds - record.warmup_seconds);
}

// The validation pass after a training epoch, timed; when inferring there is none.
void validate_epoch(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
                    const DatasetInfo& info, storage::EpochRecord& record) {
  if (options.inference) {
    record.val_loss = record.val_accuracy = record.val_seconds = kNotMeasured;
    return;
  }
  auto val_start = Clock::now();
  Totals val_totals;
  training::validate(backend, dataset, model, options, info.val_size, val_totals);
  backend.synchronize();
  record.val_seconds = seconds_between(val_start, Clock::now());
  record.val_loss = val_totals.mean_loss();
  record.val_accuracy = val_totals.mean_accuracy();
}

// Full epochs over the shuffled training split, each followed by validation when
// training.
void epochs(Stepper& stepper, Backend& backend, Dataset& dataset, Model& model,
            const TrainOptions& options, const DatasetInfo& info, const EpochCallback& on_epoch,
            const ProgressCallback& on_progress, const CheckpointPlan& plan) {
  // Shuffling has its own generator so that the order depends on the seed alone.
  auto shuffle = at::detail::createCPUGenerator(static_cast<std::uint64_t>(options.seed));
  const std::int64_t batches_per_epoch =
      (info.train_size + options.batch_size - 1) / options.batch_size;
  training::Checkpointer checkpointer(options, plan.prefix, plan.resume_from, plan.on_checkpoint,
                                      plan.at_epochs);
  const training::LoopState resumed = checkpointer.resume(model, stepper, shuffle);
  std::int64_t batches = resumed.batches;
  // Warm-up never swallows the whole first epoch: at least one step is always timed. A
  // resumed run warms up again: its first steps run in a fresh process.
  const std::int64_t warmup_until = batches + std::min(options.warmup_steps, batches_per_epoch - 1);

  auto last_report = Clock::now();
  std::int64_t samples_since_report = 0;
  for (std::int64_t epoch = resumed.epochs_done + 1; epoch <= options.epochs; ++epoch) {
    storage::EpochRecord record;
    record.epoch = static_cast<int>(epoch);
    record.resumed = resumed.epochs_done > 0 && epoch == resumed.epochs_done + 1;
    Totals train_totals;
    const auto loop_start = Clock::now();
    auto order = torch::randperm(info.train_size, shuffle, torch::kLong);
    for (std::int64_t start = 0; start < info.train_size; start += options.batch_size) {
      std::int64_t n = std::min(options.batch_size, info.train_size - start);
      StepResult result =
          stepper.step(order.slice(0, start, start + n), start + n >= info.train_size);
      // orch's own bookkeeping (train accuracy, progress) stays outside the timed step.
      if (!options.inference) {
        train_totals.add(result.loss, model.evaluate(result.output.detach(), result.batch), n);
      }
      ++record.steps;
      ++batches;
      samples_since_report += n;
      auto now = Clock::now();
      if (on_progress && now - last_report > std::chrono::milliseconds(500)) {
        on_progress({epoch, options.epochs, record.steps, batches_per_epoch,
                     samples_since_report / seconds_between(last_report, now)});
        last_report = now;
        samples_since_report = 0;
      }
      if (batches <= warmup_until) {
        training::add_warmup(record, result.seconds, 1);
      } else {
        training::add_timed(record, n, result.data_seconds, result.seconds);
      }
    }
    close_epoch_timing(record, info.train_size, loop_start);
    record.train_loss = train_totals.mean_loss();  // NaN when inferring
    record.train_accuracy = train_totals.mean_accuracy();
    validate_epoch(backend, dataset, model, options, info, record);
    // Saved before the epoch is reported: the host may stop the run on that report (a
    // pause at an ASHA rung), and the checkpoint it goes on from later must be whole.
    checkpointer.after_epoch({epoch, batches}, model, stepper, shuffle);
    on_epoch(record);
  }
}

}  // namespace

void train(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
           const EpochCallback& on_epoch, const ProgressCallback& on_progress,
           const OptimizerStepCallback& on_optimizer_step, const CheckpointPlan& checkpoints) {
  const DatasetInfo info = training::prepare(backend, dataset, model, options);
  std::optional<c10::InferenceMode> inference_mode;
  // No autograd records at all when inferring: faster than NoGradGuard.
  if (options.inference) inference_mode.emplace();

  const std::int64_t steps_per_epoch = training::optimizer_steps_per_epoch(info, options);
  const bool benchmarking = options.benchmark;
  const std::int64_t total_steps =
      benchmarking ? options.warmup_steps + std::max(options.bench_max_steps, options.min_steps)
                   : options.epochs * steps_per_epoch;
  Stepper stepper(backend, dataset, model, options, steps_per_epoch, total_steps,
                  on_optimizer_step);
  if (benchmarking) {
    training::benchmark(stepper, backend, dataset, model, options, info, on_epoch, on_progress);
  } else {
    epochs(stepper, backend, dataset, model, options, info, on_epoch, on_progress, checkpoints);
  }
}

}  // namespace orch
