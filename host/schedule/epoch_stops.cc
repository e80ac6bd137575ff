#include "host/schedule/epoch_stops.h"

#include <cmath>
#include <cstdio>

namespace orch {
namespace {

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

}  // namespace

double epoch_metric(const storage::EpochRecord& epoch, const std::string& metric) {
  if (metric == "val_accuracy") return epoch.val_accuracy;
  if (metric == "val_loss") return epoch.val_loss;
  if (metric == "train_loss") return epoch.train_loss;
  if (metric == "step_median_s") return epoch.step_median_s;
  if (metric == "samples_per_s") {
    return std::isfinite(epoch.median_samples_per_s) ? epoch.median_samples_per_s
                                                     : epoch.samples_per_s;
  }
  // epoch_s: from the median step, as the ranking compares it.
  return std::isfinite(epoch.median_epoch_s) ? epoch.median_epoch_s : epoch.seconds;
}

std::unique_ptr<EpochStops> EpochStops::of(const Experiment& experiment, storage::Store& store,
                                           std::int64_t machine_id) {
  std::unique_ptr<Pruner> pruner = make_pruner(experiment.search.prune);
  if (!pruner && !experiment.objective.target) return nullptr;
  return std::unique_ptr<EpochStops>(
      new EpochStops(experiment, store, std::move(pruner), machine_id));
}

EpochStops::EpochStops(const Experiment& experiment, storage::Store& store,
                       std::unique_ptr<Pruner> pruner, std::int64_t machine_id)
    : experiment_(experiment), store_(store), pruner_(std::move(pruner)), machine_id_(machine_id) {}

EpochValues reported_by_epoch(const Experiment& experiment, storage::Store& store,
                              std::int64_t machine_id, std::int64_t except_run_id) {
  const Objective& objective = experiment.objective;
  EpochValues seen;
  for (const storage::RunSummary& run : store.latest_runs(experiment.name, machine_id)) {
    if (run.run_id == except_run_id) continue;
    for (const storage::EpochRecord& epoch : store.epochs_of(run.run_id)) {
      const double value = epoch_metric(epoch, objective.metric);
      if (std::isfinite(value)) seen[epoch.epoch].push_back(objective.maximize ? -value : value);
    }
  }
  return seen;
}

std::optional<EpochStop> EpochStops::after_epoch(const RunSpec& run, std::int64_t run_id,
                                                 const storage::EpochRecord& epoch) {
  if (epoch.epoch >= run.train.epochs) return std::nullopt;
  const Objective& objective = experiment_.objective;
  if (const auto& target = objective.target) {
    const double reached = epoch_metric(epoch, target->metric);
    if (std::isfinite(reached) && target->met_by(reached)) {
      return EpochStop{RunStatus::kOk, "reached " + target->describe() + " at epoch " +
                                           std::to_string(epoch.epoch) + " (" + target->metric +
                                           " " + number(reached) + ")"};
    }
  }
  if (!pruner_) return std::nullopt;
  const double value = epoch_metric(epoch, objective.metric);
  if (!std::isfinite(value)) return std::nullopt;
  auto why = pruner_->should_prune(reported_by_epoch(experiment_, store_, machine_id_, run_id),
                                   epoch.epoch, objective.maximize ? -value : value);
  if (!why) return std::nullopt;
  const char* verb = experiment_.search.prune.promote ? "paused by " : "pruned by ";
  return EpochStop{RunStatus::kPruned,
                   verb + std::string(prune_word(experiment_.search.prune.rule)) + ": " +
                       objective.metric + " " + number(value) + " " + *why};
}

}  // namespace orch
