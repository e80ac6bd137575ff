#include "host/sweep/sweep_source.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include "host/base/memory_budget.h"
#include "host/base/user_error.h"
#include "host/sweep/param_check.h"
#include "host/sweep/sweep_ranges.h"

namespace orch {
namespace {

bool before(const toml::source_position& a, const toml::source_position& b) {
  return std::tie(a.line, a.column) < std::tie(b.line, b.column);
}

std::string line_of(const toml::source_position& position) {
  return "line " + std::to_string(position.line);
}

// { from = 2, to = 16, step = 2 } is a value; train = { batch_size = [2, 4] } and the
// tables plain dotted keys make are levels of a key.
bool holds_only_scalars(const toml::table& table) {
  if (!table.is_inline()) return false;
  for (const auto& [key, node] : table) {
    if (node.is_array() || node.is_table()) return false;
  }
  return true;
}

void collect(const toml::table& table, const std::string& prefix,
             std::vector<std::pair<std::string, const toml::node*>>& out) {
  for (const auto& [raw_key, node] : table) {
    std::string key =
        prefix.empty() ? std::string(raw_key.str()) : prefix + "." + std::string(raw_key.str());
    if (const toml::table* nested = node.as_table(); nested && !holds_only_scalars(*nested)) {
      collect(*nested, key, out);
    } else {
      out.emplace_back(key, &node);
    }
  }
}

std::vector<std::string> split(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = key.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(key.substr(start, dot - start));
  }
  parts.push_back(key.substr(start));
  return parts;
}

std::optional<PluginKind> kind_of_section(const std::string& section) {
  for (const auto& [name, kind] : plugin_sections()) {
    if (name == section) return kind;
  }
  return std::nullopt;
}

std::string section_label(const std::string& section, const SectionSource& source) {
  if (source.choices.size() == 1 && !source.choices.front().empty()) {
    return "[" + section + "] (plugin '" + source.choices.front() + "')";
  }
  return "[" + section + "]";
}

// The values of one entry: a list, or a range for a number parameter.
std::vector<RawValue> entry_values(const SweepEntry& entry, ParamType type,
                                   const SourceFile& file) {
  const toml::node& node = *entry.node;
  const std::string at = where(file.path, node);
  std::vector<RawValue> out;
  if (const toml::table* range = node.as_table()) {
    for (auto& value : range_values(*range, type, entry.key, file.path, file.sampled)) {
      out.push_back({std::move(value), at, file.dir});
    }
    return out;
  }
  const toml::array* list = node.as_array();
  if (list == nullptr) {
    throw UserError(at + ": sweep \"" + entry.key +
                    "\" must be a list of values, e.g. [2, 4, 8], or a range, e.g. "
                    "{ from = 2, to = 16, step = 2 }");
  }
  if (list->empty()) {
    throw UserError(at + ": sweep \"" + entry.key +
                    "\" is an empty list; give at least one value or remove the entry");
  }
  for (const auto& item : *list) {
    // An element without a position of its own is placed at its list.
    const std::string item_at = item.source().begin.line ? where(file.path, item) : at;
    std::optional<Value> value = scalar_of(item);
    if (!value) {
      throw UserError(item_at + ": sweep \"" + entry.key + "\" lists single values, not " +
                      kind_of(item));
    }
    out.push_back({*value, item_at, file.dir});
  }
  return out;
}

// The one type a range over `declaring` produces; the plugins that take the key must agree.
ParamType range_type(const SweepEntry& entry,
                     const std::vector<std::pair<std::string, const ParamSpec*>>& declaring,
                     const SourceFile& file) {
  ParamType type = declaring.front().second->type;
  for (const auto& [plugin, spec] : declaring) {
    if (spec->type != type && entry.node->is_table()) {
      throw UserError(where(file.path, *entry.node) + ": sweep \"" + entry.key + "\" is " +
                      type_name(type) + " for plugin '" + declaring.front().first + "' but " +
                      type_name(spec->type) + " for plugin '" + plugin +
                      "'; a range needs one type, so give a list of values instead");
    }
  }
  return type;
}

// The plugins of the key's section that declare its parameter, with their specs: the one
// a "section.plugin.parameter" key names, or every plugin of the section that declares it.
// Throws UserError, naming the parameters there are, when none does.
std::vector<std::pair<std::string, const ParamSpec*>> declaring_plugins(const SweepEntry& entry,
                                                                        const SweptKey& key,
                                                                        const SectionSource& source,
                                                                        const std::string& at) {
  const std::string& section = key.section;
  std::optional<PluginKind> kind = kind_of_section(section);
  std::vector<std::pair<std::string, const ParamSpec*>> declaring;
  if (!key.only_plugin.empty()) {
    const ParamSpecs& specs = source.specs.at(key.only_plugin);
    const ParamSpec* spec = find_spec(specs, key.param);
    if (spec == nullptr) {
      throw UserError(at + ": sweep key \"" + entry.key + "\" matches no parameter of " +
                      std::string(kind_name(*kind)) + " plugin '" + key.only_plugin +
                      "'; known: " + spec_names(specs));
    }
    declaring.emplace_back(key.only_plugin, spec);
  } else {
    declaring = source.declaring(key.param);
  }
  if (declaring.empty()) {
    if (source.choices.size() <= 1) {
      throw UserError(at + ": sweep key \"" + entry.key + "\" matches no parameter of " +
                      section_label(section, source) + "; known: " + known_parameters(source));
    }
    throw UserError(at + ": sweep key \"" + entry.key + "\" matches no parameter of any " +
                    kind_name(*kind) + " plugin this file runs (" + known_parameters(source) + ")");
  }
  return declaring;
}

// Reads one entry into a swept key; nothing when it applies to a plugin no run uses.
std::optional<SweptKey> swept_key(const SweepEntry& entry, Experiment& exp,
                                  const SourceFile& file) {
  const std::string at = where(file.path, *entry.node);
  auto no_parameter = [&] {
    return UserError(at + ": sweep key \"" + entry.key +
                     "\" matches no parameter; sweep keys are section.parameter with section "
                     "one of backend, dataset, model, train (e.g. \"train.batch_size\"), or "
                     "section.plugin.parameter for one plugin (e.g. \"model.mlp.hidden\")");
  };
  std::vector<std::string> parts = split(entry.key);
  if (parts.size() < 2 || parts.size() > 3) throw no_parameter();
  auto found = exp.sections.find(parts[0]);
  if (found == exp.sections.end()) throw no_parameter();
  const std::string& section = parts[0];
  const SectionSource& source = found->second;
  std::optional<PluginKind> kind = kind_of_section(section);
  SweptKey key;
  key.section = section;
  key.param = parts.back();
  key.at = at;
  if (parts.size() == 3) {
    if (!kind || key.param == "plugin") throw no_parameter();
    key.only_plugin = parts[1];
    if (file.catalog.find(*kind, key.only_plugin) == nullptr) {
      throw UserError(at + ": sweep key \"" + entry.key + "\" names no " + kind_name(*kind) +
                      " plugin '" + key.only_plugin + "'; known " + kind_plural(*kind) + ": " +
                      file.catalog.names(*kind));
    }
  }
  if (kind && key.param == "plugin") {
    key.values = plugin_list(entry, *kind, file);
    return key;
  }
  if (exp.auto_batch_size && entry.key == "train.batch_size") {
    throw UserError(at +
                    ": train.batch_size = \"auto\" finds one batch size; it cannot "
                    "also be swept (remove one of the two)");
  }

  const auto declaring = declaring_plugins(entry, key, source, at);

  const ParamType type = range_type(entry, declaring, file);
  key.values = entry_values(entry, type, file);
  if (const toml::table* range = entry.node->as_table()) key.range = range_bounds(*range, type);
  for (const auto& [plugin, spec] : declaring) {
    for (const auto& raw : key.values) {
      checked(*spec, raw, param_label(source, section, key.param, plugin));
    }
  }
  if (!key.only_plugin.empty() && std::find(source.choices.begin(), source.choices.end(),
                                            key.only_plugin) == source.choices.end()) {
    exp.warnings.push_back(at + ": sweep key \"" + entry.key + "\" applies only when " + section +
                           ".plugin is '" + key.only_plugin +
                           "', which no run uses; it is left out");
    return std::nullopt;
  }
  return key;
}

}  // namespace

