// Running another program (sbatch) from the host and capturing what it prints.
#pragma once

#include <string>
#include <vector>

namespace orch {

// The first executable `program` in PATH, or empty.
std::string find_on_path(const std::string& program);

struct Captured {
  int exit_code = -1;  // 128 + signal when it died of a signal
  std::string out;
  std::string err;
};

// Runs `program args...` and waits for it, with stdout and stderr captured; both are read
// as they come so that neither pipe fills up. Throws std::runtime_error when it cannot
// start a process.
Captured run_capturing(const std::string& program, const std::vector<std::string>& args);

}  // namespace orch
