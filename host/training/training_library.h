// The half of orch that trains (trainer, worker, optimizers: every file that calls
// LibTorch) is a library of its own, liborch_training.so beside the plugin directory.
// The orch binary does not link LibTorch, so the commands that only read the database
// (sql, best, report, merge) start in milliseconds instead of the 0.6 s that loading
// LibTorch takes. run and probe load the library once, before their first worker is
// forked, so every worker starts with it (and LibTorch) already in memory. `orch doctor`
// loads it to ask LibTorch about threads and to time a matrix product.
#pragma once

#include <cstdint>

#include "host/catalog/plugin_catalog.h"
#include "host/run/run_spec.h"

namespace orch {

// The body of a worker process (see host/training/worker.h).
using WorkerBody = int (*)(const RunSpec& run, const PluginCatalog& catalog, int event_fd,
                           std::int64_t max_steps);

// Loads the training library on the first call and returns its worker body. Throws
// UserError naming the file when it is missing or is not orch's.
WorkerBody load_worker_body();

// host/machine/matmul_speed.h: GFLOP/s of LibTorch's fp32 matrix product, and its thread count.
using MatmulSpeed = double (*)(int threads, int size, int repeats);
using TorchThreads = int (*)();
MatmulSpeed load_matmul_speed();
TorchThreads load_torch_threads();

}  // namespace orch
