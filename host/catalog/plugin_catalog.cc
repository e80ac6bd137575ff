#include "host/catalog/plugin_catalog.h"

#include <dlfcn.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <filesystem>

#include "orch/plugin.h"

namespace orch {
namespace fs = std::filesystem;

const char* kind_name(PluginKind kind) {
  switch (kind) {
    case PluginKind::kBackend:
      return "backend";
    case PluginKind::kDataset:
      return "dataset";
    case PluginKind::kModel:
      return "model";
  }
  return "?";
}

const char* kind_plural(PluginKind kind) {
  switch (kind) {
    case PluginKind::kBackend:
      return "backends";
    case PluginKind::kDataset:
      return "datasets";
    case PluginKind::kModel:
      return "models";
  }
  return "?";
}

PluginCatalog::PluginCatalog() = default;

// Entries hold std::function objects whose code lives in the libraries: drop them first.
PluginCatalog::~PluginCatalog() {
  entries_.clear();
  libraries_.clear();
}

void PluginCatalog::load_directory(const std::string& dir) {
  directories_.push_back(dir);
  std::error_code error;
  if (!fs::is_directory(dir, error)) return;
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(dir, error)) {
    if (item.path().extension() == boost::dll::shared_library::suffix().string()) {
      files.push_back(item.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) load_file(file.string());
}

namespace {

// Why a loaded library is not a plugin this orch can use (no orch entry point, another
// ABI, LibTorch or compiler); empty when it is one. Reading PluginInfo runs no plugin code
// but the entry point that returns a static struct.
std::string incompatibility(boost::dll::shared_library& library) {
  if (!library.has(kPluginInfoSymbol) || !library.has(kPluginRegisterSymbol)) {
    if (library.has(kAliasPluginInfoSymbol)) {
      return "built against an orch SDK older than plugin ABI 3 (Boost.DLL entry points); this "
             "orch uses ABI " +
             std::to_string(kAbiVersion) + "; rebuild the plugin against this orch's SDK";
    }
    return "a shared library without the orch entry point (ORCH_PLUGIN); "
           "it is not an orch plugin";
  }

  const PluginInfo* info = library.get<PluginInfoFn>(kPluginInfoSymbol)();
  if (info == nullptr || info->abi_version != kAbiVersion) {
    return "built for orch plugin ABI " + std::to_string(info ? info->abi_version : -1) +
           ", but this orch uses ABI " + std::to_string(kAbiVersion) +
           "; rebuild the plugin against this orch's SDK";
  }
  if (std::string(info->torch_version) != TORCH_VERSION) {
    return std::string("built against LibTorch ") + info->torch_version +
           ", but this orch uses LibTorch " TORCH_VERSION
           "; rebuild the plugin against the same LibTorch";
  }
  if (std::string(info->compiler) != ORCH_COMPILER_ID) {
    return std::string("built with ") + info->compiler +
           ", but this orch was built with " ORCH_COMPILER_ID
           "; rebuild the plugin with the same compiler";
  }
  return "";
}

}  // namespace

bool PluginCatalog::load_file(const std::string& path) {
  auto refuse = [&](const std::string& why) {
    refusals_.push_back(path + ": " + why);
    return false;
  };

  // dlopen's own reason ("invalid ELF header", a missing dependency) is what helps a
  // person; Boost.DLL reports only a generic error code. The handle keeps the library
  // loaded until Boost.DLL holds its own.
  void* probe = ::dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL);
  if (probe == nullptr) {
    const char* error_text = ::dlerror();  // reading it clears it: read once
    std::string reason = error_text ? error_text : "unknown reason";
    if (reason.rfind(path + ": ", 0) == 0) reason.erase(0, path.size() + 2);  // said already
    return refuse("not a loadable shared library (" + reason +
                  "); remove it from the plugin directory or rebuild it");
  }
  struct CloseProbe {
    void* handle;
    ~CloseProbe() { ::dlclose(handle); }
  } close_probe{probe};

  auto library = std::make_shared<boost::dll::shared_library>();
  boost::system::error_code error;
  // RTLD_LOCAL: two plugins with equal symbol names must not bind to each other.
  library->load(path, error, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
  if (error) {
    return refuse("not a loadable shared library (" + error.message() +
                  "); remove it from the plugin directory or rebuild it");
  }
  if (std::string why = incompatibility(*library); !why.empty()) return refuse(why);
  const PluginInfo* info = library->get<PluginInfoFn>(kPluginInfoSymbol)();

  loading_file_ = path;
  loading_library_ = std::string(info->name) + " " + info->version;
  size_t before = entries_.size();
  try {
    library->get<PluginRegisterFn>(kPluginRegisterSymbol)(*this);
  } catch (const std::exception& e) {
    // Whatever it registered may be half done: take all of it back.
    entries_.resize(before);
    loading_file_.clear();
    return refuse(std::string("its entry point threw: ") + e.what());
  }
  loading_file_.clear();
  libraries_.push_back(std::move(library));
  return true;
}

void PluginCatalog::add(PluginEntry entry) {
  entry.file = loading_file_;
  entry.library = loading_library_;
  if (const PluginEntry* taken = find(entry.kind, entry.name)) {
    refusals_.push_back(loading_file_ + ": " + kind_name(entry.kind) + " '" + entry.name +
                        "' refused: the name is already taken by " + taken->file +
                        "; remove one of the two or rename it");
    return;
  }
  entries_.push_back(std::move(entry));
}

void PluginCatalog::add_backend(std::string name, ParamSpecs params, BackendFactory make,
                                BackendAvailability available) {
  PluginEntry entry{PluginKind::kBackend, std::move(name), std::move(params)};
  entry.make_backend = std::move(make);
  if (available) {
    try {
      entry.unavailable_reason = available();
    } catch (const std::exception& e) {
      entry.unavailable_reason = std::string("its availability check failed: ") + e.what();
    }
  }
  add(std::move(entry));
}

void PluginCatalog::add_dataset(std::string name, ParamSpecs params, DatasetFactory make) {
  PluginEntry entry{PluginKind::kDataset, std::move(name), std::move(params)};
  entry.make_dataset = std::move(make);
  add(std::move(entry));
}

void PluginCatalog::add_model(std::string name, ParamSpecs params, ModelFactory make) {
  PluginEntry entry{PluginKind::kModel, std::move(name), std::move(params)};
  entry.make_model = std::move(make);
  add(std::move(entry));
}

const PluginEntry* PluginCatalog::find(PluginKind kind, const std::string& name) const {
  for (const auto& entry : entries_) {
    if (entry.kind == kind && entry.name == name) return &entry;
  }
  return nullptr;
}

std::vector<const PluginEntry*> PluginCatalog::entries(PluginKind kind) const {
  std::vector<const PluginEntry*> out;
  for (const auto& entry : entries_) {
    if (entry.kind == kind) out.push_back(&entry);
  }
  return out;
}

std::string PluginCatalog::names(PluginKind kind) const {
  std::string out;
  for (const auto* entry : entries(kind)) out += (out.empty() ? "" : ", ") + entry->name;
  return out.empty() ? "(none found)" : out;
}

}  // namespace orch
