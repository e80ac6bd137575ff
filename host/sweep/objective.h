// What "best" means for an experiment: the [objective] section. A metric with a goal, and
// constraints every counted run must meet (status ok always among them).
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>

namespace orch {

// A value of a per-epoch metric a run stops at: `target = { val_accuracy = 0.97 }`.
struct Target {
  std::string metric;  // val_accuracy, val_loss or train_loss
  double value = 0;
  bool maximize = true;  // reached at or above `value` (accuracy), else at or below (loss)
  bool met_by(double measured) const { return maximize ? measured >= value : measured <= value; }
  std::string describe() const;  // "val_accuracy >= 0.97"
};

struct Objective {
  std::string metric = "epoch_s";  // one of the choices of [objective] metric
  bool maximize = false;
  // metric = "time_to_target": the run stops once an epoch reaches this, and its wall time
  // until then is what is compared (MLPerf's yardstick).
  std::optional<Target> target;
  std::optional<std::int64_t> max_peak_rss_bytes;
  std::optional<double> min_val_accuracy;
  std::optional<double> max_epoch_s;

  // "lowest epoch_s" / "highest samples_per_s"
  std::string describe() const;
};

// Reads an [objective] table (nullptr: the default objective). Throws UserError with
// file:line:column for unknown keys, metrics, goals and bad values.
Objective load_objective(const toml::table* table, const std::string& file);

// The objective of an experiment file's text as stored in the database; the default
// when it has none. `label` names it in messages.
Objective objective_from_text(const std::string& text, const std::string& label);

}  // namespace orch
