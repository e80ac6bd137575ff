#include "host/report/projection.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace orch {
namespace {

double or_zero(double value) { return std::isfinite(value) ? value : 0; }

// What one epoch takes besides its start: training at the median step, validation, and
// the loop's own time outside the steps.
double epoch_seconds(const storage::EpochRecord& epoch) {
  return epoch.median_epoch_s + or_zero(epoch.val_seconds) + or_zero(epoch.untimed_seconds);
}

// The warm-up steps cost more than median steps (first calls build caches and kernels):
// what they took beyond that, paid once per training.
double warmup_extra(const storage::EpochRecord& epoch, std::int64_t batch_size) {
  if (!(epoch.median_samples_per_s > 0) || epoch.warmup_steps <= 0) return 0;
  const double median_batch_s = static_cast<double>(batch_size) / epoch.median_samples_per_s;
  return std::max(0.0,
                  epoch.warmup_seconds - static_cast<double>(epoch.warmup_steps) * median_batch_s);
}

std::string with_thousands(std::int64_t value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

}  // namespace

double project_training_seconds(double start_s, const std::vector<storage::EpochRecord>& measured,
                                const TrainingPlan& plan) {
  std::vector<const storage::EpochRecord*> usable;
  for (const auto& epoch : measured) {
    if (epoch.median_epoch_s > 0) usable.push_back(&epoch);
  }
  if (usable.empty() || plan.epochs < 1) return std::nan("");
  double total = or_zero(start_s) + warmup_extra(*usable.front(), plan.batch_size);
  if (plan.benchmark) return total + plan.epochs * epoch_seconds(*usable.front());
  double sum = 0;
  for (const auto* epoch : usable) sum += epoch_seconds(*epoch);
  // Epochs that did not run (an interrupted run) take what the measured ones took.
  return total + sum / static_cast<double>(usable.size()) * plan.epochs;
}

std::string describe_training(int epochs, double samples_per_epoch, double seconds) {
  std::string out = std::to_string(epochs) + (epochs == 1 ? " epoch" : " epochs");
  if (samples_per_epoch > 0) {
    out += " of " + with_thousands(std::llround(samples_per_epoch)) + " samples";
  }
  return out + ", about " + describe_duration(seconds);
}

std::string describe_duration(double seconds) {
  if (!std::isfinite(seconds)) return "unknown";
  if (seconds < 10) {
    char text[16];
    std::snprintf(text, sizeof text, "%.1f s", seconds);
    return text;
  }
  if (seconds < 90) return std::to_string(std::llround(seconds)) + " s";
  const std::int64_t minutes = std::llround(seconds / 60);
  if (minutes < 90) return std::to_string(minutes) + " min";
  char text[32];
  std::snprintf(text, sizeof text, "%lld h %02lld min", static_cast<long long>(minutes / 60),
                static_cast<long long>(minutes % 60));
  return text;
}

}  // namespace orch
