#include "host/experiment.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <tuple>
#include <fstream>
#include <sstream>

#include "host/builtin_params.h"
#include "host/memory_budget.h"
#include "host/param_check.h"
#include "host/user_error.h"

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

const ParamSpecs& specs_of(const std::string& section, const std::string& plugin,
                           const PluginCatalog& catalog) {
  if (section == "train") return train_param_specs();
  if (section == "experiment") return experiment_param_specs();
  for (const auto& [name, kind] : plugin_sections()) {
    if (name == section) return catalog.find(kind, plugin)->params;
  }
  throw std::logic_error("no specs for section " + section);
}

// Which plugin a section names; validates that it exists.
std::string resolve_plugin(const toml::table& table, const std::string& section,
                           PluginKind kind, const PluginCatalog& catalog,
                           const std::string& path) {
  const toml::node* node = table.get("plugin");
  if (node == nullptr) {
    throw UserError(where(path, table) + ": [" + section + "] needs plugin = \"...\"; known " +
                    kind_plural(kind) + ": " + catalog.names(kind));
  }
  if (!node->is_string()) {
    throw UserError(where(path, *node) + ": " + section + ".plugin must be a string naming a " +
                    kind_name(kind) + "; known " + kind_plural(kind) + ": " +
                    catalog.names(kind));
  }
  std::string plugin(*node->value<std::string>());
  if (catalog.find(kind, plugin) == nullptr) {
    throw UserError(where(path, *node) + ": unknown " + kind_name(kind) + " plugin '" + plugin +
                    "'; known " + kind_plural(kind) + ": " + catalog.names(kind) +
                    " (see `orch plugins`)");
  }
  return plugin;
}

std::string section_label(const std::string& section, const std::string& plugin) {
  return "[" + section + "]" + (plugin.empty() ? "" : " (plugin '" + plugin + "')");
}

// Checks that need more than a type and a range: a memory budget must parse and fit
// this machine.
void check_extra(const std::string& key, const Value& value, const toml::node& node,
                 const std::string& path) {
  if (key == "train.memory_limit") {
    const auto& text = std::get<std::string>(value);
    if (!text.empty()) parse_budget(text, machine_memory_at_start(), where(path, node) + ": " + key);
  }
}

Section load_section(const toml::table& table, const std::string& section,
                     const std::string& plugin, const ParamSpecs& specs,
                     const std::string& path, bool* auto_batch_size = nullptr) {
  Section out{plugin, {}};
  for (const auto& spec : specs) out.values[spec.name] = spec.fallback;
  for (const auto& [raw_key, node] : table) {
    std::string key(raw_key.str());
    if (key == "plugin" && !plugin.empty()) continue;
    if (auto_batch_size && key == "batch_size" && node.value_exact<std::string>() == "auto") {
      *auto_batch_size = true;
      continue;
    }
    const ParamSpec* spec = find_spec(specs, key);
    if (spec == nullptr) {
      throw UserError(where(path, raw_key) + ": unknown parameter '" + key + "' in " +
                      section_label(section, plugin) + "; known: " + spec_names(specs));
    }
    out.values[key] = check_param(*spec, node, section + "." + key, path);
    check_extra(section + "." + key, out.values[key], node, path);
  }
  return out;
}

// [sweep] accepts quoted dotted keys ("train.batch_size" = [...]) and, equally, plain
// TOML dotted keys (train.batch_size = [...]), which TOML turns into nested tables.
void collect_sweep_entries(const toml::table& table, const std::string& prefix,
                           std::vector<std::pair<std::string, const toml::node*>>& out) {
  for (const auto& [raw_key, node] : table) {
    std::string key = prefix.empty() ? std::string(raw_key.str())
                                     : prefix + "." + std::string(raw_key.str());
    if (const toml::table* nested = node.as_table()) {
      collect_sweep_entries(*nested, key, out);
    } else {
      out.emplace_back(key, &node);
    }
  }
}

