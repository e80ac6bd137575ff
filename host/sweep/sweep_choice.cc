#include "host/sweep/sweep_choice.h"

#include <map>

#include "host/run/run_key.h"
#include "host/run/value_text.h"
#include "host/sweep/param_check.h"
#include "host/sweep/sweep_rules.h"

namespace orch::sweep_choice {
namespace {

using PluginOf = std::map<std::string, std::string>;  // section -> the plugin it uses
// section -> parameter -> where its value comes from
using Resolved = std::map<std::string, std::map<std::string, Source>>;

const std::string& plugin_in(const PluginOf& plugin, const std::string& section) {
  static const std::string none;
  auto found = plugin.find(section);
  return found == plugin.end() ? none : found->second;
}

// The plugin each section uses under `digits`: its first choice unless an axis sweeps it.
PluginOf plugins_at(const Experiment& experiment, const std::vector<size_t>& digits) {
  PluginOf plugin;
  for (const auto& [section, source] : experiment.sections) {
    plugin[section] = source.choices.front();
  }
  const auto& axes = experiment.sweep;
  for (size_t i = 0; i < axes.size(); ++i) {
    for (const auto& key : axes[i].keys) {
      if (key.param == "plugin") {
        plugin[key.section] = std::get<std::string>(key.values[digits[i]].value);
      }
    }
  }
  return plugin;
}

// Every swept key's values as the choice's plugins take them: a slot with its checked
// values and canonical lines, and the pieces of the swept text. A value the plugin does
// not declare marks the choice foreign.
void add_swept_keys(const Experiment& experiment, const PluginOf& plugin, Resolved& resolved,
                    Choice& choice) {
  const auto& axes = experiment.sweep;
  for (size_t i = 0; i < axes.size(); ++i) {
    for (const auto& key : axes[i].keys) {
      SweptPiece piece{i, {}};
      if (key.param == "plugin") {
        for (const auto& raw : key.values) {
          piece.text.push_back(key.path() + "=" + to_toml(raw.value));
        }
        choice.swept.push_back(std::move(piece));
        continue;
      }
      const std::string& used = plugin_in(plugin, key.section);
      if (!key.only_plugin.empty() && key.only_plugin != used) continue;
      const std::string path = key.section + "." + key.param;
      const ParamSpec* spec =
          find_spec(experiment.sections.at(key.section).specs.at(used), key.param);
      if (spec == nullptr) {
        choice.foreign = true;
        for (const auto& raw : key.values) piece.text.push_back(path + "=" + to_toml(raw.value));
        choice.swept.push_back(std::move(piece));
        continue;
      }
      Slot slot{i, {}, {}};
      for (const auto& raw : key.values) {
        Value value = check_value(*spec, raw.value, path, raw.at, raw.base_dir);
        std::string text = path + "=" + to_toml(value);
        slot.lines.push_back(text + "\n");
        piece.text.push_back(std::move(text));
        slot.values.push_back(std::move(value));
      }
      resolved[key.section][key.param] = {nullptr, static_cast<int>(choice.slots.size())};
      choice.slots.push_back(std::move(slot));
      choice.swept.push_back(std::move(piece));
    }
  }
}

// The canonical lines in the order flat_params() sorts them (by "section.name"), fixed
// text run together between the slots.
std::vector<Segment> canonical_segments(const PluginOf& plugin, const Resolved& resolved) {
  std::map<std::string, Segment> lines;
  for (const auto& [section, params] : resolved) {
    if (const std::string& used = plugin_in(plugin, section); !used.empty()) {
      const std::string name = section + ".plugin";
      lines[name] = {name + "=" + to_toml(Value(used)) + "\n", -1};
    }
    for (const auto& [param, source] : params) {
      const std::string name = section + "." + param;
      if (!in_run_key(name)) continue;
      lines[name] = source.slot < 0 ? Segment{name + "=" + to_toml(*source.fixed) + "\n", -1}
                                    : Segment{"", source.slot};
    }
  }
  std::vector<Segment> canonical;
  for (auto& [name, line] : lines) {
    if (line.slot < 0 && !canonical.empty() && canonical.back().slot < 0) {
      canonical.back().fixed += line.fixed;
    } else {
      canonical.push_back(std::move(line));
    }
  }
  return canonical;
}

// The exclude rules as excludes() reads a run's sections.
std::vector<RuleView> rule_views(const Experiment& experiment, const PluginOf& plugin,
                                 const Resolved& resolved, const std::vector<Slot>& slots) {
  std::vector<RuleView> views;
  for (const auto& rule : experiment.exclusions) {
    RuleView view;
    for (const auto& condition : rule.conditions) {
      const std::string& used = plugin_in(plugin, condition.section);
      if (condition.param == "plugin" && !used.empty()) {
        view.possible = view.possible && meets(condition, Value(used));
        continue;
      }
      const auto& params = resolved.at(condition.section);
      auto found = params.find(condition.param);
      if (found == params.end()) {
        view.possible = false;
      } else if (found->second.slot < 0) {
        view.possible = view.possible && meets(condition, *found->second.fixed);
      } else {
        const Slot& slot = slots[found->second.slot];
        std::vector<char> met;
        for (const auto& value : slot.values) met.push_back(meets(condition, value) ? 1 : 0);
        view.varying.emplace_back(slot.axis, std::move(met));
      }
    }
    views.push_back(std::move(view));
  }
  return views;
}

}  // namespace

Choice build_choice(const Experiment& experiment, SectionResolver& resolver,
                    const std::vector<size_t>& digits) {
  Choice choice;
  const PluginOf plugin = plugins_at(experiment, digits);
  Resolved resolved;
  for (const auto& [section, source] : experiment.sections) {
    const std::string& used = plugin_in(plugin, section);
    for (const auto& [name, value] : resolver.base(section, used).values) {
      resolved[section][name] = {&value, -1};
    }
    if (resolver.foreign(section, used) != nullptr) choice.foreign = true;
  }
  add_swept_keys(experiment, plugin, resolved, choice);
  choice.canonical = canonical_segments(plugin, resolved);
  choice.rules = rule_views(experiment, plugin, resolved, choice.slots);
  return choice;
}

}  // namespace orch::sweep_choice
