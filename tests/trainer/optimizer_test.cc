// The optimizer settings of [train] reach LibTorch's optimizers: checked by the steps
// they take on one parameter with known gradients.
#include <gtest/gtest.h>

#include <stdexcept>

#include "host/training/optimizer_factory.h"

namespace orch {
namespace {

TrainOptions options_for(const std::string& optimizer, double lr) {
  TrainOptions options;
  options.optimizer = optimizer;
  options.lr = lr;
  return options;
}

// One step of `optimizer` on a parameter of ones whose gradient is `grad`; returns its
// first value afterwards.
double one_step(const TrainOptions& options, double grad) {
  torch::Tensor weight = torch::ones({3}, torch::requires_grad());
  auto optimizer = make_optimizer({weight}, options);
  weight.mutable_grad() = torch::full({3}, grad);
  optimizer->step();
  return weight[0].item<double>();
}

TEST(OptimizerTest, SgdWeightDecayShrinksWeightsEvenWithZeroGradients) {
  TrainOptions options = options_for("sgd", 0.1);
  EXPECT_DOUBLE_EQ(one_step(options, 0.0), 1.0);
  options.weight_decay = 0.5;
  EXPECT_NEAR(one_step(options, 0.0), 1.0 - 0.1 * 0.5, 1e-7);
}

TEST(OptimizerTest, AdamwDecaysDecoupledWhileAdamAddsDecayToTheGradient) {
  TrainOptions adamw = options_for("adamw", 0.1);
  adamw.weight_decay = 0.5;
  // Decoupled: weight * (1 - lr * decay); a zero gradient adds no Adam update.
  EXPECT_NEAR(one_step(adamw, 0.0), 0.95, 1e-7);
  // L2 in the gradient: Adam's first step moves by lr whatever the gradient's size.
  TrainOptions adam = options_for("adam", 0.1);
  adam.weight_decay = 0.5;
  EXPECT_NEAR(one_step(adam, 0.0), 0.9, 1e-6);
  adam.weight_decay = 0;
  EXPECT_DOUBLE_EQ(one_step(adam, 0.0), 1.0);
}

TEST(OptimizerTest, SgdMomentumCarriesThePreviousStep) {
  TrainOptions options = options_for("sgd", 0.1);
  options.momentum = 0.9;
  torch::Tensor weight = torch::ones({1}, torch::requires_grad());
  auto optimizer = make_optimizer({weight}, options);
  for (int step = 0; step < 2; ++step) {
    weight.mutable_grad() = torch::ones({1});
    optimizer->step();
  }
  // 0.1 * 1, then 0.1 * (0.9 * 1 + 1).
  EXPECT_NEAR(weight.item<double>(), 1.0 - 0.1 - 0.19, 1e-7);
}

TEST(OptimizerTest, BetasReachAdamAndAdamw) {
  for (const char* name : {"adam", "adamw"}) {
    TrainOptions options = options_for(name, 0.01);
    options.beta1 = 0.8;
    options.beta2 = 0.95;
    torch::Tensor weight = torch::ones({1}, torch::requires_grad());
    auto optimizer = make_optimizer({weight}, options);
    const auto& group_options = optimizer->param_groups().front().options();
    auto betas = std::string(name) == "adam"
                     ? static_cast<const torch::optim::AdamOptions&>(group_options).betas()
                     : static_cast<const torch::optim::AdamWOptions&>(group_options).betas();
    EXPECT_EQ(std::get<0>(betas), 0.8) << name;
    EXPECT_EQ(std::get<1>(betas), 0.95) << name;
  }
}

TEST(OptimizerTest, SetLrChangesEveryParameterGroup) {
  torch::Tensor first = torch::ones({1}, torch::requires_grad());
  torch::Tensor second = torch::ones({1}, torch::requires_grad());
  auto optimizer = make_optimizer({first}, options_for("sgd", 0.1));
  optimizer->add_param_group(torch::optim::OptimizerParamGroup({second}));
  ASSERT_EQ(optimizer->param_groups().size(), 2u);
  set_lr(*optimizer, 0.25);
  EXPECT_EQ(current_lr(*optimizer), 0.25);
  for (const auto& group : optimizer->param_groups()) EXPECT_EQ(group.options().get_lr(), 0.25);
  // And the step uses it.
  first.mutable_grad() = torch::ones({1});
  second.mutable_grad() = torch::ones({1});
  optimizer->step();
  EXPECT_NEAR(first.item<double>(), 0.75, 1e-7);
  EXPECT_NEAR(second.item<double>(), 0.75, 1e-7);
}

TEST(OptimizerTest, AnUnknownOptimizerIsRefusedByName) {
  torch::Tensor weight = torch::ones({1}, torch::requires_grad());
  try {
    make_optimizer({weight}, options_for("lion", 0.1));
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "unknown optimizer 'lion'; known: sgd, adam, adamw");
  }
}

}  // namespace
}  // namespace orch
