#include "host/trainer.h"

#include <chrono>
#include <limits>
#include <memory>
#include <stdexcept>

#include "host/stats.h"

namespace orch {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();

std::unique_ptr<torch::optim::Optimizer> make_optimizer(Model& model, const TrainOptions& o) {
  auto params = model.module().parameters();
  if (o.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(o.lr));
  }
  if (o.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(o.lr));
  }
  if (o.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(o.lr));
  }
  throw std::invalid_argument("unknown optimizer '" + o.optimizer + "'");
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
  double mean_accuracy() const { return samples && has_accuracy ? accuracy / samples : kNotMeasured; }
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void validate(Backend& backend, Dataset& dataset, Model& model, std::int64_t batch_size,
              std::int64_t val_size, Totals& totals) {
  torch::NoGradGuard no_grad;
  model.module().eval();
  for (std::int64_t start = 0; start < val_size; start += batch_size) {
    std::int64_t n = std::min(batch_size, val_size - start);
    auto indices = torch::arange(start, start + n, torch::kLong);
    Batch batch = to_device(dataset.batch(Split::kValidation, indices), backend.device());
    torch::Tensor output = model.forward(batch);
    torch::Tensor loss = model.loss(output, batch);
    totals.add(loss.item<double>(), model.evaluate(output, batch), batch.size());
  }
  model.module().train();
}

