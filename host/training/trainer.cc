#include "host/training/trainer.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>

#include "host/base/stats.h"
#include "host/training/autocast_guard.h"
#include "host/training/lr_schedule.h"
#include "host/training/optimizer_factory.h"

namespace orch {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

Batch to_device(Batch batch, const torch::Device& device) {
  if (batch.inputs.device() != device) batch.inputs = batch.inputs.to(device);
  if (batch.targets.device() != device) batch.targets = batch.targets.to(device);
  for (auto& [name, tensor] : batch.extra_inputs) {
    if (tensor.device() != device) tensor = tensor.to(device);
  }
  return batch;
}

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
  Stepper(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
          std::int64_t steps_per_epoch, std::int64_t total_steps,
          const OptimizerStepCallback& on_optimizer_step)
      : backend_(backend),
        dataset_(dataset),
        model_(model),
        options_(options),
        group_(options.inference ? 1 : std::max<std::int64_t>(1, options.accumulation_steps)),
        steps_per_epoch_(steps_per_epoch),
        total_steps_(total_steps),
        on_optimizer_step_(on_optimizer_step) {
    if (!options.inference) optimizer_ = make_optimizer(model.module().parameters(), options);
  }

  // Batches per optimizer step: accumulation_steps when training, 1 when inferring.
  std::int64_t group() const { return group_; }
  // Optimizer steps taken so far.
  std::int64_t steps_done() const { return steps_done_; }
  // Called where a step's memory peaks: after the forward pass, after backward and after
  // the optimizer step. Memory trials read the worker's memory there.
  void on_memory_point(std::function<void()> callback) { memory_point_ = std::move(callback); }

  // `closes_epoch`: the last batch of an epoch steps the optimizer even when its
  // accumulation group is incomplete.
  StepResult step(const torch::Tensor& indices, bool closes_epoch) {
    StepResult result;
    auto start = Clock::now();
    result.batch = to_device(dataset_.batch(Split::kTrain, indices), backend_.device());
    result.samples = indices.numel();
    backend_.synchronize();
    auto data_ready = Clock::now();
    torch::Tensor loss;
    {
      AutocastGuard autocast(backend_.device().type(), options_.precision);
      result.output = model_.forward(result.batch);
      if (optimizer_) loss = model_.loss(result.output, result.batch);
    }
    if (memory_point_) memory_point_();
    if (optimizer_) {
      (group_ > 1 ? loss / static_cast<double>(group_) : loss).backward();
      if (memory_point_) memory_point_();
      if (++pending_ == group_ || closes_epoch) optimizer_step();
      // .item() waits for the step, as a user's loop logging its loss would.
      result.loss = loss.item<double>();
    }
    backend_.synchronize();
    auto end = Clock::now();
    result.data_seconds = seconds_between(start, data_ready);
    result.seconds = seconds_between(start, end);
    return result;
  }

