// A plugin built against an SDK before plugin ABI 3, whose entry points were Boost.DLL
// aliases: data symbols holding the functions' addresses, not functions. Called as a
// function, its info symbol would crash the host; the host must refuse it by name.
#include <boost/dll/alias.hpp>

#include "orch/plugin.h"

namespace {

const orch::PluginInfo* old_info() {
  static const orch::PluginInfo info{2, "from_the_past", "0.9.0", TORCH_VERSION, ORCH_COMPILER_ID};
  return &info;
}

void old_register(orch::Registry&) {}

}  // namespace

BOOST_DLL_ALIAS(old_info, orch_plugin_info)
BOOST_DLL_ALIAS(old_register, orch_plugin_register)
