// The table practitioners write by hand before a sweep ("batch 8: 12-16 GB, risky"),
// from the memory model of peaks orch has measured: for every batch size a sweep asks
// for, the predicted peak, the range a single run's peak falls in, and whether it fits
// the budget with the margin the probe keeps. No torch here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/probe/memory_model.h"

namespace orch {

struct MemoryForecast {
  std::string label;  // what the runs of this memory key share, for people
  std::int64_t budget_bytes = 0;
  std::vector<std::int64_t> batch_sizes;     // the sweep's, ascending
  MemoryModel model;                         // fitted from every measured peak of the memory key
  int measured_full_runs = 0;                // of the model's points, runs that finished ok
  double growth_bytes = 0;                   // what a whole run may add over a trial (the probe's)
  std::optional<std::int64_t> probe_answer;  // stored for this key and budget
  std::int64_t largest_measured_batch = 0;
};

enum class MemoryVerdict {
  kFits,        // predicted peak plus the margin stays within the budget
  kRisky,       // the predicted peak fits, but not with the margin
  kDoesNotFit,  // the predicted peak is over the budget
};

MemoryVerdict memory_verdict(const MemoryForecast& forecast, std::int64_t batch_size);

// One table: batch size, predicted peak, likely range, verdict. When the model cannot
// predict yet (fewer than two measured batch sizes), a line that says how to measure.
std::string render_memory_forecast(const MemoryForecast& forecast);

}  // namespace orch
