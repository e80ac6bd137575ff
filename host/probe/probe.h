// Finds the largest batch size whose whole run fits a memory budget. Each trial is a
// guarded worker that runs the run's own training steps (its precision, optimizer and
// accumulation) until the peak memory stops growing, one validation batch, and steps
// again until it stops growing after that (host/training/trainer.h memory_trial). From the
// trials' peaks it fits a memory model (a fixed part plus a part per sample, and how far
// single peaks scatter around it), and the answer is the largest batch size whose
// predicted peak, plus a margin of three standard deviations of that scatter and the
// growth a whole run may add over a trial, stays within the budget. Trials double the
// batch size from a start size until the model can see the answer, then aim at it.
//
// Answers are stored per memory key and budget and reused; a full run that runs out of
// memory at a batch size the probe said fits lowers the stored answer
// (correct_probe_answer), so `batch_size = "auto"` and the next probe see one truth.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/probe/memory_model.h"
#include "host/run/run_spec.h"
#include "storage/store.h"

namespace orch {

struct ProbeOptions {
  std::int64_t start = 1;       // first batch size tried
  std::int64_t max_steps = 32;  // optimizer steps per trial at most
  bool again = false;           // ignore a stored answer
  std::string cgroup_prefix;    // names the trials' memory cgroups
  double timeout_s = 0;         // per trial
  std::string log_dir;          // the trials' own output goes here when set
  // Rehearse the answer: one epoch of the real run at it, validation included, under the
  // budget, lowering the answer until an epoch fits with the margin. Costs an epoch.
  bool rehearse = true;
};

struct ProbeResult {
  storage::ProbeAnswer answer;  // max_batch_size 0: not even `start` fits
  std::int64_t budget_bytes = 0;
  bool reused = false;              // from an earlier probe, no trial run now
  bool fits_whole_dataset = false;  // stopped at the training split's size
  std::vector<storage::ProbeTrial> trials;
  MemoryModel model;  // fitted from the fitting trials
};

// `run` is any run of the memory key; its batch size is replaced by each trial's.
// Throws UserError when a trial fails for a reason other than memory.
ProbeResult probe_batch_size(const RunSpec& run, const PluginCatalog& catalog,
                             storage::Store& store, std::int64_t budget_bytes,
                             const ProbeOptions& options, std::ostream& progress);

// After a full run of `memory_key` ran out of memory at `batch_size` under `budget_bytes`:
// a stored answer at or above that batch size is lowered, by the memory model with the
// shortfall the run showed added to its margin, below `batch_size` in any case. Returns
// the sentence that says so; empty when nothing had to change.
std::string correct_probe_answer(storage::Store& store, const std::string& memory_key,
                                 std::int64_t budget_bytes, std::int64_t batch_size,
                                 std::int64_t run_id);

// The trials as a table (batch size, result, peak, steps, whether the peak stopped
// growing), then the answer with its headroom and what it rests on.
std::string render_probe(const ProbeResult& result);

// "fits with 11% headroom": (budget - predicted peak) / budget.
std::string describe_headroom(double predicted_peak_bytes, std::int64_t budget_bytes);

}  // namespace orch
