// Turns a value from the file or the command line into a checked parameter value, or a
// UserError that says where it came from (file:line:column or the flag), the key and what
// was expected.
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>

#include "orch/params.h"

namespace orch {

// "file.toml:12:3" for a node (the node's own position when TOML++ knows it).
std::string where(const std::string& file, const toml::node& node);
std::string where(const std::string& file, const toml::key& key);

// A TOML scalar as a Value; nothing for a list, a table, a date or a time.
std::optional<Value> scalar_of(const toml::node& node);
// "a string", "an integer", "a list", ... for messages.
std::string kind_of(const toml::node& node);
std::string kind_of(const Value& value);

// Checks `value` against `spec` (type, range, choices) and returns it as the declared
// type: an integer given for a real becomes a real, and a relative path parameter is
// resolved against `base_dir` (when not empty). `key` names the parameter and `at` says
// where the value came from ("exp.toml:12:3", "--set train.lr").
Value check_value(const ParamSpec& spec, const Value& value, const std::string& key,
                  const std::string& at, const std::string& base_dir = "");

// check_value for a TOML node, which must be a scalar.
Value check_param(const ParamSpec& spec, const toml::node& node, const std::string& key,
                  const std::string& file);

// A path parameter's value made absolute: relative ones are taken from `base_dir`.
std::string resolve_path(const std::string& path, const std::string& base_dir);

// "hidden, layers" — the names of the specs, for "known: ..." messages.
std::string spec_names(const ParamSpecs& specs);

const ParamSpec* find_spec(const ParamSpecs& specs, const std::string& name);

}  // namespace orch
