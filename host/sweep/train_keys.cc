#include "host/sweep/train_keys.h"

#include <algorithm>
#include <set>

#include "host/base/user_error.h"
#include "host/run/value_text.h"
#include "host/sweep/builtin_params.h"
#include "host/sweep/param_check.h"

namespace orch {
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

}  // namespace

const std::set<std::string>& keys_read_by_check_train_keys() {
  static const std::set<std::string> keys = [] {
    std::set<std::string> read = {"lr_schedule", "lr", "lr_min"};  // the cosine check
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
