// How a plugin tells the host what it offers. Implemented by the host, handed to the
// plugin's entry point once. No torch here: the host's catalog code stays light.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "orch/params.h"
#include "orch/types.h"

namespace orch {

class Backend;
class Dataset;
class Model;

using BackendFactory = std::function<std::unique_ptr<Backend>(const Params&)>;
using DatasetFactory = std::function<std::unique_ptr<Dataset>(const Params&)>;
using ModelFactory = std::function<std::unique_ptr<Model>(const Params&, const DatasetInfo&)>;
// Asked by the host before it starts a run on a backend: "" when the backend can run on
// this machine, otherwise why not ("LibTorch was built without CUDA"). It runs in the
// host process, so it must not initialise a device runtime (CUDA does not survive fork).
using BackendAvailability = std::function<std::string()>;

class Registry {
 public:
  virtual ~Registry() = default;

  virtual void add_backend(std::string name, ParamSpecs params, BackendFactory make,
                           BackendAvailability available = {}) = 0;
  virtual void add_dataset(std::string name, ParamSpecs params, DatasetFactory make) = 0;
  virtual void add_model(std::string name, ParamSpecs params, ModelFactory make) = 0;

  // T is constructed as T(const Params&). Without `available` the backend always is.
  template <class T>
  void add_backend(std::string name, ParamSpecs params, BackendAvailability available = {}) {
    add_backend(
        std::move(name), std::move(params),
        [](const Params& p) -> std::unique_ptr<Backend> { return std::make_unique<T>(p); },
        std::move(available));
  }
  // T is constructed as T(const Params&).
  template <class T>
  void add_dataset(std::string name, ParamSpecs params) {
    add_dataset(std::move(name), std::move(params),
                [](const Params& p) -> std::unique_ptr<Dataset> { return std::make_unique<T>(p); });
  }
  // T is constructed as T(const Params&, const DatasetInfo&).
  template <class T>
  void add_model(std::string name, ParamSpecs params) {
    add_model(std::move(name), std::move(params),
              [](const Params& p, const DatasetInfo& data) -> std::unique_ptr<Model> {
                return std::make_unique<T>(p, data);
              });
  }
};

}  // namespace orch
