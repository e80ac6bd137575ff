// How much memory a run may use: parsed from "6GiB", "512MiB", "80%" (of the memory
// available when the sweep starts) or plain bytes, checked against this machine.
#pragma once

#include <cstdint>
#include <string>

namespace orch {

struct MachineMemory {
  std::int64_t total_bytes = 0;      // MemTotal
  std::int64_t available_bytes = 0;  // MemAvailable
};

// Reads /proc/meminfo. Throws std::runtime_error when it cannot.
MachineMemory read_machine_memory();

// The machine's memory as this process first read it: the one reference for "80%" and the
// default budget, so that every run of a sweep gets the same budget however available
// memory moves meanwhile (and /proc/meminfo is read once, not once per run).
const MachineMemory& machine_memory_at_start();

// The default budget: 80% of the available memory, split evenly between `parallel_runs`
// runs at once, rounded down to a multiple of 256 MiB so that sweeps started a minute
// apart get the same budget (and share probe answers and out-of-memory history).
std::int64_t default_budget(const MachineMemory& machine, int parallel_runs = 1);

// Parses `text` ("6GiB", "1.5 GiB", "512MiB", "300MB", "2G", "80%", "1073741824") into
// bytes. Binary units: KiB MiB GiB TiB (also K M G T, case-insensitive); decimal units:
// KB MB GB TB; a percentage is of machine.available_bytes. Throws UserError when the text
// is malformed, zero or negative, or larger than machine.total_bytes; the message quotes
// `text`, names `where` (e.g. "exp.toml:12:16: train.memory_limit" or "--memory-limit"),
// says what was wrong and gives an example of a valid value.
std::int64_t parse_budget(const std::string& text, const MachineMemory& machine,
                          const std::string& where);

// "6.0 GiB"
std::string describe_bytes(std::int64_t bytes);

}  // namespace orch
