// What "best" means for an experiment: the [objective] section. A metric with a goal, and
// constraints every counted run must meet (status ok always among them).
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>

namespace orch {

struct Objective {
  std::string metric = "epoch_s";  // one of the choices of [objective] metric
  bool maximize = false;
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