std::vector<std::pair<std::string, const toml::node*>> dotted_entries(const toml::table& table) {
  std::vector<std::pair<std::string, const toml::node*>> out;
  collect(table, "", out);
  // TOML++ keeps keys sorted; the user's order is the order of the lines.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return before(a.second->source().begin, b.second->source().begin);
  });
  return out;
}

SweepSource read_sweep(const toml::table& sweep, const std::string& file) {
  SweepSource out;
  // [[sweep.zip]] and [[sweep.exclude]] are arrays of tables; anything else is an entry.
  auto tables_of = [&](const char* name) {
    std::vector<const toml::table*> tables;
    const toml::node* node = sweep.get(name);
    if (node == nullptr) return tables;
    const toml::array* array = node->as_array();
    bool all_tables = array != nullptr && array->is_array_of_tables();
    if (!all_tables) {
      throw UserError(where(file, *node) + ": sweep." + name + " must be written as [[sweep." +
                      name + "]] tables, one per group");
    }
    for (const auto& item : *array) tables.push_back(item.as_table());
    return tables;
  };
  for (const toml::table* zip : tables_of("zip")) {
    if (zip->empty()) {
      throw UserError(where(file, *zip) +
                      ": [[sweep.zip]] is empty; give the keys whose values vary together, "
                      "e.g. \"train.batch_size\" = [16, 32] and \"train.lr\" = [1e-3, 2e-3]");
    }
    const int group = static_cast<int>(out.zips.size());
    out.zips.push_back(zip->source().begin);
    for (const auto& [key, node] : dotted_entries(*zip)) {
      out.entries.push_back({key, node, node->source().begin, group});
    }
  }
  out.rules = tables_of("exclude");
  for (const auto& [key, node] : dotted_entries(sweep)) {
    if (key == "zip" || key == "exclude") continue;
    out.entries.push_back({key, node, node->source().begin, -1});
  }
  std::stable_sort(out.entries.begin(), out.entries.end(),
                   [](const auto& a, const auto& b) { return before(a.position, b.position); });
  return out;
}

