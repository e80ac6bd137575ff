#include "host/training/training_library.h"

#include <dlfcn.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <string>

#include "host/base/user_error.h"
#include "host/machine/matmul_speed.h"
#include "host/training/worker.h"

namespace orch {
namespace {

// Where the training library is looked for: relative to the orch executable.
std::string training_library_path() {
  // ORCH_TRAINING_LIBRARY_FROM_BIN is set by CMake, e.g. "../lib/orch/liborch_training.so".
  auto bin_dir = boost::dll::program_location().parent_path();
  return (bin_dir / ORCH_TRAINING_LIBRARY_FROM_BIN).lexically_normal().string();
}

// The library's `symbol`, loading the library on the first call.
void* training_symbol(const char* symbol_name) {
  static void* library = nullptr;
  const std::string path = training_library_path();
  if (library == nullptr) {
    // dlopen rather than Boost.DLL: dlerror() says why a library did not load ("No such
    // file or directory", "invalid ELF header"), which the user needs. Never closed:
    // forked workers run its code.
    library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (library == nullptr) {
      throw UserError("cannot load orch's training library: " + std::string(::dlerror()) +
                      "; it is built and installed with orch (cmake --build, cmake --install)");
    }
  }
  void* symbol = ::dlsym(library, symbol_name);
  if (symbol == nullptr) {
    throw UserError(path + " has no " + symbol_name +
                    ": it is not this orch's training library; rebuild or reinstall orch");
  }
  return symbol;
}

}  // namespace

WorkerBody load_worker_body() {
  static const auto body = reinterpret_cast<WorkerBody>(training_symbol(kWorkerBodySymbol));
  return body;
}

MatmulSpeed load_matmul_speed() {
  return reinterpret_cast<MatmulSpeed>(training_symbol(kMatmulSpeedSymbol));
}

TorchThreads load_torch_threads() {
  return reinterpret_cast<TorchThreads>(training_symbol(kTorchThreadsSymbol));
}

}  // namespace orch
