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
      ParamSpec::Int("accumulation_steps", 1,
                     "batches whose gradients are summed into one optimizer step")
          .range(1, 1 << 20),
      ParamSpec::Str("memory_limit", "",
                     "memory budget per run: \"6GiB\", \"512MiB\", \"80%\" of available; "
                     "empty = 80% of the memory available when the sweep starts"),
      ParamSpec::Real("timeout", 0, "seconds a run may take before it is stopped; 0 = no limit")
          .range(0, 1e9),
      ParamSpec::Str("on_oom", "skip",
                     "after a run runs out of memory: skip (record it, go on), halve (retry "
                     "with half the batch and twice the accumulation), stop (end the sweep)")
          .one_of({"skip", "halve", "stop"}),
      ParamSpec::Str("mode", "train",
                     "train: full epochs with validation; benchmark: warm-up, then measured "
                     "steps until the throughput estimate is tight enough")
          .one_of({"train", "benchmark"}),
      ParamSpec::Int("min_steps", 20, "benchmark mode: measured steps at least").range(2, 1 << 30),
      ParamSpec::Int("max_steps", 1000, "benchmark mode: measured steps at most").range(2, 1 << 30),
      ParamSpec::Real("target_rel_ci", 0.02,
                      "benchmark mode: stop once the 95% interval of the median step time is "
                      "within this fraction of it")
          .range(0.0001, 1),
  };
  return specs;
}

}  // namespace orch
