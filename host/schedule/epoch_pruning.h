// [search] prune = "median" or "asha", applied while runs train: after each epoch, a
// run's value of the objective's metric is compared with what the experiment's other runs
// reported at the same epoch, and a run that falls behind is stopped ("pruned").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "host/run/run_spec.h"
#include "host/search/pruner.h"
#include "host/sweep/experiment.h"
#include "storage/store.h"

namespace orch {

class EpochPruning {
 public:
  // Null when the experiment prunes nothing.
  static std::unique_ptr<EpochPruning> of(const Experiment& experiment, storage::Store& store);

  // Why run `run_id` (of `run`) should stop after reporting `epoch`, for the run's row:
  // "pruned at epoch 3 by asha: val_accuracy 0.81 is not in the best 1/3 of 7 runs there";
  // nothing when it goes on. The last epoch is never pruned: the run has finished.
  std::optional<std::string> after_epoch(const RunSpec& run, std::int64_t run_id,
                                         const storage::EpochRecord& epoch);

 private:
  EpochPruning(const Experiment& experiment, storage::Store& store, std::unique_ptr<Pruner> pruner);
  // What every other run of the experiment's name reported, by epoch, lower is better.
  EpochValues others(std::int64_t run_id);

  const Experiment& experiment_;
  storage::Store& store_;
  std::unique_ptr<Pruner> pruner_;
};

// The objective's metric of one epoch (the choices a pruner accepts), as reported.
double epoch_metric(const storage::EpochRecord& epoch, const std::string& metric);

}  // namespace orch