std::vector<RawValue> plugin_list(const SweepEntry& entry, PluginKind kind,
                                  const SourceFile& file) {
  const std::string at = where(file.path, *entry.node);
  const toml::array* list = entry.node->as_array();
  if (list == nullptr || list->empty()) {
    throw UserError(at + ": sweep \"" + entry.key + "\" must be a non-empty list of " +
                    kind_name(kind) + " plugin names; known " + kind_plural(kind) + ": " +
                    file.catalog.names(kind));
  }
  std::vector<RawValue> out;
  for (const auto& item : *list) {
    const std::string item_at = item.source().begin.line ? where(file.path, item) : at;
    auto name = item.value_exact<std::string>();
    if (!name) {
      throw UserError(item_at + ": sweep \"" + entry.key + "\" lists " + kind_name(kind) +
                      " plugin names (strings), not " + kind_of(item));
    }
    if (file.catalog.find(kind, *name) == nullptr) {
      throw UserError(item_at + ": unknown " + kind_name(kind) + " plugin '" + *name +
                      "' in sweep \"" + entry.key + "\"; known " + kind_plural(kind) + ": " +
                      file.catalog.names(kind) + " (see `orch plugins`)");
    }
    out.push_back({Value(*name), item_at, ""});
  }
  return out;
}

