// What a person reads after a sweep: the runs as a table and the best configuration.
#pragma once

#include <string>
#include <vector>

#include "storage/store.h"

namespace orch {

std::string render_run_table(const std::vector<storage::RunSummary>& runs);
// The fastest ok run by epoch time, with the runner-up for scale; says so when no run
// finished ok.
std::string render_best(const std::vector<storage::RunSummary>& runs);

}  // namespace orch