// Benchmark mode: warm-up, then measured steps over the shuffled data (wrapping around)
// until the throughput estimate is tight enough.
void benchmark(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
               const DatasetInfo& info, const EpochCallback& on_epoch,
               const ProgressCallback& on_progress) {
  auto optimizer = make_optimizer(model, options);
  auto shuffle = at::detail::createCPUGenerator(static_cast<std::uint64_t>(options.seed));
  auto order = torch::randperm(info.train_size, shuffle, torch::kLong);
  std::int64_t position = 0;
  storage::EpochRecord record;
  record.epoch = 1;
  Totals totals;
  const std::int64_t limit = std::max(options.bench_max_steps, options.min_steps);
  auto last_report = Clock::now();
  for (std::int64_t step = 1; step <= options.warmup_steps + limit; ++step) {
    std::int64_t n = std::min(options.batch_size, info.train_size);
    if (position + n > info.train_size) {
      order = torch::randperm(info.train_size, shuffle, torch::kLong);
      position = 0;
    }
    auto step_start = Clock::now();
    Batch batch = to_device(dataset.batch(Split::kTrain, order.slice(0, position, position + n)),
                            backend.device());
    position += n;
    backend.synchronize();
    auto data_ready = Clock::now();
    optimizer->zero_grad();
    torch::Tensor output = model.forward(batch);
    torch::Tensor loss = model.loss(output, batch);
    loss.backward();
    optimizer->step();
    double loss_value = loss.item<double>();
    backend.synchronize();
    auto step_end = Clock::now();
    totals.add(loss_value, model.evaluate(output.detach(), batch), n);
    ++record.steps;
    if (step <= options.warmup_steps) {
      ++record.warmup_steps;
      record.warmup_seconds += std::chrono::duration<double>(step_end - step_start).count();
      continue;
    }
    record.timed_samples += n;
    record.data_seconds += std::chrono::duration<double>(data_ready - step_start).count();
    record.compute_seconds += std::chrono::duration<double>(step_end - data_ready).count();
    record.step_seconds.push_back(std::chrono::duration<double>(step_end - step_start).count());
    auto measured = static_cast<std::int64_t>(record.step_seconds.size());
    if (on_progress && step_end - last_report > std::chrono::milliseconds(500)) {
      on_progress({1, 1, record.steps, options.warmup_steps + limit,
                   n / stats::median(record.step_seconds)});
      last_report = step_end;
    }
    if (measured >= options.min_steps) {
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
  const double batch = static_cast<double>(std::min(options.batch_size, info.train_size));
  record.samples_per_s = record.step_median_s > 0 ? batch / record.step_median_s : 0;
  record.seconds = record.samples_per_s > 0 ? info.train_size / record.samples_per_s : 0;
  record.step_p95_s = stats::percentile(record.step_seconds, 95);
  record.train_loss = totals.mean_loss();
  record.train_accuracy = totals.mean_accuracy();
  record.val_loss = record.val_accuracy = record.val_seconds = kNotMeasured;  // no validation
  on_epoch(record);
}

}  // namespace

void train(Backend& backend, Dataset& dataset, Model& model, const TrainOptions& options,
           const EpochCallback& on_epoch, const ProgressCallback& on_progress) {
  const DatasetInfo info = dataset.info();
  if (info.train_size <= 0) throw std::invalid_argument("the dataset has no training samples");
  torch::manual_seed(static_cast<std::uint64_t>(options.seed));
  model.module().to(backend.device());
  model.module().train();
  if (options.benchmark && options.max_steps == 0) {
    benchmark(backend, dataset, model, options, info, on_epoch, on_progress);
    return;
  }
  auto optimizer = make_optimizer(model, options);

  // Shuffling has its own generator so that the order depends on the seed alone.
  auto shuffle = at::detail::createCPUGenerator(static_cast<std::uint64_t>(options.seed));
  // Warm-up never swallows the whole first epoch: at least one step is always timed.
  const std::int64_t steps_per_epoch = (info.train_size + options.batch_size - 1) / options.batch_size;
  const std::int64_t warmup_steps = std::min(options.warmup_steps, steps_per_epoch - 1);
  std::int64_t step = 0;

  const std::int64_t accumulate = std::max<std::int64_t>(1, options.accumulation_steps);
  auto last_report = Clock::now();
  std::int64_t samples_since_report = 0;
  for (std::int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    storage::EpochRecord record;
    record.epoch = static_cast<int>(epoch);
    Totals train_totals;
    auto order = torch::randperm(info.train_size, shuffle, torch::kLong);

    std::int64_t micro = 0;  // batches since the last optimizer step
    optimizer->zero_grad();
    for (std::int64_t start = 0; start < info.train_size; start += options.batch_size) {
      std::int64_t n = std::min(options.batch_size, info.train_size - start);
      auto step_start = Clock::now();
      Batch batch = to_device(dataset.batch(Split::kTrain, order.slice(0, start, start + n)),
                              backend.device());
      backend.synchronize();
      auto data_ready = Clock::now();
      torch::Tensor output = model.forward(batch);
      torch::Tensor loss = model.loss(output, batch);
      (accumulate > 1 ? loss / static_cast<double>(accumulate) : loss).backward();
      bool last_batch = start + n >= info.train_size;
      if (++micro == accumulate || last_batch) {
        optimizer->step();
        optimizer->zero_grad();
        micro = 0;
      }
      // .item() waits for the step, as a user's loop logging its loss would.
      double loss_value = loss.item<double>();
      backend.synchronize();
      auto step_end = Clock::now();
      // orch's own bookkeeping (train accuracy, progress) stays outside the timed step.
      train_totals.add(loss_value, model.evaluate(output.detach(), batch), n);
      ++record.steps;
      ++step;
      samples_since_report += n;
      if (on_progress && step_end - last_report > std::chrono::milliseconds(500)) {
        double since = std::chrono::duration<double>(step_end - last_report).count();
        on_progress({epoch, options.epochs, record.steps, steps_per_epoch,
                     samples_since_report / since});
        last_report = step_end;
        samples_since_report = 0;
      }
      if (options.max_steps > 0 && step >= options.max_steps * accumulate) break;
      if (step <= warmup_steps) {
        ++record.warmup_steps;
        record.warmup_seconds += std::chrono::duration<double>(step_end - step_start).count();
      } else {
        record.timed_samples += n;
        record.data_seconds += std::chrono::duration<double>(data_ready - step_start).count();
        record.compute_seconds += std::chrono::duration<double>(step_end - data_ready).count();
        record.step_seconds.push_back(std::chrono::duration<double>(step_end - step_start).count());
      }
    }
    // The sum of the timed steps: what training takes, without what orch adds around it.
    for (double seconds : record.step_seconds) record.seconds += seconds;
    record.samples_per_s = record.seconds > 0 ? record.timed_samples / record.seconds : 0;
    record.step_median_s = stats::median(record.step_seconds);
    record.step_p95_s = stats::percentile(record.step_seconds, 95);
    record.train_loss = train_totals.mean_loss();
    record.train_accuracy = train_totals.mean_accuracy();
    if (options.max_steps > 0) {
      record.val_loss = record.val_accuracy = record.val_seconds = kNotMeasured;
      on_epoch(record);  // a memory trial: no validation, one partial epoch
      return;
    }

    auto val_start = Clock::now();
    Totals val_totals;
    validate(backend, dataset, model, options.batch_size, info.val_size, val_totals);
    backend.synchronize();
    record.val_seconds = seconds_since(val_start);
    record.val_loss = val_totals.mean_loss();
    record.val_accuracy = val_totals.mean_accuracy();
    on_epoch(record);
  }
}

}  // namespace orch
