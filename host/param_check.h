// Turns a TOML value into a checked parameter value, or a UserError that names the
// file:line:column, the key and what was expected.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "orch/params.h"

namespace orch {

// "file.toml:12:3" for a node (the node's own position when TOML++ knows it).
std::string where(const std::string& file, const toml::node& node);
std::string where(const std::string& file, const toml::key& key);

// Checks `node` against `spec` (type, range, choices). `key` names the parameter in
// messages, e.g. "train.batch_size".
Value check_param(const ParamSpec& spec, const toml::node& node, const std::string& key,
                  const std::string& file);

// "hidden, layers" — the names of the specs, for "known: ..." messages.
std::string spec_names(const ParamSpecs& specs);

const ParamSpec* find_spec(const ParamSpecs& specs, const std::string& name);

}  // namespace orch
