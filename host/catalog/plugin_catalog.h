// Every plugin the host found: what it offers, where it came from, and what was refused.
// The catalog is the Registry that plugins fill in through their entry point.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "orch/registry.h"

namespace boost::dll {
class shared_library;
}

namespace orch {

enum class PluginKind { kBackend, kDataset, kModel };
const char* kind_name(PluginKind kind);    // "backend"
const char* kind_plural(PluginKind kind);  // "backends"

struct PluginEntry {
  PluginKind kind;
  std::string name;
  ParamSpecs params;
  std::string library;  // the plugin library's own name and version, e.g. "mlp 1.0.0"
  std::string file;     // the shared library it came from
  // Backends: "" when usable on this machine, otherwise why not. Asked once, at load.
  std::string unavailable_reason;
  BackendFactory make_backend;
  DatasetFactory make_dataset;
  ModelFactory make_model;
};

class PluginCatalog : public Registry {
 public:
  PluginCatalog();
  ~PluginCatalog() override;
  PluginCatalog(const PluginCatalog&) = delete;
  PluginCatalog& operator=(const PluginCatalog&) = delete;

  // Loads every plugin library (*.so) in a directory, in name order. A directory that
  // does not exist is ignored: not every install has extra plugins.
  void load_directory(const std::string& dir);
  // Loads one library. Returns false, and keeps a refusal message, when it is not a
  // usable orch plugin; the plugins loaded before it stay usable.
  bool load_file(const std::string& path);

  const PluginEntry* find(PluginKind kind, const std::string& name) const;
  std::vector<const PluginEntry*> entries(PluginKind kind) const;
  // "cpu, cuda" — for "known: ..." messages.
  std::string names(PluginKind kind) const;
  const std::vector<std::string>& refusals() const { return refusals_; }
  const std::vector<std::string>& searched_directories() const { return directories_; }

  // Registry, called by a plugin's entry point while load_file() runs.
  void add_backend(std::string name, ParamSpecs params, BackendFactory make,
                   BackendAvailability available) override;
  void add_dataset(std::string name, ParamSpecs params, DatasetFactory make) override;
  void add_model(std::string name, ParamSpecs params, ModelFactory make) override;

 private:
  void add(PluginEntry entry);

  // Libraries stay loaded as long as the catalog lives: entries hold code from them.
  std::vector<std::shared_ptr<boost::dll::shared_library>> libraries_;
  std::vector<PluginEntry> entries_;
  std::vector<std::string> refusals_;
  std::vector<std::string> directories_;
  std::string loading_file_;  // set while a library's entry point runs
  std::string loading_library_;
};

}  // namespace orch
