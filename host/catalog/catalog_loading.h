// Loads the plugin catalog for a command and reports refused libraries as warnings.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host/catalog/plugin_catalog.h"

namespace orch {

std::unique_ptr<PluginCatalog> load_catalog(const std::vector<std::string>& extra_dirs,
                                            bool warn_refusals);

}  // namespace orch
