#include "host/sweep.h"

#include <algorithm>
#include <cstdio>

namespace orch {

std::vector<std::pair<std::string, Value>> RunSpec::flat_params() const {
  std::vector<std::pair<std::string, Value>> out;
  for (const auto& [section, values] : sections) {
    if (!values.plugin.empty()) out.emplace_back(section + ".plugin", values.plugin);
    for (const auto& [name, value] : values.values) out.emplace_back(section + "." + name, value);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string RunSpec::swept_text() const {
  std::string out;
  for (const auto& [key, value] : swept) {
    out += (out.empty() ? "" : " ") + key + "=" + to_toml(value);
  }
  return out.empty() ? "-" : out;
}

std::string run_key(const std::vector<std::pair<std::string, Value>>& flat_params,
                    std::int64_t seed, int repeat) {
  std::string canonical;
  for (const auto& [key, value] : flat_params) canonical += key + "=" + to_toml(value) + "\n";
  canonical += "experiment.seed=" + std::to_string(seed) + "\n";
  canonical += "repeat=" + std::to_string(repeat) + "\n";
  return stable_hash(canonical);
}

std::string stable_hash(const std::string& text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

std::string memory_key(const RunSpec& run) {
  static const char* const kIgnored[] = {"train.batch_size", "train.accumulation_steps",
                                         "train.epochs", "train.lr", "train.warmup_steps",
                                         "train.timeout", "train.on_oom", "train.memory_limit",
                                         "train.mode", "train.min_steps", "train.max_steps",
                                         "train.target_rel_ci"};
  std::string canonical;
  for (const auto& [key, value] : run.flat_params()) {
    bool ignored = false;
    for (const char* name : kIgnored) ignored = ignored || key == name;
    if (!ignored) canonical += key + "=" + to_toml(value) + "\n";
  }
  return stable_hash(canonical);
}

std::vector<RunSpec> expand_sweep(const Experiment& experiment) {
  // Odometer over the axes: digit i picks a value of axis i, the last digit turns fastest.
  size_t combinations = 1;
  for (const auto& axis : experiment.sweep) combinations *= axis.values.size();

  std::vector<RunSpec> runs;
  runs.reserve(combinations * static_cast<size_t>(experiment.repeats));
  // Repeats are the outer loop so that a slow drift of the machine spreads over every
  // configuration instead of landing on one.
  for (int repeat = 0; repeat < experiment.repeats; ++repeat) {
    for (size_t combination = 0; combination < combinations; ++combination) {
      RunSpec run;
      run.index = static_cast<int>(runs.size());
      run.repeat = repeat;
      run.seed = experiment.seed + repeat;
      run.sections = experiment.sections;
      size_t rest = combination;
      std::vector<size_t> digits(experiment.sweep.size());
      for (size_t i = experiment.sweep.size(); i-- > 0;) {
        digits[i] = rest % experiment.sweep[i].values.size();
        rest /= experiment.sweep[i].values.size();
      }
      for (size_t i = 0; i < experiment.sweep.size(); ++i) {
        const auto& axis = experiment.sweep[i];
        const Value& value = axis.values[digits[i]];
        run.sections[axis.section].values[axis.param] = value;
        run.swept.emplace_back(axis.path(), value);
      }
      run.key = run_key(run.flat_params(), run.seed, run.repeat);
      run.config_key = run_key(run.flat_params(), experiment.seed, 0);
      runs.push_back(std::move(run));
    }
  }
  return runs;
}

}  // namespace orch
