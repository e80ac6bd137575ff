// `orch doctor`: whether this machine is ready to measure training speed. What was read
// and measured (DoctorInput) becomes one finding per fact, each with a verdict and, where
// the verdict is not ok, what to do; the verdicts are plain functions of the input so that
// tests can hand them any machine.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/guard/memory_cgroup.h"
#include "host/machine/machine_facts.h"

namespace orch {

enum class Verdict { kOk, kWarning, kUnknown };

struct Finding {
  std::string topic;  // "blas", "matmul", "threads", ...
  Verdict verdict = Verdict::kOk;
  std::string fact;    // what was found, e.g. "2 usable (affinity 0-1) of 2"
  std::string advice;  // what to do when the verdict is not ok
};

// GFLOP/s of LibTorch's fp32 matrix product on some number of threads.
struct MatmulMeasurement {
  int threads = 0;
  double gflops = 0;
};

struct DoctorInput {
  MachineFacts facts;
  std::optional<LoadAverage> load;  // read before anything else ran
  MemoryCgroupCheck cgroup;
  std::int64_t memory_total_bytes = 0;
  std::int64_t memory_available_bytes = 0;
  int torch_default_threads = 0;  // 0: LibTorch could not be asked
  int matmul_size = 0;
  std::vector<MatmulMeasurement> matmul;  // one thread first, then every usable core
  std::string torch_unavailable;          // why LibTorch could not be loaded, if it could not
};

std::vector<Finding> diagnose(const DoctorInput& input);

// One finding per line, the verdict first, advice indented under it, and a last line that
// sums up: "ready to measure, with 2 warnings".
std::string render_findings(const std::vector<Finding>& findings);
std::string summarize(const std::vector<Finding>& findings);

std::string verdict_name(Verdict verdict);  // "ok", "warning", "unknown"

}  // namespace orch
