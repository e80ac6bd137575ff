// memory_trial (host/training/trainer.h): the run's own training steps under `orch probe`,
// with the worker's memory read where each step peaks.
#include <algorithm>
#include <optional>
#include <vector>

#include "host/training/trainer.h"
#include "host/training/training_step.h"

namespace orch {
namespace {

using training::ShuffledCycle;
using training::Stepper;
using training::StepResult;
using training::Totals;

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
  const DatasetInfo info = training::prepare(backend, dataset, model, options);
  std::optional<c10::InferenceMode> inference_mode;
  if (options.inference) inference_mode.emplace();
  const std::int64_t steps_per_epoch = training::optimizer_steps_per_epoch(info, options);
  // The schedule as the whole run would see it, so that the learning rate is the run's.
  const OptimizerStepCallback no_callback;  // the stepper keeps a reference
  Stepper stepper(backend, dataset, model, options, steps_per_epoch,
                  options.epochs * steps_per_epoch, no_callback);
  PeakTracker peaks(backend);
  stepper.on_memory_point([&] { peaks.sample(); });
  peaks.sample();

  ShuffledCycle order(options.seed, info.train_size);
  const std::int64_t n = std::min(options.batch_size, info.train_size);
  Totals totals;  // the train accuracy is computed per step in a run, so here too
  auto one_step = [&] {
    for (std::int64_t batch = 0; batch < stepper.group(); ++batch) {
      StepResult result = stepper.step(order.next(n), batch + 1 == stepper.group());
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
    training::validate(backend, dataset, model, options, info.val_size, val_totals, 1);
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

}  // namespace orch
