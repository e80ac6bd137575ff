// orch plugins: every plugin found, its parameters, the backends that cannot run on this
// machine and why, and every library refused.
#include <iostream>

#include "host/base/table.h"
#include "host/catalog/catalog_loading.h"
#include "host/cli/commands.h"
#include "host/run/value_text.h"

namespace orch {

int plugins_command(const Options& options) {
  auto catalog = load_catalog(options.plugin_dirs, /*warn_refusals=*/false);
  std::cout << "searched:";
  for (const auto& dir : catalog->searched_directories()) std::cout << " " << dir;
  std::cout << "\n";
  for (PluginKind kind : {PluginKind::kBackend, PluginKind::kDataset, PluginKind::kModel}) {
    for (const PluginEntry* entry : catalog->entries(kind)) {
      std::cout << "\n"
                << kind_name(kind) << " " << entry->name << "  (" << entry->library << ", "
                << entry->file << ")\n";
      if (!entry->unavailable_reason.empty()) {
        std::cout << "  not available on this machine: " << entry->unavailable_reason << "\n";
      }
      if (entry->params.empty()) {
        std::cout << "  no parameters\n";
        continue;
      }
      TextTable params({"  parameter", "type", "default", "range", "help"});
      for (const auto& spec : entry->params) {
        params.add_row({"  " + spec.name, type_name(spec.type), to_toml(spec.fallback),
                        describe_range(spec), spec.help});
      }
      std::cout << params.render();
    }
  }
  if (!catalog->refusals().empty()) {
    std::cout << "\nrefused:\n";
    for (const auto& refusal : catalog->refusals()) std::cout << "  " << refusal << "\n";
  }
  return 0;
}

}  // namespace orch
