// What may end a run after one of its epochs, before its last: [objective] metric =
// "time_to_target" stops a run that reached the target (it finished: status ok), and
// [search] prune = "median" or "asha" compares the run's value of the objective's metric
// with what the experiment's other runs reported at the same epoch, and stops a run that
// falls behind (status pruned).
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

// A run to stop now, how it ends, and why (for its row).
struct EpochStop {
  RunStatus status = RunStatus::kPruned;  // kOk: it reached the target
  std::string why;
};

class EpochStops {
 public:
  // Null when the experiment neither prunes nor races to a target. Compares with the runs
  // of machine `machine_id` only (0: every machine's).
  static std::unique_ptr<EpochStops> of(const Experiment& experiment, storage::Store& store,
                                        std::int64_t machine_id = 0);

  // Whether run `run_id` (of `run`) stops after reporting `epoch`: "reached val_accuracy
  // >= 0.97 at epoch 4", or "pruned by asha: val_accuracy 0.81 at epoch 3, an ASHA rung,
  // ..."; nothing when it goes on. Never after the last epoch: the run has finished.
  std::optional<EpochStop> after_epoch(const RunSpec& run, std::int64_t run_id,
                                       const storage::EpochRecord& epoch);

 private:
  EpochStops(const Experiment& experiment, storage::Store& store, std::unique_ptr<Pruner> pruner,
             std::int64_t machine_id);
  const Experiment& experiment_;
  storage::Store& store_;
  std::unique_ptr<Pruner> pruner_;
  std::int64_t machine_id_;
};

// The objective's metric of one epoch (the choices a pruner accepts), as reported.
double epoch_metric(const storage::EpochRecord& epoch, const std::string& metric);

// What the latest runs of the experiment's name on machine `machine_id` (0: every
// machine's) reported of the objective's metric, by epoch, lower is better; run
// `except_run_id` left out.
EpochValues reported_by_epoch(const Experiment& experiment, storage::Store& store,
                              std::int64_t machine_id, std::int64_t except_run_id = 0);

}  // namespace orch