SweepAxis load_axis(const std::string& key, const toml::node& node, const Experiment& exp,
                    const PluginCatalog& catalog, const std::string& path) {
  auto dot = key.find('.');
  std::string section = dot == std::string::npos ? key : key.substr(0, dot);
  std::string param = dot == std::string::npos ? "" : key.substr(dot + 1);
  auto found = exp.sections.find(section);
  if (dot == std::string::npos || found == exp.sections.end()) {
    throw UserError(where(path, node) + ": sweep key \"" + key +
                    "\" matches no parameter; sweep keys are section.parameter with section "
                    "one of backend, dataset, model, train (e.g. \"train.batch_size\")");
  }
  if (param == "plugin") {
    throw UserError(where(path, node) + ": sweep key \"" + key +
                    "\": sweeping the plugin itself is not supported yet; write one "
                    "experiment file per plugin");
  }
  const std::string& plugin = found->second.plugin;
  const ParamSpecs& specs = specs_of(section, plugin, catalog);
  const ParamSpec* spec = find_spec(specs, param);
  if (spec == nullptr) {
    throw UserError(where(path, node) + ": sweep key \"" + key + "\" matches no parameter of " +
                    section_label(section, plugin) + "; known: " + spec_names(specs));
  }
  const toml::array* list = node.as_array();
  if (list == nullptr) {
    throw UserError(where(path, node) + ": sweep \"" + key +
                    "\" must be a list of values, e.g. [2, 4, 8]");
  }
  if (list->empty()) {
    throw UserError(where(path, node) + ": sweep \"" + key +
                    "\" is an empty list; give at least one value or remove the entry");
  }
  SweepAxis axis{section, param, {}};
  for (const auto& item : *list) {
    // An element of an inline array has no position of its own in TOML++: fall back to
    // the list's position.
    const toml::node& at = item.source().begin.line ? item : node;
    try {
      axis.values.push_back(check_param(*spec, item, key, path));
      check_extra(key, axis.values.back(), item, path);
    } catch (const UserError& e) {
      std::string message = e.what();
      if (&at != &item) message = where(path, at) + message.substr(path.size());
      throw UserError(message);
    }
  }
  return axis;
}

}  // namespace

const std::vector<std::string>& required_sections() {
  static const std::vector<std::string> sections = {"experiment", "backend", "dataset",
                                                    "model", "train"};
  return sections;
}

const std::vector<std::pair<std::string, PluginKind>>& plugin_sections() {
  static const std::vector<std::pair<std::string, PluginKind>> sections = {
      {"backend", PluginKind::kBackend},
      {"dataset", PluginKind::kDataset},
      {"model", PluginKind::kModel}};
  return sections;
}

Experiment load_experiment(const std::string& path, const PluginCatalog& catalog) {
  Experiment exp;
  exp.file = path;
  exp.text = read_file(path);
  toml::table root = parse(exp.text, path);

  for (const auto& [raw_key, node] : root) {
    std::string key(raw_key.str());
    bool known = key == "sweep" || key == "objective";
    for (const auto& section : required_sections()) known = known || key == section;
    if (!known) {
      throw UserError(where(path, raw_key) + ": unknown section [" + key +
                      "]; known sections: experiment, backend, dataset, model, train, sweep, objective");
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

  const toml::table& header = *root["experiment"].as_table();
  Section experiment = load_section(header, "experiment", "", experiment_param_specs(), path);
  exp.name = std::get<std::string>(experiment.values["name"]);
  exp.seed = std::get<std::int64_t>(experiment.values["seed"]);
  exp.repeats = std::get<std::int64_t>(experiment.values["repeats"]);
  if (exp.name.empty()) {
    throw UserError(where(path, header) +
                    ": [experiment] needs name = \"...\"; runs are grouped and resumed by name");
  }

  for (const auto& [section, kind] : plugin_sections()) {
    const toml::table& table = *root[section].as_table();
    std::string plugin = resolve_plugin(table, section, kind, catalog, path);
    exp.sections[section] =
        load_section(table, section, plugin, catalog.find(kind, plugin)->params, path);
  }
  exp.sections["train"] = load_section(*root["train"].as_table(), "train", "",
                                      train_param_specs(), path, &exp.auto_batch_size);

  exp.objective = load_objective(root["objective"].as_table(), path);

  if (const toml::table* sweep = root["sweep"].as_table()) {
    std::vector<std::pair<std::string, const toml::node*>> entries;
    collect_sweep_entries(*sweep, "", entries);
    // TOML++ keeps keys sorted; the user's order is the order of the lines.
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      const auto& pa = a.second->source().begin;
      const auto& pb = b.second->source().begin;
      return std::tie(pa.line, pa.column) < std::tie(pb.line, pb.column);
    });
    for (const auto& [key, node] : entries) {
      for (const auto& axis : exp.sweep) {
        if (axis.path() == key) {
          throw UserError(where(path, *node) + ": sweep key \"" + key + "\" is given twice");
        }
      }
      exp.sweep.push_back(load_axis(key, *node, exp, catalog, path));
      if (exp.auto_batch_size && key == "train.batch_size") {
        throw UserError(where(path, *node) +
                        ": train.batch_size = \"auto\" finds one batch size; it cannot "
                        "also be swept (remove one of the two)");
      }
    }
  }
  return exp;
}

void override_memory_limit(Experiment& experiment, const std::string& limit) {
  parse_budget(limit, machine_memory_at_start(), "--memory-limit");
  experiment.sections["train"].values["memory_limit"] = limit;
  auto& sweep = experiment.sweep;
  sweep.erase(std::remove_if(sweep.begin(), sweep.end(),
                             [](const SweepAxis& axis) { return axis.path() == "train.memory_limit"; }),
              sweep.end());
}

}  // namespace orch
