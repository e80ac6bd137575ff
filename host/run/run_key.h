// Run keys: the stable hashes that identify a run across machines, builds and reruns.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "host/run/run_spec.h"
#include "orch/params.h"

namespace orch {

// Runs with equal memory keys need the same memory per sample: everything but the batch
// size and what does not touch memory (epochs, learning rate and its schedule, seeds,
// limits) is equal.
std::string memory_key(const RunSpec& run);
// Whether a parameter ("train.lr", "model.hidden") is part of the memory key.
bool changes_memory(const std::string& key);

// False for the parameters that do not change what a run measures (train.save and the
// checkpoint keys): they are
// left out of run keys, so setting them never makes a finished run run again.
bool in_run_key(const std::string& flat_key);

// 16 hex digits of FNV-1a: the same text gives the same hash on every machine and build.
std::string stable_hash(const std::string& text);

// 16 hex digits: FNV-1a of the canonical "key=value" lines. Stable across machines and
// builds, so a rerun of the same file finds the runs it already did.
std::string run_key(const std::vector<std::pair<std::string, Value>>& flat_params,
                    std::int64_t seed, int repeat);

// batch_size = "auto": gives `run` the probe's answer. The batch size becomes one of the
// run's swept values, and its keys are those of its parameters with it, as if the file
// had said that batch size.
void settle_auto_batch_size(RunSpec& run, std::int64_t batch_size);

// The pieces run_key is made of, for SweepRuns, which hashes precomputed lines in turn
// instead of joining them: run_key(p, s, r) is
// hex16(fnv1a(fnv1a(kFnvOffset, canonical lines of p), key_suffix(s, r))).
inline constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
inline constexpr std::uint64_t kFnvPrime = 1099511628211ull;
std::uint64_t fnv1a(std::uint64_t hash, const std::string& text);
std::string hex16(std::uint64_t hash);
std::string key_suffix(std::int64_t seed, int repeat);

}  // namespace orch
