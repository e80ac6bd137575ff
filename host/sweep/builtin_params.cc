#include "host/sweep/builtin_params.h"

#include <algorithm>
#include <set>

#include "host/base/memory_budget.h"
#include "host/base/user_error.h"
#include "host/run/value_text.h"
#include "host/sweep/param_check.h"

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
      ParamSpec::Str("save", "none",
                     "keep the trained weights beside the database: none; best (the winning "
                     "configuration's runs, once the sweep ends); all. Not part of run keys")
          .one_of({"none", "best", "all"}),
      ParamSpec::Str("checkpoint", "none",
                     "save model, optimizer and data-order state so that an interrupted run "
                     "resumes: none; epoch (after every epoch); \"<N>min\" (after the first "
                     "epoch that ends N minutes after the last checkpoint). Not part of run keys"),
      ParamSpec::Bool("keep_checkpoints", false,
                      "keep the last checkpoint of a run that finishes ok. Not part of run keys"),
      ParamSpec::Str("checkpoint_disk", "",
                     "disk budget of the checkpoints folder: \"2GiB\", \"50%\" of the free "
                     "space; empty = the free space less 256 MiB. A checkpoint that does not "
                     "fit is skipped with a note on the run. Not part of run keys"),
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

// The checks that span several [train] keys.

namespace {

// A [train] key that only some optimizers or schedules read.
struct DependentKey {
  const char* key;
  const char* selector;              // the key that decides whether it is read
  std::vector<std::string> readers;  // the selector's values that read it
};

const std::vector<DependentKey>& dependent_keys() {
  static const std::vector<DependentKey> keys = {
      {"momentum", "optimizer", {"sgd"}},
      {"beta1", "optimizer", {"adam", "adamw"}},
      {"beta2", "optimizer", {"adam", "adamw"}},
      {"lr_gamma", "lr_schedule", {"step"}},
      {"lr_step_epochs", "lr_schedule", {"step"}},
      {"lr_min", "lr_schedule", {"cosine"}},
      {"lr_pct_start", "lr_schedule", {"onecycle"}},
      {"lr_div_factor", "lr_schedule", {"onecycle"}},
      {"lr_final_div_factor", "lr_schedule", {"onecycle"}},
  };
  return keys;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + to_toml(Value(names[i]));
  }
  return out;
}

// train.checkpoint and train.checkpoint_disk are free text: checked here, where the file is
// known, instead of failing in the worker.
void check_checkpoint_keys(const Experiment& experiment, const RunSpec& run) {
  const auto& train = run.sections.at("train").values;
  const auto& every = std::get<std::string>(train.at("checkpoint"));
  if (!checkpoint_minutes(every)) {
    throw UserError(experiment.file + ": train.checkpoint = " + to_toml(Value(every)) +
                    " is not a checkpoint interval; use \"none\", \"epoch\" or minutes "
                    "such as \"30min\"");
  }
  const auto& disk = std::get<std::string>(train.at("checkpoint_disk"));
  if (disk.empty()) return;
  // Only the syntax here: a percentage is of the free space when the checkpoint is written.
  MachineMemory any_size;
  any_size.total_bytes = any_size.available_bytes = std::int64_t{1} << 62;
  parse_budget(disk, any_size, experiment.file + ": train.checkpoint_disk");
}

}  // namespace

const std::set<std::string>& keys_read_by_check_train_keys() {
  static const std::set<std::string> keys = [] {
    // The cosine check, and the checkpoint values.
    std::set<std::string> read = {"lr_schedule", "lr", "lr_min", "checkpoint", "checkpoint_disk"};
    for (const auto& dependent : dependent_keys()) {
      read.insert(dependent.key);
      read.insert(dependent.selector);
    }
    return read;
  }();
  return keys;
}

void check_train_keys(const Experiment& experiment, const std::vector<RunSpec>& runs) {
  const ParamSpecs& specs = train_param_specs();
  for (const auto& dependent : dependent_keys()) {
    const ParamSpec* spec = find_spec(specs, dependent.key);
    bool set_somewhere = false;
    bool read_somewhere = false;
    const Value* value_set = nullptr;
    std::set<std::string> selectors;
    for (const auto& run : runs) {
      const auto& train = run.sections.at("train").values;
      const Value& value = train.at(dependent.key);
      if (spec == nullptr || value == spec->fallback) continue;
      set_somewhere = true;
      value_set = &value;
      const auto& selector = std::get<std::string>(train.at(dependent.selector));
      selectors.insert(selector);
      read_somewhere = read_somewhere ||
                       std::count(dependent.readers.begin(), dependent.readers.end(), selector) > 0;
    }
    if (!set_somewhere || read_somewhere) continue;
    throw UserError(experiment.file + ": train." + dependent.key + " = " + to_toml(*value_set) +
                    " is read only when train." + dependent.selector + " is " +
                    quoted_list(dependent.readers) + ", but every run has train." +
                    dependent.selector + " = " +
                    quoted_list(std::vector<std::string>(selectors.begin(), selectors.end())) +
                    "; remove train." + dependent.key + " or change train." + dependent.selector);
  }
  for (const auto& run : runs) check_checkpoint_keys(experiment, run);
  for (const auto& run : runs) {
    if (run.train.schedule.kind != LrScheduleKind::kCosine) continue;
    const double lr = run.train.lr, lr_min = run.train.schedule.min_lr;
    if (lr_min >= lr) {
      throw UserError(experiment.file + ": train.lr_min = " + to_toml(Value(lr_min)) +
                      " is not below train.lr = " + to_toml(Value(lr)) + " (run " +
                      std::to_string(run.index + 1) + ": " + run.swept_text() +
                      "); the cosine schedule goes from lr down to lr_min, so lower lr_min");
    }
  }
}

}  // namespace orch
