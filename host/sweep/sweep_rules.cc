#include "host/sweep/sweep_rules.h"

#include "host/base/user_error.h"
#include "host/sweep/param_check.h"

namespace orch {
namespace {

bool is_number(const Value& value) {
  return std::holds_alternative<std::int64_t>(value) || std::holds_alternative<double>(value);
}

double number_of(const Value& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return static_cast<double>(*integer);
  return std::get<double>(value);
}

bool equal(const Value& a, const Value& b) {
  if (is_number(a) && is_number(b)) return number_of(a) == number_of(b);
  return a == b;
}

// What a condition on `spec` may compare with: numbers for numbers, and so on.
bool comparable(const ParamSpec& spec, const Value& value) {
  switch (spec.type) {
    case ParamType::kInt:
    case ParamType::kReal:
      return is_number(value);
    case ParamType::kStr:
      return std::holds_alternative<std::string>(value);
    case ParamType::kBool:
      return std::holds_alternative<bool>(value);
  }
  return false;
}

class RuleReader {
 public:
  RuleReader(const Experiment& experiment, const SourceFile& file)
      : experiment_(experiment), file_(file) {}

  ExcludeCondition condition(const std::string& key, const toml::node& node) {
    const std::string at = where(file_.path, node);
    auto dot = key.find('.');
    std::string section = dot == std::string::npos ? key : key.substr(0, dot);
    std::string param = dot == std::string::npos ? "" : key.substr(dot + 1);
    auto found = experiment_.sections.find(section);
    if (dot == std::string::npos || found == experiment_.sections.end() ||
        param.find('.') != std::string::npos) {
      throw UserError(at + ": [[sweep.exclude]] key \"" + key +
                      "\" matches no parameter; rule keys are section.parameter with section "
                      "one of backend, dataset, model, train (e.g. \"train.batch_size\"), or "
                      "section.plugin (e.g. \"model.plugin\")");
    }
    ExcludeCondition out;
    out.section = section;
    out.param = param;
    const ParamSpec spec = spec_of(key, found->second, out, at);
    if (experiment_.auto_batch_size && key == "train.batch_size") {
      throw UserError(at +
                      ": train.batch_size = \"auto\" is found when the sweep runs; a "
                      "[[sweep.exclude]] rule cannot test it");
    }
    if (const toml::table* bounds = node.as_table()) {
      read_bounds(key, *bounds, spec, at, out);
    } else {
      read_values(key, node, spec, at, out);
    }
    return out;
  }

 private:
  // The spec a condition's values are checked against: the parameter's (the first plugin
  // of the section that declares it), or a string for "section.plugin".
  ParamSpec spec_of(const std::string& key, const SectionSource& source,
                    const ExcludeCondition& condition, const std::string& at) const {
    if (condition.param == "plugin" && !source.choices.front().empty()) {  // a plugin section
      return ParamSpec::Str("plugin", "", "");
    }
    auto declaring = source.declaring(condition.param);
    if (declaring.empty()) {
      const std::string& only = source.choices.front();
      throw UserError(
          at + ": [[sweep.exclude]] key \"" + key + "\" matches no parameter of [" +
          condition.section + "]" +
          (source.choices.size() == 1 && !only.empty() ? " (plugin '" + only + "')" : "") +
          "; known: " + known_parameters(source));
    }
    return *declaring.front().second;
  }

  // { at_least = 8, below = 64 }: bounds on a number parameter.
  void read_bounds(const std::string& key, const toml::table& bounds, const ParamSpec& spec,
                   const std::string& at, ExcludeCondition& out) const {
    if (spec.type != ParamType::kInt && spec.type != ParamType::kReal) {
      throw UserError(at + ": [[sweep.exclude]] \"" + key + "\" is a " + type_name(spec.type) +
                      " parameter; bounds need a number parameter, so give a value or a "
                      "list of values");
    }
    for (const auto& [raw_key, bound] : bounds) {
      std::string name(raw_key.str());
      std::optional<double>* slot = name == "at_least"  ? &out.at_least
                                    : name == "at_most" ? &out.at_most
                                    : name == "above"   ? &out.above
                                    : name == "below"   ? &out.below
                                                        : nullptr;
      if (slot == nullptr) {
        throw UserError(where(file_.path, raw_key) + ": [[sweep.exclude]] \"" + key +
                        "\" has an unknown bound '" + name +
                        "'; bounds are at_least, at_most, above and below");
      }
      if (!bound.is_number()) {
        throw UserError(where(file_.path, raw_key) + ": [[sweep.exclude]] \"" + key + "\" " + name +
                        " must be a number, not " + kind_of(bound));
      }
      *slot = *bound.value<double>();
    }
    if (bounds.empty()) {
      throw UserError(at + ": [[sweep.exclude]] \"" + key +
                      "\" has no bound; give at_least, at_most, above or below");
    }
  }

  // A value, or a list of values, any of which the parameter may equal.
  void read_values(const std::string& key, const toml::node& node, const ParamSpec& spec,
                   const std::string& at, ExcludeCondition& out) const {
    std::vector<const toml::node*> items;
    if (const toml::array* list = node.as_array()) {
      if (list->empty()) {
        throw UserError(at + ": [[sweep.exclude]] \"" + key +
                        "\" is an empty list, which no run matches; give values or remove it");
      }
      for (const auto& item : *list) items.push_back(&item);
    } else {
      items.push_back(&node);
    }
    for (const toml::node* item : items) {
      std::optional<Value> value = scalar_of(*item);
      if (!value || !comparable(spec, *value)) {
        throw UserError(at + ": [[sweep.exclude]] \"" + key + "\" is " +
                        (spec.type == ParamType::kInt ? "an " : "a ") + type_name(spec.type) +
                        " parameter; it cannot equal " + kind_of(*item));
      }
      if (spec.is_path) value = resolve_path(std::get<std::string>(*value), file_.dir);
      out.any_of.push_back(*value);
    }
  }

  const Experiment& experiment_;
  const SourceFile& file_;
};

}  // namespace

bool meets(const ExcludeCondition& condition, const Value& value) {
  if (!condition.any_of.empty()) {
    for (const auto& wanted : condition.any_of) {
      if (equal(value, wanted)) return true;
    }
    return false;
  }
  if (!is_number(value)) return false;
  double number = number_of(value);
  return (!condition.at_least || number >= *condition.at_least) &&
         (!condition.at_most || number <= *condition.at_most) &&
         (!condition.above || number > *condition.above) &&
         (!condition.below || number < *condition.below);
}

ExcludeRule load_exclude_rule(const toml::table& table, const Experiment& experiment,
                              const SourceFile& file) {
  ExcludeRule rule;
  rule.at = where(file.path, table);
  rule.line = static_cast<int>(table.source().begin.line);
  if (table.empty()) {
    throw UserError(rule.at +
                    ": this [[sweep.exclude]] rule has no condition and would "
                    "exclude every combination; give the keys and values to exclude");
  }
  RuleReader reader(experiment, file);
  for (const auto& [key, node] : dotted_entries(table)) {
    rule.conditions.push_back(reader.condition(key, *node));
  }
  return rule;
}

bool excludes(const ExcludeRule& rule, const std::map<std::string, Section>& sections) {
  for (const auto& condition : rule.conditions) {
    const Section& section = sections.at(condition.section);
    if (condition.param == "plugin" && !section.plugin.empty()) {
      if (!meets(condition, Value(section.plugin))) return false;
      continue;
    }
    auto value = section.values.find(condition.param);
    if (value == section.values.end() || !meets(condition, value->second)) return false;
  }
  return true;
}

}  // namespace orch
