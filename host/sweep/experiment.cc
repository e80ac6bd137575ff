#include "host/sweep/experiment.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "host/base/user_error.h"
#include "host/sweep/builtin_params.h"
#include "host/sweep/param_check.h"
#include "host/sweep/search_section.h"
#include "host/sweep/sweep_rules.h"
#include "host/sweep/sweep_source.h"

namespace orch {
namespace {

std::string read_file(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    throw UserError(path + ": no such experiment file");
  }
  if (std::filesystem::is_directory(path, error)) {
    throw UserError(path + ": is a directory, not an experiment file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot be read (check its permissions)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

toml::table parse(const std::string& text, const std::string& path) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    throw UserError(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                    ": invalid TOML: " + std::string(e.description()));
  }
}

std::optional<PluginKind> kind_of_section(const std::string& section) {
  for (const auto& [name, kind] : plugin_sections()) {
    if (name == section) return kind;
  }
  return std::nullopt;
}

void check_top_level(const toml::table& root, const std::string& path) {
  for (const auto& [raw_key, node] : root) {
    std::string key(raw_key.str());
    bool known = key == "sweep" || key == "objective" || key == "search";
    for (const auto& section : required_sections()) known = known || key == section;
    if (!known) {
      throw UserError(
          where(path, raw_key) + ": unknown section [" + key +
          "]; known sections: experiment, backend, dataset, model, train, sweep, objective, "
          "search");
    }
    if (!node.is_table()) {
      throw UserError(where(path, node) + ": '" + key + "' must be a section [" + key + "]");
    }
  }
  for (const auto& section : required_sections()) {
    if (!root.contains(section)) {
      throw UserError(path + ": missing section [" + section +
                      "]; an experiment needs [experiment], [backend], [dataset], [model] "
                      "and [train] (see experiments/quickstart.toml)");
    }
  }
}

std::string checked_plugin(const Value& value, const std::string& at, const std::string& section,
                           PluginKind kind, const PluginCatalog& catalog) {
  const std::string* name = std::get_if<std::string>(&value);
  if (name == nullptr) {
    throw UserError(at + ": " + section + ".plugin must be a string naming a " + kind_name(kind) +
                    "; known " + kind_plural(kind) + ": " + catalog.names(kind));
  }
  if (catalog.find(kind, *name) == nullptr) {
    throw UserError(at + ": unknown " + kind_name(kind) + " plugin '" + *name + "'; known " +
                    kind_plural(kind) + ": " + catalog.names(kind) + " (see `orch plugins`)");
  }
  return *name;
}

// A section as written: values kept for the plugin each run uses, [section.<plugin>]
// tables apart.
SectionSource read_section(const toml::table& table, const std::string& section,
                           const SourceFile& file) {
  std::optional<PluginKind> kind = kind_of_section(section);
  SectionSource out;
  out.at = where(file.path, table);
  for (const auto& [raw_key, node] : table) {
    std::string key(raw_key.str());
    const std::string at = where(file.path, node);
    if (kind && key == "plugin") {
      // A list or table is no plugin name either.
      out.plugin =
          checked_plugin(scalar_of(node).value_or(Value(false)), at, section, *kind, file.catalog);
      continue;
    }
    if (const toml::table* nested = node.as_table()) {
      if (!kind || file.catalog.find(*kind, key) == nullptr) {
        throw UserError(where(file.path, raw_key) + ": [" + section + "." + key + "] " +
                        (kind ? "names no " + std::string(kind_name(*kind)) + " plugin; a [" +
                                    section +
                                    ".<plugin>] table holds values for one plugin, "
                                    "one of: " +
                                    file.catalog.names(*kind)
                              : "is not a parameter; [" + section + "] takes single values"));
      }
      auto& values = out.plugin_values[key];
      for (const auto& [inner_key, inner] : *nested) {
        std::optional<Value> value = scalar_of(inner);
        if (!value) {
          throw UserError(where(file.path, inner) + ": " + section + "." + key + "." +
                          std::string(inner_key.str()) + " must be a single value, not " +
                          kind_of(inner));
        }
        values[std::string(inner_key.str())] = {*value, where(file.path, inner), file.dir};
      }
      continue;
    }
    std::optional<Value> value = scalar_of(node);
    if (!value) {
      throw UserError(at + ": " + section + "." + key + " must be a single value, not " +
                      kind_of(node) + "; to try several values, sweep it: \"" + section + "." +
                      key + "\" = [...] under [sweep]");
    }
    out.values[key] = {*value, at, file.dir};
  }
  return out;
}

const SweepEntry* find_entry(const SweepSource& sweep, const std::string& key) {
  for (const auto& entry : sweep.entries) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

void remove_entries(SweepSource& sweep, const std::function<bool(const std::string&)>& drop) {
  auto& entries = sweep.entries;
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [&](const SweepEntry& entry) { return drop(entry.key); }),
                entries.end());
}

// Puts one command-line value in place of the file's value and sweep of its key.
void apply_override(const Override& override, Experiment& exp, SectionSource& header,
                    SweepSource& sweep, const SourceFile& file) {
  const std::string& key = override.key;
  const std::string& at = override.value.at;
  auto dot = key.find('.');
  std::string section = key.substr(0, dot);
  auto found = exp.sections.find(section);
  if (dot == std::string::npos || (section != "experiment" && found == exp.sections.end())) {
    throw UserError(at +
                    ": keys are section.parameter with section one of experiment, "
                    "backend, dataset, model, train (e.g. train.epochs)");
  }
  std::string rest = key.substr(dot + 1);
  if (section == "experiment") {
    header.values[rest] = override.value;
    return;
  }
  SectionSource& source = found->second;
  std::optional<PluginKind> kind = kind_of_section(section);
  auto inner_dot = rest.find('.');
  if (inner_dot != std::string::npos) {
    // model.mlp.hidden: the value of one plugin.
    std::string plugin = rest.substr(0, inner_dot);
    if (!kind || file.catalog.find(*kind, plugin) == nullptr) {
      throw UserError(at + ": " +
                      (kind
                           ? "no " + std::string(kind_name(*kind)) + " plugin '" + plugin +
                                 "'; known " + kind_plural(*kind) + ": " + file.catalog.names(*kind)
                           : "[" + section + "] has no per-plugin values"));
    }
    source.plugin_values[plugin][rest.substr(inner_dot + 1)] = override.value;
    remove_entries(sweep, [&](const std::string& entry) { return entry == key; });
    return;
  }
  if (kind && rest == "plugin") {
    source.plugin = checked_plugin(override.value.value, at, section, *kind, file.catalog);
    remove_entries(sweep, [&](const std::string& entry) { return entry == key; });
    return;
  }
  // Every plugin's value of the key: the section's, its [section.<plugin>] tables' and
  // their sweeps give way.
  source.values[rest] = override.value;
  for (auto& [plugin, values] : source.plugin_values) values.erase(rest);
  remove_entries(sweep, [&](const std::string& entry) {
    if (entry == key) return true;
    auto first = entry.find('.'), last = entry.rfind('.');
    return first != last && entry.compare(0, first, section) == 0 && entry.substr(last + 1) == rest;
  });
}

// Which plugins each section's runs use, and the specs of every plugin it may name.
void choose_plugins(Experiment& exp, const SweepSource& sweep, const SourceFile& file) {
  for (const auto& [section, kind] : plugin_sections()) {
    SectionSource& source = exp.sections[section];
    for (const PluginEntry* entry : file.catalog.entries(kind)) {
      source.specs[entry->name] = entry->params;
    }
    if (const SweepEntry* swept = find_entry(sweep, section + ".plugin")) {
      for (const auto& raw : plugin_list(*swept, kind, file)) {
        const auto& name = std::get<std::string>(raw.value);
        if (std::find(source.choices.begin(), source.choices.end(), name) == source.choices.end()) {
          source.choices.push_back(name);
        }
      }
      continue;
    }
    if (source.plugin.empty()) {
      throw UserError(source.at + ": [" + section + "] needs plugin = \"...\"; known " +
                      kind_plural(kind) + ": " + file.catalog.names(kind));
    }
    source.choices = {source.plugin};
  }
  SectionSource& train = exp.sections["train"];
  train.choices = {""};
  train.specs[""] = train_param_specs();
}

// Checks every value a section gives against the plugins that declare it. A value that
// only some of a swept section's plugins declare is checked per run (sweep.cc).
void check_section(const std::string& section, const SectionSource& source) {
  for (const auto& [key, raw] : source.values) {
    auto declaring = source.declaring(key);
    if (declaring.empty()) {
      if (source.choices.size() == 1) {
        const std::string& plugin = source.choices.front();
        throw UserError(raw.at + ": unknown parameter '" + key + "' in [" + section + "]" +
                        (plugin.empty() ? "" : " (plugin '" + plugin + "')") +
                        "; known: " + known_parameters(source));
      }
      throw UserError(raw.at + ": unknown parameter '" + key + "' in [" + section +
                      "]: no plugin this file runs declares it (" + known_parameters(source) + ")");
    }
    for (const auto& [plugin, spec] : declaring) {
      checked(*spec, raw, param_label(source, section, key, plugin));
    }
  }
  for (const auto& [plugin, values] : source.plugin_values) {
    const ParamSpecs& specs = source.specs.at(plugin);
    for (const auto& [key, raw] : values) {
      const ParamSpec* spec = find_spec(specs, key);
      if (spec == nullptr) {
        throw UserError(raw.at + ": unknown parameter '" + key + "' in [" + section + "." + plugin +
                        "]; known: " + spec_names(specs));
      }
      checked(*spec, raw, section + "." + plugin + "." + key);
    }
  }
}

void read_header(const SectionSource& header, Experiment& exp) {
  std::map<std::string, Value> values;
  for (const auto& spec : experiment_param_specs()) values[spec.name] = spec.fallback;
  for (const auto& [key, raw] : header.values) {
    const ParamSpec* spec = find_spec(experiment_param_specs(), key);
    if (spec == nullptr) {
      throw UserError(raw.at + ": unknown parameter '" + key +
                      "' in [experiment]; known: " + spec_names(experiment_param_specs()));
    }
    values[key] = checked(*spec, raw, "experiment." + key);
  }
  exp.name = std::get<std::string>(values["name"]);
  exp.seed = std::get<std::int64_t>(values["seed"]);
  exp.repeats = std::get<std::int64_t>(values["repeats"]);
  exp.random_order = std::get<std::string>(values["order"]) == "random";
  if (exp.name.empty()) {
    throw UserError(header.at +
                    ": [experiment] needs name = \"...\"; runs are grouped and "
                    "resumed by name");
  }
}

}  // namespace

