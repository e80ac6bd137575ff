// The [sweep] table as written, and the axes built from it once the plugins each section
// may use are known. Part of loading an experiment (experiment.cc).
#pragma once

#include <toml++/toml.h>

#include <string>
#include <utility>
#include <vector>

#include "host/catalog/plugin_catalog.h"
#include "host/sweep/experiment.h"

namespace orch {

// The experiment file being loaded: its name for messages, its directory for relative
// paths, and the plugins its sections may name.
struct SourceFile {
  std::string path;
  std::string dir;
  const PluginCatalog& catalog;
  bool sampled = false;  // a sampled [search]: ranges may be open (no step or count)
};

// One entry of [sweep] or of a [[sweep.zip]] group, before its values are read.
struct SweepEntry {
  std::string key;  // "train.batch_size", as written
  const toml::node* node = nullptr;
  toml::source_position position;
  int zip = -1;  // index of its [[sweep.zip]] group, -1 for a plain entry
};

struct SweepSource {
  std::vector<SweepEntry> entries;          // in file order
  std::vector<toml::source_position> zips;  // where each [[sweep.zip]] starts
  std::vector<const toml::table*> rules;    // the [[sweep.exclude]] tables
};

// The entries of a table as (dotted key, node): a quoted key "train.lr" and a plain
// dotted key train.lr alike. An inline table of single values ({ from = 2, ... }) is a
// value, not a level.
std::vector<std::pair<std::string, const toml::node*>> dotted_entries(const toml::table& table);

// Reads [sweep]: plain entries, [[sweep.zip]] groups and [[sweep.exclude]] tables.
SweepSource read_sweep(const toml::table& sweep, const std::string& file);

// The plugin names a "section.plugin" entry lists, each a known plugin of `kind`.
std::vector<RawValue> plugin_list(const SweepEntry& entry, PluginKind kind, const SourceFile& file);

// The axes of the product, in file order. Every value is checked against the spec of each
// plugin that may take it; an entry for a plugin no run uses is dropped with a warning.
std::vector<SweepAxis> build_axes(const SweepSource& sweep, Experiment& experiment,
                                  const SourceFile& file);

// check_value for a value as written, plus the checks a spec cannot express (a memory
// limit must parse and fit this machine).
Value checked(const ParamSpec& spec, const RawValue& raw, const std::string& key);

// "hidden, layers" for a section of one plugin; "mlp: hidden, layers; memory_hog:
// mib_per_sample" when its plugin is swept.
std::string known_parameters(const SectionSource& source);

// "model.hidden", or "model.hidden (plugin 'mlp')" when the section's plugin is swept and
// the spec is that plugin's.
std::string param_label(const SectionSource& source, const std::string& section,
                        const std::string& param, const std::string& plugin);

}  // namespace orch
