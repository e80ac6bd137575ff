#include "host/sweep.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "host/param_check.h"
#include "host/sweep_rules.h"
#include "host/user_error.h"

namespace orch {
namespace {

// "key=value" lines of every resolved parameter: what a run key hashes.
std::string canonical_lines(const std::vector<std::pair<std::string, Value>>& flat_params) {
  std::string canonical;
  for (const auto& [key, value] : flat_params) canonical += key + "=" + to_toml(value) + "\n";
  return canonical;
}

std::string keyed(const std::string& canonical, std::int64_t seed, int repeat) {
  return stable_hash(canonical + "experiment.seed=" + std::to_string(seed) + "\n" +
                     "repeat=" + std::to_string(repeat) + "\n");
}

// The resolved section of each (section, plugin) pair, made once: the plugin's defaults,
// the section's values it declares, then its [section.<plugin>] values.
class SectionResolver {
 public:
  explicit SectionResolver(const Experiment& experiment) : experiment_(experiment) {}

  const Section& base(const std::string& section, const std::string& plugin) {
    auto key = std::make_pair(section, plugin);
    auto found = bases_.find(key);
    if (found != bases_.end()) return found->second;
    const SectionSource& source = experiment_.sections.at(section);
    const ParamSpecs& specs = source.specs.at(plugin);
    Section out{plugin, {}};
    for (const auto& spec : specs) out.values[spec.name] = spec.fallback;
    auto put = [&](const std::map<std::string, RawValue>& values) {
      for (const auto& [name, raw] : values) {
        if (const ParamSpec* spec = find_spec(specs, name)) {
          out.values[name] = check_value(*spec, raw.value, section + "." + name, raw.at,
                                         raw.base_dir);
        }
      }
    };
    put(source.values);
    auto own = source.plugin_values.find(plugin);
    if (own != source.plugin_values.end()) put(own->second);
    return bases_.emplace(key, std::move(out)).first->second;
  }

  // A value of the section that `plugin` does not declare, or nullptr.
  const std::pair<const std::string, RawValue>* foreign(const std::string& section,
                                                         const std::string& plugin) const {
    const SectionSource& source = experiment_.sections.at(section);
    for (const auto& entry : source.values) {
      if (find_spec(source.specs.at(plugin), entry.first) == nullptr) return &entry;
    }
    return nullptr;
  }

