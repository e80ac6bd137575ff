// The experiment file, loaded and validated against the plugins' declared parameters.
// Everything that can be wrong with the file is found here, before anything runs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "host/objective.h"
#include "host/plugin_catalog.h"
#include "orch/params.h"

namespace orch {

// A plugin section ([backend], [dataset], [model]) or the host's own [train].
struct Section {
  std::string plugin;                    // empty for [train]
  std::map<std::string, Value> values;   // every declared parameter, defaults filled in
};

// One [sweep] entry: "train.batch_size" = [2, 4, 8].
struct SweepAxis {
  std::string section;
  std::string param;
  std::vector<Value> values;
  std::string path() const { return section + "." + param; }
};

struct Experiment {
  std::string file;
  std::string text;  // the file as read, stored with the runs
  std::string name;
  std::int64_t seed = 0;
  std::int64_t repeats = 1;
  std::map<std::string, Section> sections;  // backend, dataset, model, train
  std::vector<SweepAxis> sweep;              // in file order
  // [train] batch_size = "auto": the largest batch that fits the budget, found by a probe.
  bool auto_batch_size = false;
  Objective objective;  // [objective], or the default: lowest epoch_s
};

// The sections every experiment file must have, in the order they are documented.
const std::vector<std::string>& required_sections();
// The sections whose `plugin` key names a plugin, with the kind it names.
const std::vector<std::pair<std::string, PluginKind>>& plugin_sections();

// Throws UserError with file:line:column, the key and what was expected.
Experiment load_experiment(const std::string& path, const PluginCatalog& catalog);

// Applies --memory-limit: replaces [train] memory_limit (and any sweep of it) after
// checking the value. Throws UserError naming the flag.
void override_memory_limit(Experiment& experiment, const std::string& limit);

}  // namespace orch
