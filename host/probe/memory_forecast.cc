#include "host/probe/memory_forecast.h"

#include <algorithm>

#include "host/base/memory_budget.h"
#include "host/base/table.h"
#include "host/probe/probe.h"

namespace orch {
namespace {

std::string bytes(double value) { return describe_bytes(static_cast<std::int64_t>(value)); }

}  // namespace

MemoryVerdict memory_verdict(const MemoryForecast& forecast, std::int64_t batch_size) {
  const double peak = forecast.model.peak_at(batch_size);
  const double budget = static_cast<double>(forecast.budget_bytes);
  if (peak > budget) return MemoryVerdict::kDoesNotFit;
  if (peak + margin_at(forecast.model, batch_size, forecast.growth_bytes, forecast.budget_bytes) >
      budget) {
    return MemoryVerdict::kRisky;
  }
  return MemoryVerdict::kFits;
}

std::string render_memory_forecast(const MemoryForecast& forecast) {
  const MemoryModel& model = forecast.model;
  const std::string heading =
      "memory of " + forecast.label + " (budget " + describe_bytes(forecast.budget_bytes) + ")";
  if (!model.usable()) {
    return heading + ": not enough measured peaks to predict (" + std::to_string(model.points) +
           " so far); `orch probe FILE` measures them\n";
  }
  std::string out = heading + ", predicted from " + std::to_string(model.points) +
                    " measured peaks (" + std::to_string(forecast.measured_full_runs) +
                    " of them whole runs): " + describe(model) + "\n";
  TextTable table({"batch size", "predicted peak", "a run peaks within", "verdict"});
  for (std::int64_t batch : forecast.batch_sizes) {
    const double peak = model.peak_at(batch);
    const double spread = kNoiseSigmas * model.prediction_noise_at(batch);
    const double margin = margin_at(model, batch, forecast.growth_bytes, forecast.budget_bytes);
    std::string verdict;
    switch (memory_verdict(forecast, batch)) {
      case MemoryVerdict::kFits:
        verdict = describe_headroom(peak, forecast.budget_bytes);
        break;
      case MemoryVerdict::kRisky:
        verdict = "risky: under the budget by less than the " + bytes(margin) + " margin";
        break;
      case MemoryVerdict::kDoesNotFit:
        verdict = "does not fit: " + bytes(peak - static_cast<double>(forecast.budget_bytes)) +
                  " over the budget";
        break;
    }
    if (batch > forecast.largest_measured_batch) verdict += " (beyond the sizes measured)";
    table.add_row({std::to_string(batch), bytes(peak),
                   model.points >= 3
                       ? bytes(std::max(0.0, peak - spread)) + " - " + bytes(peak + spread)
                       : "-",
                   verdict});
  }
  out += table.render();
  if (forecast.probe_answer) {
    out +=
        "probe answer for this budget: batch size " + std::to_string(*forecast.probe_answer) + "\n";
  }
  return out;
}

}  // namespace orch
