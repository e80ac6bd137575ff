// Which machine a run measured: a fingerprint of what decides training speed, and a name
// for people. Several machines' runs can then share one history: merged databases keep
// each machine's results apart, resume is per machine, and `orch report --by machine`
// puts them side by side.
#pragma once

#include <cstdint>
#include <string>

#include "storage/store.h"

namespace orch {

// What decides how fast the same run trains here. Not the hostname (identical nodes of a
// cluster are one machine, so shards of a sweep merge as one) and not the load.
struct SpeedFacts {
  std::string cpu_model;
  int cores = 0;                  // the cores this process may use: affinity, capped by a quota
  std::int64_t memory_bytes = 0;  // total memory; the fingerprint counts whole GiB
  std::string accelerator;        // "NVIDIA A100-SXM4-40GB x2"; empty when none is visible
  std::string torch;              // the LibTorch version orch was built with
  std::string blas;               // the BLAS kind, as blas_kind_id() says it
};

// This machine's facts, read from /proc and /sys without LibTorch.
SpeedFacts read_speed_facts();

// The GPU models in the NVIDIA driver's /proc/driver/nvidia/gpus/*/information texts
// (their "Model:" lines), counted: "NVIDIA A100-SXM4-40GB x2"; empty for none.
std::string describe_gpu_models(const std::vector<std::string>& information_texts);

// 12 hex digits of a stable hash of the facts: equal facts give equal fingerprints on every
// machine and build; a different core count, GiB of memory, CPU, accelerator, LibTorch or
// BLAS gives another.
std::string machine_fingerprint(const SpeedFacts& facts);

// "Intel Xeon Gold 6248, 8 cores, 31 GiB" (plus ", NVIDIA A100 x2" with GPUs): the
// hardware, so that it reads well as a column of a comparison.
std::string default_machine_name(const SpeedFacts& facts);

// The facts as the JSON object stored in machines.facts.
std::string speed_facts_json(const SpeedFacts& facts);

// This machine's record for the database; `name` (orch run --machine NAME) replaces the
// default name. Throws UserError for a name that is blank or too long to print.
storage::MachineRecord this_machine(const std::string& name);

}  // namespace orch
