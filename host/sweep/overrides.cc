#include "host/sweep/overrides.h"

#include <toml++/toml.h>

#include <filesystem>

#include "host/base/text.h"
#include "host/base/user_error.h"
#include "host/sweep/param_check.h"

namespace orch {
namespace {

std::string current_directory() {
  std::error_code error;
  auto dir = std::filesystem::current_path(error);
  return error ? "" : dir.string();
}

}  // namespace

Override parse_override(const std::string& text) {
  auto equals = text.find('=');
  std::string key = equals == std::string::npos ? "" : trim(text.substr(0, equals));
  if (key.empty()) {
    throw UserError("--set " + text +
                    ": write --set KEY=VALUE with KEY a section.parameter, e.g. "
                    "--set train.epochs=1");
  }
  const std::string at = "--set " + key;
  const std::string value_text = text.substr(equals + 1);

  Value value = value_text;  // a bare word is a string
  if (value_text.find('\n') == std::string::npos) {
    toml::table parsed;
    try {
      parsed = toml::parse("value = " + value_text);
    } catch (const toml::parse_error&) {
      // Not a TOML value: the bare word stands.
    }
    if (const toml::node* node = parsed.get("value")) {
      if (node->is_array() || node->is_table()) {
        throw UserError(at + ": give one value, not " + kind_of(*node) +
                        "; to try several values, sweep the key under [sweep] in the file");
      }
      // A date or time stays the text it was written as.
      if (std::optional<Value> scalar = scalar_of(*node)) value = *scalar;
    }
  }
  return {key, {value, at, current_directory()}, "--set " + key + "=" + value_text};
}

Override memory_limit_override(const std::string& limit) {
  return {"train.memory_limit", {Value(limit), "--memory-limit", ""}, ""};
}

}  // namespace orch
