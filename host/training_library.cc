#include "host/training_library.h"

#include <dlfcn.h>

#include <string>

#include <boost/dll/runtime_symbol_info.hpp>

#include "host/user_error.h"
#include "host/worker.h"

namespace orch {
namespace {

// Where the training library is looked for: relative to the orch executable.
std::string training_library_path() {
  // ORCH_TRAINING_LIBRARY_FROM_BIN is set by CMake, e.g. "../lib/orch/liborch_training.so".
  auto bin_dir = boost::dll::program_location().parent_path();
  return (bin_dir / ORCH_TRAINING_LIBRARY_FROM_BIN).lexically_normal().string();
}

}  // namespace

WorkerBody load_worker_body() {
  static WorkerBody body = nullptr;
  if (body != nullptr) return body;
  const std::string path = training_library_path();
  // dlopen rather than Boost.DLL: dlerror() says why a library did not load ("No such
  // file or directory", "invalid ELF header"), which the user needs. Never closed: forked
  // workers run its code.
  void* library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (library == nullptr) {
    throw UserError("cannot load orch's training library: " + std::string(::dlerror()) +
                    "; it is built and installed with orch (cmake --build, cmake --install)");
  }
  void* symbol = ::dlsym(library, kWorkerBodySymbol);
  if (symbol == nullptr) {
    throw UserError(path + " has no " + kWorkerBodySymbol +
                    ": it is not this orch's training library; rebuild or reinstall orch");
  }
  body = reinterpret_cast<WorkerBody>(symbol);
  return body;
}

}  // namespace orch