std::vector<std::pair<std::string, const ParamSpec*>> SectionSource::declaring(
    const std::string& param) const {
  std::vector<std::pair<std::string, const ParamSpec*>> out;
  for (const auto& plugin : choices) {
    auto specs = this->specs.find(plugin);
    if (specs == this->specs.end()) continue;
    if (const ParamSpec* spec = find_spec(specs->second, param)) out.emplace_back(plugin, spec);
  }
  return out;
}

std::string SweptKey::path() const {
  return section + "." + (only_plugin.empty() ? "" : only_plugin + ".") + param;
}

std::string SweepAxis::label() const {
  if (!zipped) return keys.front().path();
  std::string out;
  for (const auto& key : keys) out += (out.empty() ? "" : ", ") + key.path();
  return "zip(" + out + ")";
}

const std::vector<std::string>& required_sections() {
  static const std::vector<std::string> sections = {"experiment", "backend", "dataset", "model",
                                                    "train"};
  return sections;
}

const std::vector<std::pair<std::string, PluginKind>>& plugin_sections() {
  static const std::vector<std::pair<std::string, PluginKind>> sections = {
      {"backend", PluginKind::kBackend},
      {"dataset", PluginKind::kDataset},
      {"model", PluginKind::kModel}};
  return sections;
}

