#include "host/catalog/plugin_paths.h"

#include <boost/dll/runtime_symbol_info.hpp>
#include <cstdlib>
#include <sstream>

namespace orch {

std::string builtin_plugin_dir() {
  // ORCH_PLUGIN_DIR_FROM_BIN is set by CMake, e.g. "../lib/orch/plugins".
  auto bin_dir = boost::dll::program_location().parent_path();
  return (bin_dir / ORCH_PLUGIN_DIR_FROM_BIN).lexically_normal().string();
}

std::vector<std::string> plugin_search_path(const std::vector<std::string>& extra_dirs) {
  std::vector<std::string> dirs{builtin_plugin_dir()};
  if (const char* env = std::getenv("ORCH_PLUGIN_PATH")) {
    std::stringstream list(env);
    std::string dir;
    while (std::getline(list, dir, ':')) {
      if (!dir.empty()) dirs.push_back(dir);
    }
  }
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  return dirs;
}

}  // namespace orch
