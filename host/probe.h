// Finds the largest batch size that fits a memory budget: short guarded trials (a few
// optimizer steps each), doubling from a start size until one runs out of memory, then a
// binary search between the last fit and the first failure. Answers are stored per
// memory key and budget and reused.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "host/plugin_catalog.h"
#include "host/run_spec.h"
#include "storage/store.h"

namespace orch {

struct ProbeOptions {
  std::int64_t start = 1;       // first batch size tried
  std::int64_t steps = 3;       // optimizer steps per trial
  bool again = false;           // ignore a stored answer
  std::string cgroup_prefix;    // names the trials' memory cgroups
  double timeout_s = 0;         // per trial
};

struct ProbeResult {
  std::int64_t max_batch_size = 0;  // 0: not even `start` fits
  bool reused = false;              // from an earlier probe, no trial run now
  bool fits_whole_dataset = false;  // stopped at the training split's size
  std::vector<storage::ProbeTrial> trials;
};

// `run` is any run of the memory key; its batch size is replaced by each trial's.
// Throws UserError when a trial fails for a reason other than memory.
ProbeResult probe_batch_size(const RunSpec& run, const PluginCatalog& catalog,
                             storage::Store& store, std::int64_t budget_bytes,
                             const ProbeOptions& options, std::ostream& progress);

// The trials as a table: batch size, result, peak memory.
std::string render_probe(const ProbeResult& result, std::int64_t budget_bytes);

}  // namespace orch