Experiment load_experiment(const std::string& path, const PluginCatalog& catalog,
                           const std::vector<Override>& overrides) {
  Experiment exp;
  exp.file = path;
  exp.text = read_file(path);
  std::error_code ignored;
  SourceFile file{path, std::filesystem::absolute(path, ignored).parent_path().string(), catalog};
  toml::table root = parse(exp.text, path);
  check_top_level(root, path);

  SectionSource header = read_section(*root["experiment"].as_table(), "experiment", file);
  for (const auto& section : required_sections()) {
    if (section != "experiment") {
      exp.sections[section] = read_section(*root[section].as_table(), section, file);
    }
  }
  exp.objective = load_objective(root["objective"].as_table(), path);
  SweepSource sweep;
  if (const toml::table* table = root["sweep"].as_table()) sweep = read_sweep(*table, path);

  for (const auto& override : overrides) {
    apply_override(override, exp, header, sweep, file);
    if (!override.shown.empty()) {
      exp.overrides.push_back(override.shown);
      exp.text += (exp.text.empty() || exp.text.back() == '\n' ? "# " : "\n# ") + override.shown +
                  "  (given on the command line)\n";
    }
  }
  read_header(header, exp);
  exp.search = load_search(root["search"].as_table(), path, exp.seed);
  file.sampled = exp.search.samples();

  auto& train = exp.sections["train"].values;
  auto batch_size = train.find("batch_size");
  if (batch_size != train.end() && batch_size->second.value == Value(std::string("auto"))) {
    exp.auto_batch_size = true;
    train.erase(batch_size);
  }
  choose_plugins(exp, sweep, file);
  for (const auto& [section, source] : exp.sections) check_section(section, source);
  exp.sweep = build_axes(sweep, exp, file);
  for (const toml::table* rule : sweep.rules) {
    exp.exclusions.push_back(load_exclude_rule(*rule, exp, file));
  }
  check_search(exp);
  return exp;
}

}  // namespace orch
