#include "host/sweep/param_check.h"

#include <filesystem>

#include "host/base/user_error.h"
#include "host/run/value_text.h"

namespace orch {
namespace {

std::string article(ParamType type) {
  return type == ParamType::kInt ? "an integer" : std::string("a ") + type_name(type);
}

std::string position(const std::string& file, const toml::source_region& source) {
  const auto& begin = source.begin;
  if (begin.line == 0) return file;
  return file + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column);
}

}  // namespace

std::string where(const std::string& file, const toml::node& node) {
  return position(file, node.source());
}

std::string where(const std::string& file, const toml::key& key) {
  return position(file, key.source());
}

std::optional<Value> scalar_of(const toml::node& node) {
  if (auto v = node.value_exact<std::string>()) return Value(*v);
  if (auto v = node.value_exact<std::int64_t>()) return Value(*v);
  if (auto v = node.value_exact<double>()) return Value(*v);
  if (auto v = node.value_exact<bool>()) return Value(*v);
  return std::nullopt;
}

std::string kind_of(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a real number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "a list";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

std::string kind_of(const Value& value) {
  if (std::holds_alternative<std::string>(value)) return "a string";
  if (std::holds_alternative<std::int64_t>(value)) return "an integer";
  if (std::holds_alternative<double>(value)) return "a real number";
  return "a boolean";
}

std::string resolve_path(const std::string& path, const std::string& base_dir) {
  namespace fs = std::filesystem;
  if (path.empty() || base_dir.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

Value check_value(const ParamSpec& spec, const Value& given, const std::string& key,
                  const std::string& at, const std::string& base_dir) {
  auto fail = [&](const std::string& what) -> UserError {
    return UserError(at + ": " + key + " " + what);
  };
  Value value = given;
  switch (spec.type) {
    case ParamType::kInt:
      if (!std::holds_alternative<std::int64_t>(given)) {
        throw fail("must be " + article(spec.type) + ", not " + kind_of(given));
      }
      break;
    case ParamType::kReal:
      if (const auto* integer = std::get_if<std::int64_t>(&given)) {
        value = static_cast<double>(*integer);
      } else if (!std::holds_alternative<double>(given)) {
        throw fail("must be a number, not " + kind_of(given));
      }
      break;
    case ParamType::kStr:
      if (!std::holds_alternative<std::string>(given)) {
        throw fail("must be a string, not " + kind_of(given));
      }
      break;
    case ParamType::kBool:
      if (!std::holds_alternative<bool>(given)) {
        throw fail("must be true or false, not " + kind_of(given));
      }
      break;
  }

  if (spec.type == ParamType::kInt || spec.type == ParamType::kReal) {
    double number = spec.type == ParamType::kInt
                        ? static_cast<double>(std::get<std::int64_t>(value))
                        : std::get<double>(value);
    bool below = spec.min && number < *spec.min;
    bool above = spec.max && number > *spec.max;
    if (below || above) {
      throw fail("= " + to_toml(given) + " is out of range: expected " + describe_range(spec));
    }
  }
  if (spec.type == ParamType::kStr && !spec.choices.empty()) {
    const auto& text = std::get<std::string>(value);
    bool allowed = false;
    for (const auto& choice : spec.choices) allowed = allowed || choice == text;
    if (!allowed) {
      throw fail("= " + to_toml(given) + " is not allowed: expected " + describe_range(spec));
    }
  }
  if (spec.type == ParamType::kStr && spec.is_path) {
    value = resolve_path(std::get<std::string>(value), base_dir);
  }
  return value;
}

Value check_param(const ParamSpec& spec, const toml::node& node, const std::string& key,
                  const std::string& file) {
  std::optional<Value> value = scalar_of(node);
  if (!value) {
    std::string expected = spec.type == ParamType::kInt    ? "must be an integer"
                           : spec.type == ParamType::kReal ? "must be a number"
                           : spec.type == ParamType::kStr  ? "must be a string"
                                                           : "must be true or false";
    throw UserError(where(file, node) + ": " + key + " " + expected + ", not " + kind_of(node));
  }
  return check_value(spec, *value, key, where(file, node));
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
