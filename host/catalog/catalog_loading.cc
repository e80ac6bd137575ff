#include "host/catalog/catalog_loading.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "host/base/user_error.h"
#include "host/catalog/plugin_paths.h"

namespace orch {

std::unique_ptr<PluginCatalog> load_catalog(const std::vector<std::string>& extra_dirs,
                                            bool warn_refusals) {
  // A --plugin-dir the user typed must exist; a typo would otherwise just hide plugins.
  for (const auto& dir : extra_dirs) {
    std::error_code error;
    if (!std::filesystem::is_directory(dir, error)) {
      throw UserError("--plugin-dir " + dir + ": no such directory");
    }
  }
  auto catalog = std::make_unique<PluginCatalog>();
  for (const auto& dir : plugin_search_path(extra_dirs)) catalog->load_directory(dir);
  if (warn_refusals) {
    for (const auto& refusal : catalog->refusals()) spdlog::warn("plugin refused: {}", refusal);
  }
  return catalog;
}

}  // namespace orch
