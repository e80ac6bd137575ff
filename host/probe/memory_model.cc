#include "host/probe/memory_model.h"

#include <algorithm>
#include <cmath>

#include "host/base/memory_budget.h"

namespace orch {

double MemoryModel::peak_at(std::int64_t batch_size) const {
  return fixed_bytes + per_sample_bytes * static_cast<double>(batch_size);
}

double MemoryModel::prediction_noise_at(std::int64_t batch_size) const {
  if (points < 3 || batch_spread <= 0) return noise_bytes;
  const double distance = static_cast<double>(batch_size) - mean_batch;
  return noise_bytes * std::sqrt(1.0 + 1.0 / points + distance * distance / batch_spread);
}

MemoryModel fit_memory_model(const std::vector<MemoryPoint>& points) {
  MemoryModel model;
  model.points = static_cast<int>(points.size());
  if (points.empty()) return model;
  double mean_batch = 0, mean_peak = 0;
  for (const auto& point : points) {
    mean_batch += static_cast<double>(point.batch_size);
    mean_peak += static_cast<double>(point.peak_bytes);
  }
  mean_batch /= model.points;
  mean_peak /= model.points;
  double spread = 0, covariance = 0;
  for (const auto& point : points) {
    const double db = static_cast<double>(point.batch_size) - mean_batch;
    spread += db * db;
    covariance += db * (static_cast<double>(point.peak_bytes) - mean_peak);
  }
  model.mean_batch = mean_batch;
  model.batch_spread = spread;
  model.per_sample_bytes = spread > 0 ? covariance / spread : 0;
  model.fixed_bytes = mean_peak - model.per_sample_bytes * mean_batch;
  if (model.points >= 3) {
    double squares = 0;
    for (const auto& point : points) {
      const double residual =
          static_cast<double>(point.peak_bytes) - model.peak_at(point.batch_size);
      squares += residual * residual;
    }
    model.noise_bytes = std::sqrt(squares / (model.points - 2));
  }
  return model;
}

double margin_at(const MemoryModel& model, std::int64_t batch_size, double growth_bytes,
                 std::int64_t budget_bytes) {
  return std::max(
      kNoiseSigmas * model.prediction_noise_at(batch_size) + std::max(0.0, growth_bytes),
      kMinMarginShare * static_cast<double>(budget_bytes));
}

std::int64_t largest_fitting_batch(const MemoryModel& model, std::int64_t budget_bytes,
                                   double growth_bytes, std::int64_t limit) {
  if (!model.usable() || limit < 1) return 0;
  auto fits = [&](std::int64_t batch) {
    return model.peak_at(batch) + margin_at(model, batch, growth_bytes, budget_bytes) <=
           static_cast<double>(budget_bytes);
  };
  if (!fits(1)) return 0;
  // The margin widens away from the measured sizes, so fits() is monotone: bisect.
  std::int64_t low = 1, high = limit;
  if (fits(high)) return high;
  while (high - low > 1) {
    const std::int64_t middle = low + (high - low) / 2;
    (fits(middle) ? low : high) = middle;
  }
  return low;
}

double growth_over_run(std::int64_t growth_bytes, std::int64_t trial_steps,
                       std::int64_t run_steps) {
  if (growth_bytes <= 0 || trial_steps <= 0 || run_steps <= trial_steps) return 0;
  return static_cast<double>(growth_bytes) *
         std::log2(static_cast<double>(run_steps) / static_cast<double>(trial_steps));
}

std::string describe(const MemoryModel& model) {
  std::string out = "fixed " + describe_bytes(static_cast<std::int64_t>(model.fixed_bytes)) +
                    " + " + describe_bytes(static_cast<std::int64_t>(model.per_sample_bytes)) +
                    " per sample";
  if (model.points >= 3) {
    out += ", scatter " + describe_bytes(static_cast<std::int64_t>(model.noise_bytes));
  }
  return out + " (" + std::to_string(model.points) + " measured peaks)";
}

}  // namespace orch
