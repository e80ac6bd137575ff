// The one entry point of a plugin library: ORCH_PLUGIN(name, version) { registry.add_... }
#pragma once

#include <torch/version.h>

#include <boost/dll/alias.hpp>

#include "orch/registry.h"

namespace orch {

// Bump on any change that breaks plugins built against an older SDK.
// 2: Batch::extra_inputs, DatasetInfo::task, Backend::supports, backend availability.
inline constexpr int kAbiVersion = 2;

// Read by the host before anything else in the library is touched, so its layout must
// never change: new fields go at the end, and only with an ABI bump.
struct PluginInfo {
  int abi_version;
  const char* name;
  const char* version;
  const char* torch_version;  // LibTorch the plugin was compiled against
  const char* compiler;       // compiler family and major version, e.g. "gcc 12"
};

using PluginInfoFn = const PluginInfo*();
using PluginRegisterFn = void(Registry&);

inline constexpr const char* kPluginInfoSymbol = "orch_plugin_info";
inline constexpr const char* kPluginRegisterSymbol = "orch_plugin_register";

}  // namespace orch

#define ORCH_DETAIL_STR2(x) #x
#define ORCH_DETAIL_STR(x) ORCH_DETAIL_STR2(x)
#if defined(__clang__)
#define ORCH_COMPILER_ID "clang " ORCH_DETAIL_STR(__clang_major__)
#elif defined(__GNUC__)
#define ORCH_COMPILER_ID "gcc " ORCH_DETAIL_STR(__GNUC__)
#elif defined(_MSC_VER)
#define ORCH_COMPILER_ID "msvc " ORCH_DETAIL_STR(_MSC_VER)
#else
#define ORCH_COMPILER_ID "unknown"
#endif

// Defines the plugin's two exported aliases (info and register) and opens the body of
// its register function, which receives `orch::Registry& registry`.
#define ORCH_PLUGIN(NAME, VERSION)                                                          \
  static void orch_plugin_register_impl(::orch::Registry& registry);                        \
  static const ::orch::PluginInfo* orch_plugin_info_impl() {                                \
    static const ::orch::PluginInfo info{::orch::kAbiVersion, NAME, VERSION, TORCH_VERSION, \
                                         ORCH_COMPILER_ID};                                 \
    return &info;                                                                           \
  }                                                                                         \
  BOOST_DLL_ALIAS(orch_plugin_info_impl, orch_plugin_info)                                  \
  BOOST_DLL_ALIAS(orch_plugin_register_impl, orch_plugin_register)                          \
  static void orch_plugin_register_impl(::orch::Registry& registry)
