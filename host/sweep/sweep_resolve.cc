#include "host/sweep/sweep_resolve.h"

#include "host/base/user_error.h"
#include "host/sweep/param_check.h"
#include "host/sweep/sweep.h"

namespace orch {
namespace {

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
                          const std::string& section, const std::string& plugin, const RunSpec& run,
                          const Experiment& experiment, const std::string& remedy) {
  const SectionSource& source = experiment.sections.at(section);
  return UserError(at + ": " + what + " is not a parameter of " + section + " plugin '" + plugin +
                   "' (in the run " + run.swept_text() + "); " + plugin +
                   " takes: " + spec_names(source.specs.at(plugin)) + ". " + remedy +
                   ", or leave such runs out with a [[sweep.exclude]] rule");
}

}  // namespace

const Section& SectionResolver::base(const std::string& section, const std::string& plugin) {
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
        out.values[name] =
            check_value(*spec, raw.value, section + "." + name, raw.at, raw.base_dir);
      }
    }
  };
  put(source.values);
  auto own = source.plugin_values.find(plugin);
  if (own != source.plugin_values.end()) put(own->second);
  return bases_.emplace(key, std::move(out)).first->second;
}

const std::pair<const std::string, RawValue>* SectionResolver::foreign(
    const std::string& section, const std::string& plugin) const {
  const SectionSource& source = experiment_.sections.at(section);
  for (const auto& entry : source.values) {
    if (find_spec(source.specs.at(plugin), entry.first) == nullptr) return &entry;
  }
  return nullptr;
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

void check_plugins_take_their_values(const Experiment& experiment, const Combination& combination,
                                     const SectionResolver& resolver) {
  if (const SweptKey* key = combination.foreign_key) {
    const std::string& section = key->section;
    auto others = declaring_names(experiment.sections.at(section), key->param);
    throw not_a_parameter(combination.foreign_value->at, "sweep key \"" + key->path() + "\"",
                          section, combination.plugin.at(section), combination.run, experiment,
                          "To sweep it only for " + joined(others) + ", write \"" + section + "." +
                              others.front() + "." + key->param + "\" instead");
  }
  for (const auto& [section, source] : experiment.sections) {
    const std::string& plugin = combination.plugin.at(section);
    if (const auto* value = resolver.foreign(section, plugin)) {
      auto others = declaring_names(source, value->first);
      throw not_a_parameter(value->second.at, section + "." + value->first, section, plugin,
                            combination.run, experiment,
                            "To give it only to " + joined(others) + ", move it to [" + section +
                                "." + others.front() + "]");
    }
  }
}

}  // namespace orch
