// Typed plugin parameters: what a plugin declares, and the checked values it receives.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace orch {

enum class ParamType { kInt, kReal, kStr, kBool };

// A resolved parameter value. Ints are 64-bit; an int given where a real is declared
// is converted, never the other way round.
using Value = std::variant<std::int64_t, double, std::string, bool>;

inline const char* type_name(ParamType type) {
  switch (type) {
    case ParamType::kInt:
      return "integer";
    case ParamType::kReal:
      return "real";
    case ParamType::kStr:
      return "string";
    case ParamType::kBool:
      return "boolean";
  }
  return "?";
}

// Prints a value the way it would be written in TOML (strings quoted).
std::string to_toml(const Value& value);

// Thrown by Params when a plugin asks for a parameter it did not declare or with the
// wrong type: a plugin bug, reported with the parameter's name.
class ParamError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// One declared parameter. The host validates experiment files against these before
// anything runs, so a plugin only ever sees values of the declared type and range.
// Built like LibTorch options: ParamSpec::Int("hidden", 64, "width").range(1, 65536).
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kInt;
  Value fallback;  // the default, of the declared type
  std::string help;
  std::optional<double> min;  // inclusive bounds for numbers
  std::optional<double> max;
  std::vector<std::string> choices;  // allowed values for strings; empty = any
  // A string naming a file or directory: the host resolves a relative one against the
  // directory of the experiment file, so a sweep runs the same from any directory.
  bool is_path = false;

  static ParamSpec Int(std::string name, std::int64_t fallback, std::string help) {
    return ParamSpec(std::move(name), ParamType::kInt, fallback, std::move(help));
  }
  static ParamSpec Real(std::string name, double fallback, std::string help) {
    return ParamSpec(std::move(name), ParamType::kReal, fallback, std::move(help));
  }
  static ParamSpec Str(std::string name, std::string fallback, std::string help) {
    return ParamSpec(std::move(name), ParamType::kStr, std::move(fallback), std::move(help));
  }
  static ParamSpec Bool(std::string name, bool fallback, std::string help) {
    return ParamSpec(std::move(name), ParamType::kBool, fallback, std::move(help));
  }

  ParamSpec at_least(double low) const {
    ParamSpec s = *this;
    s.min = low;
    return s;
  }
  ParamSpec at_most(double high) const {
    ParamSpec s = *this;
    s.max = high;
    return s;
  }
  ParamSpec range(double low, double high) const { return at_least(low).at_most(high); }
  ParamSpec path() const {
    ParamSpec s = *this;
    s.is_path = true;
    return s;
  }
  ParamSpec one_of(std::vector<std::string> allowed) const {
    ParamSpec s = *this;
    s.choices = std::move(allowed);
    return s;
  }

  // "integer >= 1", "real in [0, 1]", "one of sgd, adam"; empty when unconstrained.
  std::string describe_range() const;

 private:
  ParamSpec(std::string name_, ParamType type_, Value fallback_, std::string help_)
      : name(std::move(name_)),
        type(type_),
        fallback(std::move(fallback_)),
        help(std::move(help_)) {}
};

using ParamSpecs = std::vector<ParamSpec>;

// The validated values of one plugin section of a run, defaults filled in.
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, Value> values) : values_(std::move(values)) {}

  std::int64_t Int(const std::string& name) const { return get<std::int64_t>(name); }
  double Real(const std::string& name) const { return get<double>(name); }
  const std::string& Str(const std::string& name) const { return get<std::string>(name); }
  bool Bool(const std::string& name) const { return get<bool>(name); }

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  const std::map<std::string, Value>& values() const { return values_; }

 private:
  template <class T>
  const T& get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) {
      throw ParamError("parameter '" + name + "' was not declared by the plugin");
    }
    if (const T* value = std::get_if<T>(&it->second)) return *value;
    throw ParamError("parameter '" + name + "' is read with the wrong type");
  }
  std::map<std::string, Value> values_;
};

inline std::string to_toml(const Value& value) {
  struct Printer {
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const {
      std::string out = "\"";
      for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
    std::string operator()(double v) const {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.17g", v);
      std::string out = buffer;
      // Shortest form that reads back to the same double.
      for (int precision = 1; precision < 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, v);
        if (std::strtod(buffer, nullptr) == v) {
          out = buffer;
          break;
        }
      }
      // %g writes 20 as "2e+01"; people write numbers of ordinary size without exponent.
      double magnitude = v < 0 ? -v : v;
      if (out.find('e') != std::string::npos && magnitude >= 1e-4 && magnitude < 1e15) {
        for (int decimals = 0; decimals < 17; ++decimals) {
          std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
          if (std::strtod(buffer, nullptr) == v) {
            out = buffer;
            break;
          }
        }
      }
      if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
      return out;
    }
  };
  return std::visit(Printer{}, value);
}

inline std::string ParamSpec::describe_range() const {
  auto number = [this](double v) {
    if (type == ParamType::kInt) return std::to_string(static_cast<long long>(v));
    std::string text = to_toml(Value(v));
    if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) {
      text.resize(text.size() - 2);
    }
    return text;
  };
  std::string out;
  if (!choices.empty()) {
    out = "one of";
    for (size_t i = 0; i < choices.size(); ++i) out += (i ? ", " : " ") + choices[i];
    return out;
  }
  if (min && max)
    return std::string(type_name(type)) + " in [" + number(*min) + ", " + number(*max) + "]";
  if (min) return std::string(type_name(type)) + " >= " + number(*min);
  if (max) return std::string(type_name(type)) + " <= " + number(*max);
  return "";
}

}  // namespace orch
