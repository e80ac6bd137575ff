// The experiment file, loaded and validated against the plugins' declared parameters.
// Everything that can be wrong with the file is found here or when the sweep expands
// (sweep.h), before anything runs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/search/search_settings.h"
#include "host/sweep/objective.h"
#include "orch/params.h"

namespace orch {

// A value as written in the file or given on the command line. When a section's plugin is
// swept, the spec it is checked against depends on the run, so it is kept as written.
struct RawValue {
  Value value;
  std::string at;        // "exp.toml:12:3", or "--set train.epochs" for a command-line value
  std::string base_dir;  // where a relative path parameter is resolved from
};

// A section as written. Its values apply to whichever plugin a run uses; the values of a
// [model.<plugin>] table only to runs of that plugin.
struct SectionSource {
  std::string plugin;  // plugin = "..."; empty for [train], or when only the sweep names it
  std::string at;      // the section itself, for messages
  std::map<std::string, RawValue> values;
  std::map<std::string, std::map<std::string, RawValue>> plugin_values;
  // The plugins its runs use: those a "section.plugin" sweep lists, else `plugin`.
  std::vector<std::string> choices;
  // The declared parameters of every plugin it may use ("" for [train]).
  std::map<std::string, ParamSpecs> specs;

  // The plugins among `choices` that declare `param`, with their spec of it.
  std::vector<std::pair<std::string, const ParamSpec*>> declaring(const std::string& param) const;
};

// A swept range as written, which a sampled search samples continuously between its ends.
struct SweptRange {
  double from = 0;  // the lower end, whichever end was written first
  double to = 0;
  double step = 0;  // > 0: only from + k * step
  bool log = false;
  bool integer = false;
};

// One swept key: "train.batch_size" = [2, 4, 8] or a range. A key "model.plugin" sweeps
// the plugin; "model.mlp.hidden" applies only to the runs whose model is mlp.
struct SweptKey {
  std::string section;
  std::string param;
  std::string only_plugin;
  std::vector<RawValue> values;
  std::optional<SweptRange> range;  // when written as a range
  std::string at;                   // the entry, for messages
  // As written: "train.batch_size", "model.mlp.hidden".
  std::string path() const;
};

// One axis of the product: a [sweep] entry, or a [[sweep.zip]] group whose keys take
// their i-th values together.
struct SweepAxis {
  std::vector<SweptKey> keys;
  bool zipped = false;
  std::string at;
  size_t size() const { return keys.empty() ? 0 : keys.front().values.size(); }
  // "train.batch_size", or "zip(train.batch_size, train.lr)".
  std::string label() const;
};

// One condition of a [[sweep.exclude]] rule, met by a run whose value is one of `any_of`
// (a scalar is a list of one), or within the bounds.
struct ExcludeCondition {
  std::string section;
  std::string param;  // "plugin" tests the section's plugin
  std::vector<Value> any_of;
  std::optional<double> at_least, at_most, above, below;
};

// [[sweep.exclude]]: a combination that meets every condition is not run.
struct ExcludeRule {
  std::vector<ExcludeCondition> conditions;
  int line = 0;
  std::string at;
};

// A value given on the command line, replacing the file's value or sweep of the key.
struct Override {
  std::string key;    // "train.epochs", "model.plugin", "model.mlp.hidden"
  RawValue value;     // its `at` names the flag
  std::string shown;  // how the plan and the stored file text show it: "--set train.epochs=1"
};

struct Experiment {
  std::string file;
  // The file as read, stored with the runs; --set overrides are appended as comments.
  std::string text;
  std::string name;
  std::int64_t seed = 0;
  std::int64_t repeats = 1;
  // Runs in a random order (shuffled with `seed`) instead of round by round, so that a
  // machine's slow minutes cannot line up with the sweep's order.
  bool random_order = false;
  std::map<std::string, SectionSource> sections;  // backend, dataset, model, train
  std::vector<SweepAxis> sweep;                   // in file order
  std::vector<ExcludeRule> exclusions;            // in file order
  std::vector<std::string> overrides;             // as shown: "--set train.epochs=1"
  // Not wrong enough to stop: said on stderr before the sweep.
  std::vector<std::string> warnings;
  // [train] batch_size = "auto": the largest batch that fits the budget, found by a probe.
  bool auto_batch_size = false;
  Objective objective;    // [objective], or the default: lowest epoch_s
  SearchSettings search;  // [search], or the default: every point of the grid
};

// The sections every experiment file must have, in the order they are documented.
const std::vector<std::string>& required_sections();
// The sections whose `plugin` key names a plugin, with the kind it names.
const std::vector<std::pair<std::string, PluginKind>>& plugin_sections();

// Throws UserError with file:line:column (or the flag), the key and what was expected.
// `overrides` (--set, --memory-limit) replace the file's values and sweeps of their keys
// and are checked like them.
Experiment load_experiment(const std::string& path, const PluginCatalog& catalog,
                           const std::vector<Override>& overrides = {});

}  // namespace orch
