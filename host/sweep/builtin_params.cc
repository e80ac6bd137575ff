#include "host/sweep/builtin_params.h"

namespace orch {

const ParamSpecs& experiment_param_specs() {
  static const ParamSpecs specs = {
      ParamSpec::Str("name", "", "experiment name; runs of the same name share history"),
      ParamSpec::Int("seed", 0, "base random seed; repeat r of a run uses seed + r").at_least(0),
      ParamSpec::Int("repeats", 1, "how many times each configuration runs").range(1, 1000),
      ParamSpec::Str("order", "interleaved",
                     "run order: interleaved (every configuration once, then the next round "
                     "of repeats) or random (shuffled with the seed)")
          .one_of({"interleaved", "random"}),
  };
  return specs;
}

const ParamSpecs& train_param_specs() {
  static const ParamSpecs specs = {
      ParamSpec::Int("epochs", 1, "passes over the training split").range(1, 100000),
      ParamSpec::Int("batch_size", 32, "samples per optimizer step").range(1, 1 << 24),
      ParamSpec::Str("optimizer", "adam", "optimizer").one_of({"sgd", "adam", "adamw"}),
      ParamSpec::Real("lr", 1e-3, "learning rate (onecycle: the peak)").range(1e-12, 100),
      ParamSpec::Real("weight_decay", 0,
                      "weight decay: L2 added to the gradient (sgd, adam), decoupled (adamw); "
                      "0 also for adamw, whose PyTorch default is 0.01")
          .range(0, 100),
      ParamSpec::Real("momentum", 0, "sgd: momentum").range(0, 1),
      ParamSpec::Real("beta1", 0.9, "adam, adamw: decay of the gradient average")
          .range(0, 0.999999),
      ParamSpec::Real("beta2", 0.999, "adam, adamw: decay of the squared-gradient average")
          .range(0, 0.999999),
      ParamSpec::Str("lr_schedule", "constant",
                     "learning rate per optimizer step: constant; step (x lr_gamma every "
                     "lr_step_epochs epochs); cosine (lr down to lr_min over the run); "
                     "onecycle (PyTorch OneCycleLR, peak lr)")
          .one_of({"constant", "step", "cosine", "onecycle"}),
      ParamSpec::Real("lr_gamma", 0.1, "step schedule: factor applied every lr_step_epochs")
          .range(1e-9, 1),
      ParamSpec::Int("lr_step_epochs", 1, "step schedule: epochs between decays").range(1, 100000),
      ParamSpec::Real("lr_min", 0, "cosine schedule: the lr after the last step").range(0, 100),
      ParamSpec::Real("lr_pct_start", 0.3, "onecycle: share of the steps spent rising to lr")
          .range(0.01, 0.99),
      ParamSpec::Real("lr_div_factor", 25, "onecycle: the first lr is lr / lr_div_factor")
          .range(1, 1e9),
      ParamSpec::Real("lr_final_div_factor", 1e4,
                      "onecycle: the last lr is lr / lr_div_factor / lr_final_div_factor")
          .range(1, 1e12),
      ParamSpec::Real("grad_clip", 0,
                      "largest total gradient norm, clipped before each optimizer step; "
                      "0 = no clipping")
          .range(0, 1e12),
      ParamSpec::Str("precision", "fp32",
                     "forward pass precision: fp32, or bf16 under autocast (weights, "
                     "gradients and optimizer stay fp32)")
          .one_of({"fp32", "bf16"}),
      ParamSpec::Str("task", "train",
                     "train; or inference: forward passes without gradients over the "
                     "training split, timing throughput (no loss, accuracy or validation)")
          .one_of({"train", "inference"}),
      ParamSpec::Int("warmup_steps", 3,
                     "steps at the start of the first epoch left out of timing (benchmark "
                     "mode: optimizer steps)")
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