std::vector<SweepAxis> build_axes(const SweepSource& sweep, Experiment& experiment,
                                  const SourceFile& file) {
  // A key varies on one axis only.
  std::map<std::string, const SweepEntry*> first;
  for (const auto& entry : sweep.entries) {
    auto [it, fresh] = first.emplace(entry.key, &entry);
    if (fresh) continue;
    const SweepEntry& earlier = *it->second;
    const std::string at = where(file.path, *entry.node);
    if (earlier.zip < 0 && entry.zip < 0) {
      throw UserError(at + ": sweep key \"" + entry.key + "\" is given twice");
    }
    auto place = [&](const SweepEntry& e) {
      return e.zip < 0 ? "a plain [sweep] entry at " + line_of(e.position)
                       : "the [[sweep.zip]] at " + line_of(sweep.zips[e.zip]);
    };
    throw UserError(at + ": sweep key \"" + entry.key + "\" is in " + place(entry) +
                    " and also in " + place(earlier) +
                    "; a key varies on one axis only, so keep one of them");
  }

  std::vector<std::pair<toml::source_position, SweepAxis>> axes;
  std::map<int, size_t> axis_of_zip;
  for (const auto& entry : sweep.entries) {
    std::optional<SweptKey> key = swept_key(entry, experiment, file);
    if (!key) continue;
    if (entry.zip < 0) {
      SweepAxis axis;
      axis.at = key->at;
      axis.keys.push_back(std::move(*key));
      axes.emplace_back(entry.position, std::move(axis));
      continue;
    }
    auto [it, fresh] = axis_of_zip.emplace(entry.zip, axes.size());
    if (fresh) {
      SweepAxis axis;
      axis.zipped = true;
      axis.at = file.path + ":" + std::to_string(sweep.zips[entry.zip].line) + ":" +
                std::to_string(sweep.zips[entry.zip].column);
      axes.emplace_back(sweep.zips[entry.zip], std::move(axis));
    }
    SweepAxis& axis = axes[it->second].second;
    if (!axis.keys.empty() && axis.size() != key->values.size()) {
      const SweptKey& other = axis.keys.front();
      throw UserError(key->at + ": in the [[sweep.zip]] at " + line_of(sweep.zips[entry.zip]) +
                      ", \"" + other.path() + "\" has " + std::to_string(other.values.size()) +
                      " values but \"" + key->path() + "\" has " +
                      std::to_string(key->values.size()) +
                      "; zipped keys take their values together, so give them the same "
                      "number of values");
    }
    axis.keys.push_back(std::move(*key));
  }
  std::stable_sort(axes.begin(), axes.end(),
                   [](const auto& a, const auto& b) { return before(a.first, b.first); });
  std::vector<SweepAxis> out;
  for (auto& [position, axis] : axes) out.push_back(std::move(axis));
  return out;
}

Value checked(const ParamSpec& spec, const RawValue& raw, const std::string& key) {
  Value value = check_value(spec, raw.value, key, raw.at, raw.base_dir);
  if (spec.name == "memory_limit" && key.rfind("train.", 0) == 0) {
    const auto& text = std::get<std::string>(value);
    if (!text.empty()) parse_budget(text, machine_memory_at_start(), raw.at + ": " + key);
  }
  return value;
}

std::string known_parameters(const SectionSource& source) {
  if (source.choices.size() == 1) return spec_names(source.specs.at(source.choices.front()));
  std::string out;
  for (const auto& plugin : source.choices) {
    out += (out.empty() ? "" : "; ") + plugin + ": " + spec_names(source.specs.at(plugin));
  }
  return out;
}

std::string param_label(const SectionSource& source, const std::string& section,
                        const std::string& param, const std::string& plugin) {
  std::string label = section + "." + param;
  if (source.choices.size() > 1 && !plugin.empty()) label += " (plugin '" + plugin + "')";
  return label;
}

}  // namespace orch
