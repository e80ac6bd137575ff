// Typed plugin parameters: what a plugin declares, and the checked values it receives.
#pragma once

#include <cstdint>
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

}  // namespace orch
