#include "host/builtin_params.h"

namespace orch {

const ParamSpecs& experiment_param_specs() {
  static const ParamSpecs specs = {
      ParamSpec::Str("name", "", "experiment name; runs of the same name share history"),
      ParamSpec::Int("seed", 0, "base random seed; repeat r of a run uses seed + r")
          .at_least(0),
      ParamSpec::Int("repeats", 1, "how many times each configuration runs").range(1, 1000),
  };
  return specs;
}

const ParamSpecs& train_param_specs() {
  static const ParamSpecs specs = {
      ParamSpec::Int("epochs", 1, "passes over the training split").range(1, 100000),
      ParamSpec::Int("batch_size", 32, "samples per optimizer step").range(1, 1 << 24),
      ParamSpec::Str("optimizer", "adam", "optimizer").one_of({"sgd", "adam", "adamw"}),
      ParamSpec::Real("lr", 1e-3, "learning rate").range(1e-12, 100),
      ParamSpec::Int("warmup_steps", 3,
                     "steps at the start of the first epoch left out of timing")
          .range(0, 1000000),
  };
  return specs;
}

}  // namespace orch
