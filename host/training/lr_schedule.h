// Learning-rate schedules as pure functions of the optimizer step, so that they can be
// checked against their formulas without training anything. No torch here.
#pragma once

#include <cstdint>

#include "host/run/train_options.h"  // LrSchedule

namespace orch {

// The learning rate of optimizer step `step` (0-based) of a run of `total_steps`
// optimizer steps, `steps_per_epoch` of them in each epoch; `lr` is the configured one
// (onecycle's peak). Follows PyTorch's StepLR, CosineAnnealingLR (T_max = total_steps)
// and OneCycleLR (two phases, cosine annealing).
double scheduled_lr(const LrSchedule& schedule, double lr, std::int64_t step,
                    std::int64_t steps_per_epoch, std::int64_t total_steps);

}  // namespace orch
