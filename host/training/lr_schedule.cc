#include "host/training/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace orch {
namespace {

constexpr double kPi = 3.14159265358979323846;

// From `start` at pct 0 to `end` at pct 1 along half a cosine wave.
double cosine_anneal(double start, double end, double pct) {
  return end + (start - end) / 2 * (std::cos(kPi * pct) + 1);
}

double one_cycle(const LrSchedule& s, double max_lr, std::int64_t step, std::int64_t total) {
  const double initial = max_lr / s.div_factor;
  const double final_lr = initial / s.final_div_factor;
  // PyTorch's phase ends: the peak is reached at step pct_start * total - 1, the end at
  // the last step; the second phase starts counting from the first one's end.
  const double peak_step = s.pct_start * static_cast<double>(total) - 1;
  const double last_step = static_cast<double>(total - 1);
  const double k = static_cast<double>(step);
  if (k <= peak_step) {
    // A run too short for a rising phase starts at the peak (PyTorch divides by zero).
    return peak_step > 0 ? cosine_anneal(initial, max_lr, k / peak_step) : max_lr;
  }
  if (last_step <= peak_step) return final_lr;
  return cosine_anneal(max_lr, final_lr, (k - peak_step) / (last_step - peak_step));
}

}  // namespace

double scheduled_lr(const LrSchedule& schedule, double lr, std::int64_t step,
                    std::int64_t steps_per_epoch, std::int64_t total_steps) {
  total_steps = std::max<std::int64_t>(1, total_steps);
  // Steps past the planned end (a benchmark that wraps around) keep the last lr.
  step = std::clamp<std::int64_t>(step, 0, total_steps - 1);
  switch (schedule.kind) {
    case LrScheduleKind::kConstant:
      return lr;
    case LrScheduleKind::kStep: {
      std::int64_t epoch = step / std::max<std::int64_t>(1, steps_per_epoch);
      std::int64_t decays = epoch / std::max<std::int64_t>(1, schedule.step_epochs);
      return lr * std::pow(schedule.gamma, static_cast<double>(decays));
    }
    case LrScheduleKind::kCosine:
      return cosine_anneal(lr, schedule.min_lr,
                           static_cast<double>(step) / static_cast<double>(total_steps));
    case LrScheduleKind::kOneCycle:
      return one_cycle(schedule, lr, step, total_steps);
  }
  return lr;
}

}  // namespace orch
