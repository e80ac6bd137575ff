// Learning-rate schedules as pure functions of the optimizer step, so that they can be
// checked against their formulas without training anything. No torch here.
#pragma once

#include <cstdint>
#include <string>

namespace orch {

enum class LrScheduleKind { kConstant, kStep, kCosine, kOneCycle };

// "constant" -> kConstant; throws std::invalid_argument for an unknown name.
LrScheduleKind lr_schedule_kind(const std::string& name);

struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::kConstant;
  double gamma = 0.1;  // step: factor applied every `step_epochs` epochs
  std::int64_t step_epochs = 1;
  double min_lr = 0;              // cosine: the lr reached after the last step
  double pct_start = 0.3;         // onecycle: share of the steps spent rising
  double div_factor = 25;         // onecycle: the first lr is lr / div_factor
  double final_div_factor = 1e4;  // onecycle: the last lr is lr / div_factor / this
};

// The learning rate of optimizer step `step` (0-based) of a run of `total_steps`
// optimizer steps, `steps_per_epoch` of them in each epoch; `lr` is the configured one
// (onecycle's peak). Follows PyTorch's StepLR, CosineAnnealingLR (T_max = total_steps)
// and OneCycleLR (two phases, cosine annealing).
double scheduled_lr(const LrSchedule& schedule, double lr, std::int64_t step,
                    std::int64_t steps_per_epoch, std::int64_t total_steps);

}  // namespace orch
