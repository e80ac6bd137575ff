#include "host/param_check.h"

#include "host/user_error.h"

namespace orch {
namespace {

const char* toml_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a real number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "a list";
    case toml::node_type::table: return "a table";
    default: return "a date or time";
  }
}

std::string article(ParamType type) {
  return type == ParamType::kInt ? "an integer" : std::string("a ") + type_name(type);
}

std::string show(const toml::node& node) {
  if (auto v = node.value_exact<std::string>()) return to_toml(Value(*v));
  if (auto v = node.value_exact<std::int64_t>()) return std::to_string(*v);
  if (auto v = node.value_exact<double>()) return to_toml(Value(*v));
  if (auto v = node.value_exact<bool>()) return *v ? "true" : "false";
  return "the value";
}

}  // namespace

std::string where(const std::string& file, const toml::node& node) {
  const auto& begin = node.source().begin;
  if (begin.line == 0) return file;
  return file + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column);
}

std::string where(const std::string& file, const toml::key& key) {
  const auto& begin = key.source().begin;
  if (begin.line == 0) return file;
  return file + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column);
}

Value check_param(const ParamSpec& spec, const toml::node& node, const std::string& key,
                  const std::string& file) {
  auto fail = [&](const std::string& what) -> UserError {
    return UserError(where(file, node) + ": " + key + " " + what);
  };
  Value value;
  switch (spec.type) {
    case ParamType::kInt:
      if (!node.is_integer()) throw fail("must be " + article(spec.type) + ", not " + toml_type_name(node));
      value = *node.value<std::int64_t>();
      break;
    case ParamType::kReal:
      if (!node.is_number()) throw fail("must be a number, not " + std::string(toml_type_name(node)));
      value = *node.value<double>();
      break;
    case ParamType::kStr:
      if (!node.is_string()) throw fail("must be a string, not " + std::string(toml_type_name(node)));
      value = std::string(*node.value<std::string>());
      break;
    case ParamType::kBool:
      if (!node.is_boolean()) throw fail("must be true or false, not " + std::string(toml_type_name(node)));
      value = *node.value<bool>();
      break;
  }

  if (spec.type == ParamType::kInt || spec.type == ParamType::kReal) {
    double number = spec.type == ParamType::kInt
                        ? static_cast<double>(std::get<std::int64_t>(value))
                        : std::get<double>(value);
    bool below = spec.min && number < *spec.min;
    bool above = spec.max && number > *spec.max;
    if (below || above) {
      throw fail("= " + show(node) + " is out of range: expected " + spec.describe_range());
    }
  }
  if (spec.type == ParamType::kStr && !spec.choices.empty()) {
    const auto& text = std::get<std::string>(value);
    bool allowed = false;
    for (const auto& choice : spec.choices) allowed = allowed || choice == text;
    if (!allowed) throw fail("= " + show(node) + " is not allowed: expected " + spec.describe_range());
  }
  return value;
}

std::string spec_names(const ParamSpecs& specs) {
  std::string out;
  for (const auto& spec : specs) out += (out.empty() ? "" : ", ") + spec.name;
  return out.empty() ? "(none)" : out;
}

const ParamSpec* find_spec(const ParamSpecs& specs, const std::string& name) {
  for (const auto& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace orch
