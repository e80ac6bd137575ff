// The body of a worker process: builds the run's backend, dataset and model from the
// plugins, trains, and reports every step of the way as events. One catch turns any
// exception into a reported error; the exit code says whether the run finished.
// It lives in the training library (host/training/training_library.h); the host reaches it by
// this symbol.
#pragma once

#include <cstdint>

#include "host/catalog/plugin_catalog.h"
#include "host/run/run_spec.h"

namespace orch {

inline constexpr const char* kWorkerBodySymbol = "orch_worker_body";

}  // namespace orch

// max_steps > 0 makes it a memory trial (host/training/trainer.h memory_trial): optimizer steps
// until the peak stops growing, at most max_steps, with one validation batch in between.
extern "C" int orch_worker_body(const orch::RunSpec& run, const orch::PluginCatalog& catalog,
                                int event_fd, std::int64_t max_steps);
