#include "host/training/benchmark_mode.h"

#include <algorithm>
#include <vector>

#include "host/base/stats.h"

namespace orch::training {
namespace {

// Seconds of each of up to `count` validation batches after one untimed one (its first
// call builds what later calls reuse): what benchmark mode projects validation from.
std::vector<double> time_validation_batches(Backend& backend, Dataset& dataset, Model& model,
                                            const TrainOptions& options, std::int64_t val_size,
                                            std::int64_t count) {
  std::vector<double> seconds;
  for (std::int64_t i = 0; i <= count; ++i) {
    const auto start = Clock::now();
    Totals ignored;
    validate(backend, dataset, model, options, val_size, ignored, 1);
    backend.synchronize();
    if (i > 0) seconds.push_back(seconds_between(start, Clock::now()));
  }
  return seconds;
}

// Whether the timed steps pin the median step down as tightly as [train] asks, so that
// more steps would only cost time.
bool estimate_is_tight(const storage::EpochRecord& record, const TrainOptions& options) {
  if (static_cast<std::int64_t>(record.step_seconds.size()) < options.min_steps) return false;
  // The median's interval: other processes' stalls would keep a mean's open forever.
  stats::Interval interval = stats::median_interval_95(record.step_seconds);
  double median = stats::median(record.step_seconds);
  return median > 0 && (interval.high - interval.low) / 2 <= options.target_rel_ci * median;
}

// The warm-up steps, then timed steps until the estimate is tight or the step limit is
// reached; `loop_start` is when the loop began, for the progress reports' pace.
void measure_steps(Stepper& stepper, ShuffledCycle& order, Model& model,
                   const TrainOptions& options, const DatasetInfo& info,
                   const ProgressCallback& on_progress, Clock::time_point loop_start,
                   storage::EpochRecord& record, Totals& totals) {
  const std::int64_t limit = std::max(options.bench_max_steps, options.min_steps);
  const std::int64_t n = std::min(options.batch_size, info.train_size);
  const std::int64_t group = stepper.group();
  auto last_report = loop_start;
  for (std::int64_t step = 1; step <= options.warmup_steps + limit; ++step) {
    double data_seconds = 0, seconds = 0;
    for (std::int64_t batch = 0; batch < group; ++batch) {
      StepResult result = stepper.step(order.next(n), false);
      data_seconds += result.data_seconds;
      seconds += result.seconds;
      ++record.steps;
      // orch's own bookkeeping (train accuracy) stays outside the timed step.
      if (!options.inference) {
        totals.add(result.loss, model.evaluate(result.output.detach(), result.batch), n);
      }
    }
    if (step <= options.warmup_steps) {
      add_warmup(record, seconds, group);
      continue;
    }
    add_timed(record, n * group, data_seconds, seconds);
    auto now = Clock::now();
    if (on_progress && now - last_report > std::chrono::milliseconds(500)) {
      on_progress({1, 1, record.steps, (options.warmup_steps + limit) * group,
                   n * group / stats::median(record.step_seconds)});
      last_report = now;
    }
    if (estimate_is_tight(record, options)) break;
  }
}

// Throughput from the median step: what the workload sustains, not what a stall costs;
// and the epoch it projects. Returns the seconds of the measured steps.
double project_epoch(storage::EpochRecord& record, std::int64_t train_size,
                     std::int64_t samples_per_step) {
  record.step_median_s = stats::median(record.step_seconds);
  record.samples_per_s =
      record.step_median_s > 0 ? static_cast<double>(samples_per_step) / record.step_median_s : 0;
  record.seconds = record.samples_per_s > 0 ? train_size / record.samples_per_s : 0;
  // Data wait and compute in the same projected epoch, split as in the measured steps, so
  // that their shares of `seconds` stay true however many steps were measured.
  double measured = 0;
  for (double seconds : record.step_seconds) measured += seconds;
  if (measured > 0) {
    record.data_seconds *= record.seconds / measured;
    record.compute_seconds *= record.seconds / measured;
  }
  record.step_p95_s = stats::percentile(record.step_seconds, 95);
  project_from_median(record, train_size, static_cast<double>(samples_per_step));
  return measured;
}

}  // namespace

void benchmark(Stepper& stepper, Backend& backend, Dataset& dataset, Model& model,
               const TrainOptions& options, const DatasetInfo& info, const EpochCallback& on_epoch,
               const ProgressCallback& on_progress) {
  ShuffledCycle order(options.seed, info.train_size);
  storage::EpochRecord record;
  record.epoch = 1;
  Totals totals;
  const std::int64_t n = std::min(options.batch_size, info.train_size);
  const auto loop_start = Clock::now();
  measure_steps(stepper, order, model, options, info, on_progress, loop_start, record, totals);
  const double measured = project_epoch(record, info.train_size, n * stepper.group());
  // What a whole epoch spends outside its steps (orch's bookkeeping, reshuffles), from
  // the measured loop's share per batch.
  const double loop_s = seconds_between(loop_start, Clock::now());
  if (record.steps > 0) {
    const double outside = std::max(0.0, loop_s - measured - record.warmup_seconds);
    record.untimed_seconds = outside / static_cast<double>(record.steps) *
                             static_cast<double>(info.train_size) / static_cast<double>(n);
  }
  record.train_loss = totals.mean_loss();  // NaN when inferring: nothing was measured
  record.train_accuracy = totals.mean_accuracy();
  // No validation pass, so no validation metrics; but its time is projected from a few
  // timed batches, so that the whole training's length can be.
  record.val_loss = record.val_accuracy = record.val_seconds = kNotMeasured;
  if (!options.inference && info.val_size > 0) {
    const std::int64_t val_batches = (info.val_size + n - 1) / n;
    const auto batches = time_validation_batches(backend, dataset, model, options, info.val_size,
                                                 std::min<std::int64_t>(val_batches, 3));
    record.val_seconds = stats::median(batches) * static_cast<double>(val_batches);
  }
  on_epoch(record);
}

}  // namespace orch::training
