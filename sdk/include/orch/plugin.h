// The one entry point of a plugin library: ORCH_PLUGIN(name, version) { registry.add_... }
#pragma once

#include <torch/version.h>

#include "orch/registry.h"

namespace orch {

// Bump on any change that breaks plugins built against an older SDK.
// 2: Batch::extra_inputs, DatasetInfo::task, Backend::supports, backend availability.
// 3: the entry points are plain extern "C" functions (no Boost for plugin authors).
// 4: Model::save.
inline constexpr int kAbiVersion = 4;

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

inline constexpr const char* kPluginInfoSymbol = "orch_plugin_entry_info";
inline constexpr const char* kPluginRegisterSymbol = "orch_plugin_entry_register";
// What plugins built against an SDK before ABI 3 export (Boost.DLL aliases, data symbols
// that hold the functions' addresses): the host recognises it only to ask for a rebuild.
inline constexpr const char* kAliasPluginInfoSymbol = "orch_plugin_info";

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

#if defined(_WIN32)
#define ORCH_PLUGIN_EXPORT __declspec(dllexport)
#else
#define ORCH_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

// Defines the plugin's two exported entry points (info and register) as plain C symbols,
// which the host finds by name, and opens the body of its register function, which
// receives `orch::Registry& registry`.
#define ORCH_PLUGIN(NAME, VERSION)                                                            \
  static void orch_plugin_register_impl(::orch::Registry& registry);                          \
  extern "C" ORCH_PLUGIN_EXPORT const ::orch::PluginInfo* orch_plugin_entry_info() {          \
    static const ::orch::PluginInfo info{::orch::kAbiVersion, NAME, VERSION, TORCH_VERSION,   \
                                         ORCH_COMPILER_ID};                                   \
    return &info;                                                                             \
  }                                                                                           \
  extern "C" ORCH_PLUGIN_EXPORT void orch_plugin_entry_register(::orch::Registry& registry) { \
    orch_plugin_register_impl(registry);                                                      \
  }                                                                                           \
  static void orch_plugin_register_impl(::orch::Registry& registry)
