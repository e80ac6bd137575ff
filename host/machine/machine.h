// A description of the machine and software a sweep ran on, stored with the experiment
// so that numbers from different machines are never compared blindly.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace orch {

// cpu, cores, memory, os, compiler, torch, and the facts `orch doctor` checks that do not
// change from minute to minute (host/machine/machine_facts.h): the BLAS library and its kind,
// usable cores and CPU quota, memory cgroup version, swap, CPU governor, thread variables. Not the
// BLAS's speed: timing it in the host of `orch run` would run LibTorch and the BLAS (and
// their threads) in a process that forks workers afterwards, and cost about 0.3 s per
// sweep with netlib's BLAS; `orch doctor` measures it.
nlohmann::json describe_machine();
std::string describe_machine_json();

// The CPU's model name from /proc/cpuinfo; "unknown" when it says none.
std::string cpu_model();

// This machine's network name (uname's nodename): what claims and unfinished runs are
// matched by, and what the machine record says. Empty when the system does not say.
std::string this_hostname();

}  // namespace orch
