#include "host/schedule/run_setup.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "host/base/memory_budget.h"
#include "host/base/user_error.h"
#include "host/guard/memory_cgroup.h"
#include "host/run/run_key.h"
#include "host/run/value_text.h"

namespace orch {
namespace {

// About what a forked worker holds before it trains: the host's anonymous pages (which
// fork shares with it) plus the LibTorch code pages that training touches.
std::int64_t worker_baseline_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stoll(line.substr(8)) * 1024 + (32ll << 20);
  }
  return 128ll << 20;
}

}  // namespace

namespace {

// "<folder of the database>/<its name without extension><suffix>", created; "" when it
// cannot be.
std::string beside_database(const std::string& db_path, const std::string& suffix) {
  namespace fs = std::filesystem;
  std::error_code ignored;
  fs::path db = fs::absolute(db_path, ignored);
  fs::path dir = db.parent_path() / (db.stem().string() + suffix);
  std::error_code error;
  fs::create_directories(dir, error);
  return error ? "" : dir.string();
}

}  // namespace

std::string logs_directory(const std::string& db_path) { return beside_database(db_path, "-logs"); }

std::string weights_directory(const std::string& db_path) {
  return beside_database(db_path, "-weights");
}

std::string checkpoints_directory(const std::string& db_path) {
  return beside_database(db_path, "-checkpoints");
}

std::string describe_enforcement() {
  const MemoryCgroupCheck check =
      check_memory_cgroup("orch-" + std::to_string(::getpid()) + "-check");
  std::string layers = "the watchdog (20 ms) and the allocator";
  if (check.can_create)
    return "a memory cgroup (v" + std::to_string(check.version) + "), " + layers;
  return layers + " (no memory cgroup: " + check.why_not + ")";
}

void check_budgets(const std::vector<RunSpec>& runs, int parallel_runs) {
  // A budget that leaves a worker no room to train would fail every run.
  const std::int64_t minimum = worker_baseline_bytes() + (64ll << 20);
  for (const auto& run : runs) {
    std::int64_t budget = run_budget(run, parallel_runs);
    if (budget < minimum) {
      throw UserError("the memory budget of " + describe_bytes(budget) +
                      " leaves no room to train: a worker holds about " +
                      describe_bytes(worker_baseline_bytes()) +
                      " before training starts (LibTorch and the plugins); set "
                      "train.memory_limit or --memory-limit to at least " +
                      describe_bytes(minimum));
    }
  }
}

std::string backend_unavailable(const RunSpec& run, const PluginCatalog& catalog) {
  const std::string& name = run.plugin("backend");
  const PluginEntry* entry = catalog.find(PluginKind::kBackend, name);
  if (entry == nullptr || entry->unavailable_reason.empty()) return "";
  return "backend '" + name + "' is not available on this machine: " + entry->unavailable_reason;
}

std::int64_t run_budget(const RunSpec& run, int parallel_runs) {
  const std::string& limit = run.train.memory_limit;
  const MachineMemory& machine = machine_memory_at_start();
  return limit.empty() ? default_budget(machine, parallel_runs)
                       : parse_budget(limit, machine, "train.memory_limit");
}

std::int64_t fixed_threads(const RunSpec& run) {
  const auto& backend = run.sections.at("backend").values;
  auto threads = backend.find("threads");
  if (threads == backend.end()) return 0;
  const auto* value = std::get_if<std::int64_t>(&threads->second);
  return value && *value > 0 ? *value : 0;
}

storage::RunRecord to_run_record(const RunSpec& run, std::int64_t budget_bytes,
                                 const std::string& note) {
  storage::RunRecord record;
  record.run_key = run.key;
  record.swept = run.swept_text() + (note.empty() ? "" : " (" + note + ")");
  record.repeat = run.repeat;
  record.memory_key = memory_key(run);
  record.budget_bytes = budget_bytes;
  record.batch_size = run.train.batch_size;
  record.config_key = run.config_key;
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [key, value] : run.flat_params()) {
    storage::ParamRecord param{key, "", std::nullopt};
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          params[key] = v;
          if constexpr (std::is_same_v<T, std::string>) {
            param.value_text = v;
          } else {
            param.value_text = to_toml(value);
            param.value_num = static_cast<double>(v);
          }
        },
        value);
    record.params.push_back(std::move(param));
  }
  params["experiment.seed"] = run.seed;
  record.params.push_back(
      {"experiment.seed", std::to_string(run.seed), static_cast<double>(run.seed)});
  record.params_json = params.dump();
  return record;
}

namespace {

// Where `section`.`param` of a run of `plugin` was set: its [section.plugin] or [section]
// entry, or the sweep axis that lists it; empty when the plugin's default is used.
std::string where_set(const Experiment& experiment, const std::string& section,
                      const std::string& plugin, const std::string& param) {
  for (const auto& axis : experiment.sweep) {
    for (const auto& key : axis.keys) {
      if (key.section == section && key.param == param &&
          (key.only_plugin.empty() || key.only_plugin == plugin)) {
        return key.at;
      }
    }
  }
  const SectionSource& source = experiment.sections.at(section);
  auto of_plugin = source.plugin_values.find(plugin);
  if (of_plugin != source.plugin_values.end()) {
    auto value = of_plugin->second.find(param);
    if (value != of_plugin->second.end()) return value->second.at;
  }
  auto value = source.values.find(param);
  return value == source.values.end() ? "" : value->second.at;
}

}  // namespace

void check_input_paths(const Experiment& experiment, const std::vector<RunSpec>& runs) {
  std::set<std::string> checked;  // "section.param=path": most runs share their files
  for (const auto& run : runs) {
    for (const auto& [section, resolved] : run.sections) {
      auto source = experiment.sections.find(section);
      if (source == experiment.sections.end()) continue;
      auto specs = source->second.specs.find(resolved.plugin);
      if (specs == source->second.specs.end()) continue;
      for (const auto& spec : specs->second) {
        if (!spec.is_path) continue;
        auto value = resolved.values.find(spec.name);
        if (value == resolved.values.end()) continue;
        const auto* path = std::get_if<std::string>(&value->second);
        if (path == nullptr || path->empty()) continue;
        if (!checked.insert(section + "." + spec.name + "=" + *path).second) continue;
        std::error_code error;
        if (std::filesystem::exists(*path, error)) continue;
        const std::string at = where_set(experiment, section, resolved.plugin, spec.name);
        throw UserError(
            (at.empty() ? experiment.file : at) + ": " + section + "." + spec.name + " (" +
            resolved.plugin + (at.empty() ? ", its default" : "") + "): " + *path +
            " does not exist (a relative path is taken from the experiment file's folder); "
            "create it first or give the right path");
      }
    }
  }
}

}  // namespace orch