 private:
  void optimizer_step() {
    if (options_.grad_clip > 0) {
      torch::nn::utils::clip_grad_norm_(model_.module().parameters(), options_.grad_clip);
    }
    set_lr(*optimizer_, scheduled_lr(options_.schedule, options_.lr, steps_done_, steps_per_epoch_,
                                     total_steps_));
    optimizer_->step();
    optimizer_->zero_grad();
    if (on_optimizer_step_) on_optimizer_step_({steps_done_, current_lr(*optimizer_)});
    ++steps_done_;
    pending_ = 0;
    if (memory_point_) memory_point_();
  }

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

void add_warmup(storage::EpochRecord& record, double seconds, std::int64_t batches) {
  record.warmup_steps += batches;
  record.warmup_seconds += seconds;
}

void add_timed(storage::EpochRecord& record, std::int64_t samples, double data_seconds,
               double seconds) {
  record.timed_samples += samples;
  record.data_seconds += data_seconds;
  record.compute_seconds += seconds - data_seconds;
  record.step_seconds.push_back(seconds);
}

// `max_batches` > 0 stops after that many batches (a memory trial needs one).
void validate(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
              std::int64_t val_size, Totals& totals, std::int64_t max_batches = 0) {
  torch::NoGradGuard no_grad;
  model.module().eval();
  std::int64_t batches = 0;
  for (std::int64_t start = 0; start < val_size; start += options.batch_size) {
    if (max_batches > 0 && batches++ == max_batches) break;
    std::int64_t n = std::min(options.batch_size, val_size - start);
    auto indices = torch::arange(start, start + n, torch::kLong);
    Batch batch = to_device(dataset.batch(Split::kValidation, indices), backend.device());
    AutocastGuard autocast(backend.device().type(), options.precision);
    torch::Tensor output = model.forward(batch);
    torch::Tensor loss = model.loss(output, batch);
    totals.add(loss.item<double>(), model.evaluate(output, batch), batch.size());
  }
  model.module().train();
}

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

// The epoch's training time as its median step predicts it (training samples / samples
// per timed step x the median step), the interval of that projection from the median's,
// the throughput at the median step and how far the slow steps stray from it.
void project_from_median(storage::EpochRecord& record, std::int64_t train_size,
                         double samples_per_step) {
  const double median = stats::median(record.step_seconds);
  if (median <= 0 || samples_per_step <= 0) return;
  const stats::Interval interval = stats::median_interval_95(record.step_seconds);
  const double steps = static_cast<double>(train_size) / samples_per_step;
  record.median_epoch_s = median * steps;
  record.median_epoch_low_s = interval.low * steps;
  record.median_epoch_high_s = interval.high * steps;
  record.median_samples_per_s = samples_per_step / median;
  record.step_dispersion = (stats::percentile(record.step_seconds, 95) - median) / median;
}

// Benchmark mode: warm-up, then measured steps over the shuffled data (wrapping around)
// until the throughput estimate is tight enough. A step is one optimizer step.
void benchmark(Stepper& stepper, Backend& backend, Dataset& dataset, Model& model,
               const TrainOptions& options, const DatasetInfo& info, const EpochCallback& on_epoch,
               const ProgressCallback& on_progress) {
  auto shuffle = at::detail::createCPUGenerator(static_cast<std::uint64_t>(options.seed));
  auto order = torch::randperm(info.train_size, shuffle, torch::kLong);
  std::int64_t position = 0;
  storage::EpochRecord record;
  record.epoch = 1;
  Totals totals;
  const std::int64_t limit = std::max(options.bench_max_steps, options.min_steps);
  const std::int64_t n = std::min(options.batch_size, info.train_size);
  const std::int64_t group = stepper.group();
  auto last_report = Clock::now();
  const auto loop_start = last_report;
  for (std::int64_t step = 1; step <= options.warmup_steps + limit; ++step) {
    double data_seconds = 0, seconds = 0;
    for (std::int64_t batch = 0; batch < group; ++batch) {
      if (position + n > info.train_size) {
        order = torch::randperm(info.train_size, shuffle, torch::kLong);
        position = 0;
      }
      StepResult result = stepper.step(order.slice(0, position, position + n), false);
      position += n;
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
    if (static_cast<std::int64_t>(record.step_seconds.size()) >= options.min_steps) {
      // The median's interval: other processes' stalls would keep a mean's open forever.
      stats::Interval interval = stats::median_interval_95(record.step_seconds);
      double median = stats::median(record.step_seconds);
      if (median > 0 && (interval.high - interval.low) / 2 <= options.target_rel_ci * median) {
        break;  // the estimate is as tight as asked: more steps would only cost time
      }
    }
  }
  // Throughput from the median step: what the workload sustains, not what a stall costs.
  record.step_median_s = stats::median(record.step_seconds);
  record.samples_per_s =
      record.step_median_s > 0 ? static_cast<double>(n * group) / record.step_median_s : 0;
  record.seconds = record.samples_per_s > 0 ? info.train_size / record.samples_per_s : 0;
  // Data wait and compute in the same projected epoch, split as in the measured steps, so
  // that their shares of `seconds` stay true however many steps were measured.
  double measured = 0;
  for (double seconds : record.step_seconds) measured += seconds;
  if (measured > 0) {
    record.data_seconds *= record.seconds / measured;
    record.compute_seconds *= record.seconds / measured;
  }
  record.step_p95_s = stats::percentile(record.step_seconds, 95);
  project_from_median(record, info.train_size, static_cast<double>(n * group));
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

// Full epochs over the shuffled training split, each followed by validation when
// training.
void epochs(Stepper& stepper, Backend& backend, Dataset& dataset, Model& model,
            const TrainOptions& options, const DatasetInfo& info, const EpochCallback& on_epoch,
            const ProgressCallback& on_progress) {
  // Shuffling has its own generator so that the order depends on the seed alone.
  auto shuffle = at::detail::createCPUGenerator(static_cast<std::uint64_t>(options.seed));
  const std::int64_t batches_per_epoch =
      (info.train_size + options.batch_size - 1) / options.batch_size;
  // Warm-up never swallows the whole first epoch: at least one step is always timed.
  const std::int64_t warmup_steps = std::min(options.warmup_steps, batches_per_epoch - 1);
  std::int64_t batches = 0;

  auto last_report = Clock::now();
  std::int64_t samples_since_report = 0;
  for (std::int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    storage::EpochRecord record;
    record.epoch = static_cast<int>(epoch);
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
      if (batches <= warmup_steps) {
        add_warmup(record, result.seconds, 1);
      } else {
        add_timed(record, n, result.data_seconds, result.seconds);
      }
    }
    // The sum of the timed steps: what training takes, without what orch adds around it.
    for (double seconds : record.step_seconds) record.seconds += seconds;
    record.samples_per_s = record.seconds > 0 ? record.timed_samples / record.seconds : 0;
    record.step_median_s = stats::median(record.step_seconds);
    record.step_p95_s = stats::percentile(record.step_seconds, 95);
    if (!record.step_seconds.empty()) {
      project_from_median(record, info.train_size,
                          static_cast<double>(record.timed_samples) /
                              static_cast<double>(record.step_seconds.size()));
    }
    // What the loop spent outside the steps: shuffling, orch's bookkeeping per step.
    record.untimed_seconds = std::max(
        0.0, seconds_between(loop_start, Clock::now()) - record.seconds - record.warmup_seconds);
    record.train_loss = train_totals.mean_loss();  // NaN when inferring
    record.train_accuracy = train_totals.mean_accuracy();
    if (options.inference) {
      record.val_loss = record.val_accuracy = record.val_seconds = kNotMeasured;
      on_epoch(record);
      continue;
    }

    auto val_start = Clock::now();
    Totals val_totals;
    validate(backend, dataset, model, options, info.val_size, val_totals);
    backend.synchronize();
    record.val_seconds = seconds_between(val_start, Clock::now());
    record.val_loss = val_totals.mean_loss();
    record.val_accuracy = val_totals.mean_accuracy();
    on_epoch(record);
  }
}

// What training and a memory trial do first: check the data and precision, seed, and put
// the model on the device in the mode the task needs.
DatasetInfo prepare(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options) {
  const DatasetInfo info = dataset.info();
  if (info.train_size <= 0) throw std::invalid_argument("the dataset has no training samples");
  if (options.precision == Precision::kBf16 && !backend.supports(Precision::kBf16)) {
    throw std::invalid_argument("train.precision = \"bf16\" is not supported by this backend (" +
                                backend.describe() +
                                "); use train.precision = \"fp32\" or a backend with bf16");
  }
  torch::manual_seed(static_cast<std::uint64_t>(options.seed));
  model.module().to(backend.device());
  if (options.inference) {
    model.module().eval();
  } else {
    model.module().train();
  }
  return info;
}

// The running peak of a memory trial, one value per optimizer step.
class PeakTracker {
 public:
  explicit PeakTracker(Backend& backend) : backend_(backend) {}
  void sample() {
    MemoryStats stats = backend_.memory();
    peak_ = std::max({peak_, stats.host_current_bytes, stats.host_peak_bytes,
                      stats.device_current_bytes, stats.device_peak_bytes});
  }
  void close_step() { after_step_.push_back(peak_); }
  std::int64_t steps() const { return static_cast<std::int64_t>(after_step_.size()); }
  std::int64_t peak() const { return peak_; }
  // How much the peak grew over the last half of the steps since step `from` (0-based).
  std::int64_t growth_since_half(std::int64_t from = 0) const {
    const std::int64_t n = steps() - from;
    if (n < 2) return 0;
    return after_step_.back() - after_step_[static_cast<size_t>(from + (n - 1) / 2)];
  }
  // Stopped growing: over the last half of at least kTrialMinSteps steps since `from`, the
  // peak grew by less than 0.5% (1 MiB at least): noise, not a trend.
  bool flat_since(std::int64_t from) const {
    if (steps() - from < kTrialMinSteps) return false;
    const std::int64_t tolerance = std::max<std::int64_t>(1 << 20, peak_ / 200);
    return growth_since_half(from) <= tolerance;
  }

 private:
  Backend& backend_;
  std::int64_t peak_ = 0;
  std::vector<std::int64_t> after_step_;
};

}  // namespace

TrialReport memory_trial(Backend& backend, Dataset& dataset, Model& model,
                         const TrainOptions& options, std::int64_t max_steps) {
  const DatasetInfo info = prepare(backend, dataset, model, options);
  std::optional<c10::InferenceMode> inference_mode;
  if (options.inference) inference_mode.emplace();
  const std::int64_t accumulation = std::max<std::int64_t>(1, options.accumulation_steps);
  const std::int64_t batches_per_epoch =
      (info.train_size + options.batch_size - 1) / options.batch_size;
  const std::int64_t steps_per_epoch = (batches_per_epoch + accumulation - 1) / accumulation;
  // The schedule as the whole run would see it, so that the learning rate is the run's.
  const OptimizerStepCallback no_callback;  // the stepper keeps a reference
  Stepper stepper(backend, dataset, model, options, steps_per_epoch,
                  options.epochs * steps_per_epoch, no_callback);
  PeakTracker peaks(backend);
  stepper.on_memory_point([&] { peaks.sample(); });
  peaks.sample();

  auto shuffle = at::detail::createCPUGenerator(static_cast<std::uint64_t>(options.seed));
  auto order = torch::randperm(info.train_size, shuffle, torch::kLong);
  std::int64_t position = 0;
  const std::int64_t n = std::min(options.batch_size, info.train_size);
  Totals totals;  // the train accuracy is computed per step in a run, so here too
  auto one_step = [&] {
    for (std::int64_t batch = 0; batch < stepper.group(); ++batch) {
      if (position + n > info.train_size) {
        order = torch::randperm(info.train_size, shuffle, torch::kLong);
        position = 0;
      }
      const bool closes = batch + 1 == stepper.group();
      StepResult result = stepper.step(order.slice(0, position, position + n), closes);
      position += n;
      if (!options.inference) {
        totals.add(result.loss, model.evaluate(result.output.detach(), result.batch), n);
      }
    }
    peaks.sample();
    peaks.close_step();
  };

  TrialReport report;
  // Steps until the peak stops growing ...
  while (peaks.steps() < max_steps && !peaks.flat_since(0)) one_step();
  if (peaks.flat_since(0)) report.plateau_step = peaks.steps();
  std::int64_t last_phase = 0;  // where the steps the growth is measured over begin
  // ... then what every epoch ends with, a validation batch at the run's batch size, and
  // steps again until the peak stops growing after it.
  if (!options.inference && info.val_size > 0 && peaks.steps() < max_steps) {
    Totals val_totals;
    validate(backend, dataset, model, options, info.val_size, val_totals, 1);
    peaks.sample();
    const std::int64_t after_validation = peaks.steps();
    while (peaks.steps() < max_steps && !peaks.flat_since(after_validation)) one_step();
    if (!peaks.flat_since(after_validation)) report.plateau_step = 0;
    last_phase = after_validation;
  }
  backend.synchronize();
  peaks.sample();
  report.steps = peaks.steps();
  // The trend of the last phase only: the step up that the validation batch causes is in
  // the peak already and does not repeat, so it is no growth to extrapolate.
  report.growth_bytes = peaks.growth_since_half(last_phase);
  report.peak_bytes = peaks.peak();
  return report;
}

void train(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
           const EpochCallback& on_epoch, const ProgressCallback& on_progress,
           const OptimizerStepCallback& on_optimizer_step) {
  const DatasetInfo info = prepare(backend, dataset, model, options);
  std::optional<c10::InferenceMode> inference_mode;
  // No autograd records at all when inferring: faster than NoGradGuard.
  if (options.inference) inference_mode.emplace();

  const std::int64_t accumulation = std::max<std::int64_t>(1, options.accumulation_steps);
  const std::int64_t batches_per_epoch =
      (info.train_size + options.batch_size - 1) / options.batch_size;
  const std::int64_t steps_per_epoch = (batches_per_epoch + accumulation - 1) / accumulation;
  const bool benchmarking = options.benchmark;
  const std::int64_t total_steps =
      benchmarking ? options.warmup_steps + std::max(options.bench_max_steps, options.min_steps)
                   : options.epochs * steps_per_epoch;
  Stepper stepper(backend, dataset, model, options, steps_per_epoch, total_steps,
                  on_optimizer_step);
  if (benchmarking) {
    benchmark(stepper, backend, dataset, model, options, info, on_epoch, on_progress);
  } else {
    epochs(stepper, backend, dataset, model, options, info, on_epoch, on_progress);
  }
}

}  // namespace orch
