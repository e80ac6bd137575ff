// A plugin built against a future SDK: its info declares an ABI this host does not speak.
#include "orch/plugin.h"

namespace {

void never_called(orch::Registry&) {}

}  // namespace

extern "C" ORCH_PLUGIN_EXPORT const orch::PluginInfo* orch_plugin_entry_info() {
  static const orch::PluginInfo info{orch::kAbiVersion + 998, "from_the_future", "9.0.0",
                                     TORCH_VERSION, ORCH_COMPILER_ID};
  return &info;
}

extern "C" ORCH_PLUGIN_EXPORT void orch_plugin_entry_register(orch::Registry& registry) {
  never_called(registry);
}
