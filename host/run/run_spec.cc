#include "host/run/run_spec.h"

#include <algorithm>

#include "host/run/value_text.h"

namespace orch {

void RunSpec::set_train(const std::string& name, Value value) {
  auto& values = sections.at("train").values;
  auto it = values.find(name);
  if (it == values.end() || it->second.index() != value.index()) {
    throw ParamError("train." + name + " is not a declared key of that type");
  }
  it->second = std::move(value);
  read_train();
}

void RunSpec::read_train() { train = read_train_options(params("train"), seed); }

std::vector<std::pair<std::string, Value>> RunSpec::flat_params() const {
  std::vector<std::pair<std::string, Value>> out;
  size_t size = 0;
  for (const auto& [section, values] : sections) size += 1 + values.values.size();
  out.reserve(size);
  for (const auto& [section, values] : sections) {
    if (!values.plugin.empty()) out.emplace_back(section + ".plugin", values.plugin);
    for (const auto& [name, value] : values.values) out.emplace_back(section + "." + name, value);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string RunSpec::swept_text() const {
  std::string out;
  for (const auto& [key, value] : swept) {
    out += (out.empty() ? "" : " ") + key + "=" + to_toml(value);
  }
  return out.empty() ? "-" : out;
}

}  // namespace orch