 private:
  const Experiment& experiment_;
  std::map<std::pair<std::string, std::string>, Section> bases_;
};

// "mlp, keras_cnn": the plugins of a section that declare `param`.
std::vector<std::string> declaring_names(const SectionSource& source, const std::string& param) {
  std::vector<std::string> out;
  for (const auto& [plugin, spec] : source.declaring(param)) out.push_back(plugin);
  return out;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// A value the run's plugin does not take: where it was written, and how to fix it.
UserError not_a_parameter(const std::string& at, const std::string& what,
                          const std::string& section, const std::string& plugin,
                          const RunSpec& run, const Experiment& experiment,
                          const std::string& remedy) {
  const SectionSource& source = experiment.sections.at(section);
  return UserError(at + ": " + what + " is not a parameter of " + section + " plugin '" +
                   plugin + "' (in the run " + run.swept_text() + "); " + plugin +
                   " takes: " + spec_names(source.specs.at(plugin)) + ". " + remedy +
                   ", or leave such runs out with a [[sweep.exclude]] rule");
}

size_t product_of(const Experiment& experiment) {
  size_t combinations = 1;
  std::string factors;
  for (const auto& axis : experiment.sweep) {
    factors += (factors.empty() ? "" : " x ") + std::to_string(axis.size());
    if (combinations > kMaxCombinations / axis.size()) {
      throw UserError(experiment.file + ": the sweep has more than " +
                      std::to_string(kMaxCombinations) + " combinations (" + factors +
                      " ...); sweep fewer values or split it into several files");
    }
    combinations *= axis.size();
  }
  return combinations;
}

// One combination of the product, resolved for the plugins it picks.
struct Combination {
  RunSpec run;
  std::map<std::string, std::string> plugin;  // section -> the plugin this run uses
  // The first swept value the run's plugin does not declare: an error if the run runs.
  const SweptKey* foreign_key = nullptr;
  const RawValue* foreign_value = nullptr;
};

Combination resolve(const Experiment& experiment, const std::vector<size_t>& digits,
                    SectionResolver& resolver) {
  const auto& axes = experiment.sweep;
  Combination out;
  for (const auto& [section, source] : experiment.sections) {
    out.plugin[section] = source.choices.front();
  }
  for (size_t i = 0; i < axes.size(); ++i) {
    for (const auto& key : axes[i].keys) {
      if (key.param == "plugin") {
        out.plugin[key.section] = std::get<std::string>(key.values[digits[i]].value);
      }
    }
  }
  RunSpec& run = out.run;
  for (const auto& [section, source] : experiment.sections) {
    run.sections[section] = resolver.base(section, out.plugin[section]);
  }
  for (size_t i = 0; i < axes.size(); ++i) {
    for (const auto& key : axes[i].keys) {
      const RawValue& raw = key.values[digits[i]];
      const std::string& used = out.plugin[key.section];
      if (key.param == "plugin") {
        run.swept.emplace_back(key.path(), raw.value);
        continue;
      }
      if (!key.only_plugin.empty() && key.only_plugin != used) continue;
      const std::string path = key.section + "." + key.param;
      const ParamSpec* spec =
          find_spec(experiment.sections.at(key.section).specs.at(used), key.param);
      if (spec == nullptr) {
        if (out.foreign_key == nullptr) {
          out.foreign_key = &key;
          out.foreign_value = &raw;
        }
        run.swept.emplace_back(path, raw.value);
        continue;
      }
      Value value = check_value(*spec, raw.value, path, raw.at, raw.base_dir);
      run.sections[key.section].values[key.param] = value;
      run.swept.emplace_back(path, value);
    }
  }
  return out;
}

// Throws UserError for a swept or fixed value the run's plugin does not declare.
void check_plugins_take_their_values(const Experiment& experiment, const Combination& combination,
                                     const SectionResolver& resolver) {
  if (const SweptKey* key = combination.foreign_key) {
    const std::string& section = key->section;
    auto others = declaring_names(experiment.sections.at(section), key->param);
    throw not_a_parameter(combination.foreign_value->at, "sweep key \"" + key->path() + "\"",
                          section, combination.plugin.at(section), combination.run, experiment,
                          "To sweep it only for " + joined(others) + ", write \"" + section +
                              "." + others.front() + "." + key->param + "\" instead");
  }
  for (const auto& [section, source] : experiment.sections) {
    const std::string& plugin = combination.plugin.at(section);
    if (const auto* value = resolver.foreign(section, plugin)) {
      auto others = declaring_names(source, value->first);
      throw not_a_parameter(value->second.at, section + "." + value->first, section, plugin,
                            combination.run, experiment,
                            "To give it only to " + joined(others) + ", move it to [" +
                                section + "." + others.front() + "]");
    }
  }
}

}  // namespace

std::vector<std::pair<std::string, Value>> RunSpec::flat_params() const {
  std::vector<std::pair<std::string, Value>> out;
  size_t size = 0;
  for (const auto& [section, values] : sections) size += 1 + values.values.size();
  out.reserve(size);
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
  return keyed(canonical_lines(flat_params), seed, repeat);
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
  static const char* const kIgnored[] = {
      "train.batch_size", "train.accumulation_steps", "train.epochs", "train.lr",
      "train.warmup_steps", "train.timeout", "train.on_oom", "train.memory_limit",
      "train.mode", "train.min_steps", "train.max_steps", "train.target_rel_ci",
      "train.weight_decay", "train.beta1", "train.beta2", "train.lr_schedule",
      "train.lr_step_epochs", "train.lr_gamma", "train.lr_min", "train.lr_pct_start",
      "train.lr_div_factor", "train.lr_final_div_factor", "train.grad_clip"};
  std::string canonical;
  for (const auto& [key, value] : run.flat_params()) {
    bool ignored = false;
    for (const char* name : kIgnored) ignored = ignored || key == name;
    if (!ignored) canonical += key + "=" + to_toml(value) + "\n";
  }
  return stable_hash(canonical);
}

SweepPlan plan_sweep(const Experiment& experiment) {
  SweepPlan plan;
  SweepCounts& counts = plan.counts;
  counts.combinations = product_of(experiment);
  counts.excluded_by_rule.assign(experiment.exclusions.size(), 0);
  SectionResolver resolver(experiment);
  std::set<std::string> seen;
  std::vector<std::pair<RunSpec, std::string>> configurations;  // with their canonical lines

  // Odometer over the axes: digit i picks a value of axis i, the last digit turns fastest.
  const auto& axes = experiment.sweep;
  std::vector<size_t> digits(axes.size());
  for (size_t combination = 0; combination < counts.combinations; ++combination) {
    size_t rest = combination;
    for (size_t i = axes.size(); i-- > 0;) {
      digits[i] = rest % axes[i].size();
      rest /= axes[i].size();
    }
    Combination resolved = resolve(experiment, digits, resolver);

    bool excluded = false;
    for (size_t r = 0; r < experiment.exclusions.size(); ++r) {
      if (excludes(experiment.exclusions[r], resolved.run.sections)) {
        ++counts.excluded_by_rule[r];
        excluded = true;
      }
    }
    if (excluded) {
      ++counts.excluded;
      continue;
    }
    check_plugins_take_their_values(experiment, resolved, resolver);
    // Two combinations can resolve alike: a per-plugin key that does not apply to this
    // run's plugin, or a value listed twice.
    RunSpec& run = resolved.run;
    std::string canonical = canonical_lines(run.flat_params());
    run.config_key = keyed(canonical, experiment.seed, 0);
    if (!seen.insert(run.config_key).second) {
      ++counts.duplicates;
      continue;
    }
    configurations.emplace_back(std::move(run), std::move(canonical));
  }

  if (configurations.empty()) {
    std::string lines;
    for (const auto& rule : experiment.exclusions) {
      lines += (lines.empty() ? "" : ", ") + std::to_string(rule.line);
    }
    throw UserError(experiment.file + ": the [[sweep.exclude]] rules (at line " + lines +
                    ") remove all " + std::to_string(counts.combinations) +
                    " combinations, so nothing would run; loosen or remove a rule");
  }
  for (size_t r = 0; r < experiment.exclusions.size(); ++r) {
    if (counts.excluded_by_rule[r] > 0) continue;
    const auto& rule = experiment.exclusions[r];
    plan.warnings.push_back(rule.at + ": the [[sweep.exclude]] rule at line " +
                            std::to_string(rule.line) +
                            " removes no combination; check its keys and values against the "
                            "sweep, or remove it");
  }

  // Repeats are the outer loop so that a slow drift of the machine spreads over every
  // configuration instead of landing on one.
  plan.runs.reserve(configurations.size() * static_cast<size_t>(experiment.repeats));
  for (int repeat = 0; repeat < experiment.repeats; ++repeat) {
    const bool last = repeat + 1 == experiment.repeats;
    for (auto& [configuration, canonical] : configurations) {
      RunSpec run = last ? std::move(configuration) : configuration;
      run.index = static_cast<int>(plan.runs.size());
      run.repeat = repeat;
      run.seed = experiment.seed + repeat;
      run.key = keyed(canonical, run.seed, run.repeat);
      plan.runs.push_back(std::move(run));
    }
  }
  return plan;
}

std::vector<RunSpec> expand_sweep(const Experiment& experiment) {
  return plan_sweep(experiment).runs;
}

}  // namespace orch
