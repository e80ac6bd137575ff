#include "host/training/training_step.h"

#include <algorithm>
#include <stdexcept>

#include "host/base/stats.h"
#include "host/training/autocast_guard.h"
#include "host/training/lr_schedule.h"
#include "host/training/optimizer_factory.h"

namespace orch::training {
namespace {

Batch to_device(Batch batch, const torch::Device& device) {
  if (batch.inputs.device() != device) batch.inputs = batch.inputs.to(device);
  if (batch.targets.device() != device) batch.targets = batch.targets.to(device);
  for (auto& [name, tensor] : batch.extra_inputs) {
    if (tensor.device() != device) tensor = tensor.to(device);
  }
  return batch;
}

}  // namespace

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

std::int64_t optimizer_steps_per_epoch(const DatasetInfo& info, const TrainOptions& options) {
  const std::int64_t accumulation = std::max<std::int64_t>(1, options.accumulation_steps);
  const std::int64_t batches_per_epoch =
      (info.train_size + options.batch_size - 1) / options.batch_size;
  return (batches_per_epoch + accumulation - 1) / accumulation;
}

Stepper::Stepper(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
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

StepResult Stepper::step(const torch::Tensor& indices, bool closes_epoch) {
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

void Stepper::optimizer_step() {
  if (options_.grad_clip > 0) {
    torch::nn::utils::clip_grad_norm_(model_.module().parameters(), options_.grad_clip);
  }
  set_lr(*optimizer_,
         scheduled_lr(options_.schedule, options_.lr, steps_done_, steps_per_epoch_, total_steps_));
  optimizer_->step();
  optimizer_->zero_grad();
  if (on_optimizer_step_) on_optimizer_step_({steps_done_, current_lr(*optimizer_)});
  ++steps_done_;
  pending_ = 0;
  if (memory_point_) memory_point_();
}

ShuffledCycle::ShuffledCycle(std::int64_t seed, std::int64_t size)
    : shuffle_(at::detail::createCPUGenerator(static_cast<std::uint64_t>(seed))),
      size_(size),
      order_(torch::randperm(size, shuffle_, torch::kLong)) {}

torch::Tensor ShuffledCycle::next(std::int64_t n) {
  if (position_ + n > size_) {
    order_ = torch::randperm(size_, shuffle_, torch::kLong);
    position_ = 0;
  }
  torch::Tensor indices = order_.slice(0, position_, position_ + n);
  position_ += n;
  return indices;
}

void validate(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
              std::int64_t val_size, Totals& totals, std::int64_t max_batches) {
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

}  // namespace orch::training
