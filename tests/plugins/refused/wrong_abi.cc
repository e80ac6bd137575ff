// A plugin built against a future SDK: its info declares an ABI this host does not speak.
#include <boost/dll/alias.hpp>

#include "orch/plugin.h"

namespace {

const orch::PluginInfo* future_info() {
  static const orch::PluginInfo info{orch::kAbiVersion + 998, "from_the_future", "9.0.0",
                                     TORCH_VERSION, ORCH_COMPILER_ID};
  return &info;
}

void never_called(orch::Registry&) {}

}  // namespace

BOOST_DLL_ALIAS(future_info, orch_plugin_info)
BOOST_DLL_ALIAS(never_called, orch_plugin_register)
