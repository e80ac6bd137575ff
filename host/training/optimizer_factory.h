// The optimizer a run's [train] section names, and its learning rate as a schedule
// moves it.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "host/run/train_options.h"

namespace orch {

// sgd (lr, momentum, weight_decay), adam and adamw (lr, betas, weight_decay) over
// `params`. Throws std::invalid_argument for an unknown optimizer name.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> params,
                                                        const TrainOptions& options);

// Sets the learning rate of every parameter group.
void set_lr(torch::optim::Optimizer& optimizer, double lr);
// The learning rate the optimizer's first parameter group steps with.
double current_lr(const torch::optim::Optimizer& optimizer);

}  // namespace orch
