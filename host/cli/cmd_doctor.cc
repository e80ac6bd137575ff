// orch doctor: whether this machine is ready to measure, one finding per line with a
// verdict and what to do. It loads LibTorch (through the training library) to see which
// BLAS it uses and to time a matrix product, and forks nothing afterwards, so starting
// LibTorch's threads here is safe.
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "host/base/memory_budget.h"
#include "host/base/user_error.h"
#include "host/cli/commands.h"
#include "host/machine/admission.h"
#include "host/machine/doctor.h"
#include "host/machine/machine.h"
#include "host/training/training_library.h"

namespace orch {
namespace {

// 256 x 256: 34 MFLOP per product, 5 to 15 ms with netlib's BLAS on one core here, so that
// the whole measurement stays well under a second even on the slowest BLAS; the median of
// 9 products after a warm-up one.
constexpr int kMatmulSize = 256;
constexpr int kMatmulRepeats = 9;

void measure_with_libtorch(DoctorInput& input) {
  try {
    input.torch_default_threads = load_torch_threads()();
    const MatmulSpeed speed = load_matmul_speed();
    input.matmul_size = kMatmulSize;
    const int cores = static_cast<int>(input.facts.usable_cpus.size());
    for (int threads : {1, cores}) {
      if (threads < 1 || (!input.matmul.empty() && threads == input.matmul.back().threads))
        continue;
      const double gflops = speed(threads, kMatmulSize, kMatmulRepeats);
      if (gflops > 0) input.matmul.push_back({threads, gflops});
    }
  } catch (const UserError& e) {
    input.torch_unavailable = e.what();
  }
}

nlohmann::json findings_json(const DoctorInput& input, const std::vector<Finding>& findings) {
  nlohmann::json out;
  for (const auto& finding : findings) {
    out["findings"].push_back({{"topic", finding.topic},
                               {"verdict", verdict_name(finding.verdict)},
                               {"fact", finding.fact},
                               {"advice", finding.advice}});
  }
  for (const auto& m : input.matmul)
    out["matmul"].push_back(
        {{"threads", m.threads}, {"gflops", m.gflops}, {"size", input.matmul_size}});
  if (input.load)
    out["load"] = {{"one_minute", input.load->one_minute}, {"runnable", input.load->runnable}};
  out["machine"] = describe_machine();
  out["summary"] = summarize(findings);
  return out;
}

}  // namespace

int doctor_command(const Options& options) {
  DoctorInput input;
  // The load first: loading LibTorch and timing products below is load of our own.
  input.load = read_loadavg();
  input.facts.usable_cpus = usable_cpus();
  measure_with_libtorch(input);
  // After LibTorch is loaded, so that the BLAS named is the one it loaded.
  input.facts = read_machine_facts();
  input.cgroup = check_memory_cgroup("orch-" + std::to_string(::getpid()) + "-doctor");
  const MachineMemory memory = read_machine_memory();
  input.memory_total_bytes = memory.total_bytes;
  input.memory_available_bytes = memory.available_bytes;

  const std::vector<Finding> findings = diagnose(input);
  if (options.json) {
    std::cout << findings_json(input, findings).dump(2) << "\n";
  } else {
    std::cout << render_findings(findings);
  }
  return 0;
}

}  // namespace orch
