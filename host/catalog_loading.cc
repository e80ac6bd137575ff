#include "host/catalog_loading.h"

#include <spdlog/spdlog.h>

#include "host/plugin_paths.h"

namespace orch {

std::unique_ptr<PluginCatalog> load_catalog(const std::vector<std::string>& extra_dirs,
                                            bool warn_refusals) {
  auto catalog = std::make_unique<PluginCatalog>();
  for (const auto& dir : plugin_search_path(extra_dirs)) catalog->load_directory(dir);
  if (warn_refusals) {
    for (const auto& refusal : catalog->refusals()) spdlog::warn("plugin refused: {}", refusal);
  }
  return catalog;
}

}  // namespace orch
