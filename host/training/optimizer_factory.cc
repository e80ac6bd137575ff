#include "host/training/optimizer_factory.h"

#include <stdexcept>

namespace orch {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> params,
                                                        const TrainOptions& o) {
  if (o.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        std::move(params),
        torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  }
  const auto betas = std::make_tuple(o.beta1, o.beta2);
  if (o.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(
        std::move(params),
        torch::optim::AdamOptions(o.lr).betas(betas).weight_decay(o.weight_decay));
  }
  if (o.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        std::move(params),
        torch::optim::AdamWOptions(o.lr).betas(betas).weight_decay(o.weight_decay));
  }
  throw std::invalid_argument("unknown optimizer '" + o.optimizer + "'; known: sgd, adam, adamw");
}

void set_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

double current_lr(const torch::optim::Optimizer& optimizer) {
  return optimizer.param_groups().front().options().get_lr();
}

}  // namespace orch
