// Expands an experiment into its runs: the cartesian product of the [sweep] lists, in
// file order with the last list varying fastest, all of it repeated `repeats` times.
#pragma once

#include <string>
#include <vector>

#include "host/experiment.h"
#include "host/run_spec.h"

namespace orch {

std::vector<RunSpec> expand_sweep(const Experiment& experiment);

// Runs with equal memory keys need the same memory per sample: everything but the batch
// size and what does not touch memory (epochs, learning rate, seeds, limits) is equal.
std::string memory_key(const RunSpec& run);

// 16 hex digits of FNV-1a: the same text gives the same hash on every machine and build.
std::string stable_hash(const std::string& text);

// 16 hex digits: FNV-1a of the canonical "key=value" lines. Stable across machines and
// builds, so a rerun of the same file finds the runs it already did.
std::string run_key(const std::vector<std::pair<std::string, Value>>& flat_params,
                    std::int64_t seed, int repeat);

}  // namespace orch
