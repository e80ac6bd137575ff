// Where the host looks for plugins, in order: the plugins it was built with (found
// relative to its own executable, in the build tree and after install alike), then
// ORCH_PLUGIN_PATH, then --plugin-dir. On a name clash the first one found wins.
#pragma once

#include <string>
#include <vector>

namespace orch {

std::string builtin_plugin_dir();
std::vector<std::string> plugin_search_path(const std::vector<std::string>& extra_dirs);

}  // namespace orch
