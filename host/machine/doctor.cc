#include "host/machine/doctor.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <utility>

#include "host/base/memory_budget.h"
#include "host/machine/admission.h"

namespace orch {
namespace {

// Below this, one thread more than one makes a product hardly faster: the BLAS, or
// LibTorch's use of it, does not run in parallel.
constexpr double kMinimumSpeedup = 1.3;
// One-minute load average at which other processes are taking about half a core: enough
// to slow a run on every core it uses and to scatter its step times.
constexpr double kBusyLoad = 0.5;

std::string fixed(double value, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// "1 thread", "2 threads"; `many` for words whose plural is not word + "s".
std::string plural(long count, const std::string& word, const std::string& many = "") {
  return std::to_string(count) + " " + (count == 1 ? word : many.empty() ? word + "s" : many);
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string text;
  for (const auto& part : parts) text += (text.empty() ? "" : separator) + part;
  return text;
}

Finding about(const char* topic) {
  Finding finding;
  finding.topic = topic;
  return finding;
}

// Marks `finding` a warning, with what to do about it.
void warn(Finding& finding, std::string advice) {
  finding.verdict = Verdict::kWarning;
  finding.advice = std::move(advice);
}

Finding blas_finding(const DoctorInput& input) {
  const BlasLibrary& blas = input.facts.blas;
  Finding finding = about("blas");
  if (blas.kind == BlasKind::kNone) {
    finding.fact = "no BLAS library loaded by LibTorch or on the loader's path";
  } else {
    finding.fact = blas_kind_name(blas.kind) + ", " + blas.path;
    const std::string package = debian_blas_package(blas.path);
    if (!package.empty()) finding.fact += " (Debian package " + package + ")";
    // LibTorch was not loaded, or carries its own BLAS (pytorch.org's builds link MKL in).
    if (!blas.loaded) finding.fact += "; not loaded by LibTorch: the system's default";
  }
  if (std::string advice = blas_advice(blas); !advice.empty()) warn(finding, std::move(advice));
  if (blas.kind == BlasKind::kUnknown || blas.kind == BlasKind::kNone) {
    finding.verdict = Verdict::kUnknown;
    finding.advice = "the matmul line below says how fast matrix products are";
  }
  return finding;
}

Finding matmul_finding(const DoctorInput& input) {
  Finding finding = about("matmul");
  if (input.matmul.empty()) {
    finding.verdict = Verdict::kUnknown;
    finding.fact = "not measured";
    finding.advice =
        input.torch_unavailable.empty() ? "LibTorch could not be asked" : input.torch_unavailable;
    return finding;
  }
  std::vector<std::string> speeds;
  for (const auto& m : input.matmul)
    speeds.push_back(fixed(m.gflops, 1) + " GFLOP/s on " + plural(m.threads, "thread"));
  const std::string size = std::to_string(input.matmul_size);
  finding.fact = "fp32 " + size + "x" + size + " product: " + join(speeds, ", ");
  if (input.load && input.load->one_minute >= kBusyLoad)
    finding.fact += " (measured on a busy machine: see load)";
  const MatmulMeasurement& one = input.matmul.front();
  const MatmulMeasurement& all = input.matmul.back();
  if (all.threads > one.threads && all.gflops < one.gflops * kMinimumSpeedup) {
    warn(finding, "no faster on " + plural(all.threads, "thread") + " than on 1 (" +
                      fixed(all.gflops / one.gflops, 2) +
                      "x): matrix products use one core whatever `threads` says; a "
                      "multithreaded BLAS (see blas) fixes that");
  }
  return finding;
}

Finding threads_finding(const DoctorInput& input) {
  const MachineFacts& facts = input.facts;
  Finding finding = about("threads");
  const size_t cores = std::max<size_t>(1, facts.usable_cpus.size());
  std::string fact;
  if (input.torch_default_threads > 0)
    fact = "LibTorch starts with " + plural(input.torch_default_threads, "intra-op thread") + "; ";
  fact += "orch sets each worker's to the backend's `threads`, by default all " +
          plural(static_cast<long>(cores), "usable core") + " (cores / N each with -j N); ";
  fact += facts.thread_environment.empty()
              ? "OMP_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_NUM_THREADS not set"
              : join(facts.thread_environment, " ");
  finding.fact = fact;
  for (const auto& entry : facts.thread_environment) {
    const long value = std::strtol(entry.substr(entry.find('=') + 1).c_str(), nullptr, 10);
    if (value > static_cast<long>(cores)) {
      warn(finding, entry + " asks for more threads than the " +
                        plural(static_cast<long>(cores), "usable core") +
                        ": threads would share cores and time each other out; unset it or "
                        "lower it");
    }
  }
  return finding;
}

Finding cores_finding(const DoctorInput& input) {
  const MachineFacts& facts = input.facts;
  Finding finding = about("cores");
  finding.fact = std::to_string(facts.usable_cpus.size()) + " usable (affinity " +
                 describe_cpus(facts.usable_cpus) + ") of " +
                 std::to_string(facts.hardware_threads) + " hardware threads";
  const auto& quota = facts.cpu_quota_cores;
  finding.fact += quota ? ", CPU quota " + fixed(*quota, 2) + " cores" : ", no CPU quota";
  if (facts.usable_cpus.size() < facts.hardware_threads) {
    warn(finding,
         "this process may run on fewer cores than the machine has (taskset, a "
         "cpuset or a Slurm allocation): fine if meant; timings hold for these "
         "cores only");
  }
  if (quota && *quota < static_cast<double>(facts.usable_cpus.size())) {
    warn(finding, "the cgroup's CPU quota (a container's or a slice's) allows " + fixed(*quota, 2) +
                      " cores' time for " + std::to_string(facts.usable_cpus.size()) +
                      " usable cores: threads beyond the quota are paused every period and "
                      "steps stall; set the backend's threads to at most " +
                      std::to_string(std::max(1, static_cast<int>(*quota))) +
                      " or raise the quota");
  }
  return finding;
}

Finding cgroup_finding(const DoctorInput& input) {
  const MemoryCgroupCheck& check = input.cgroup;
  Finding finding = about("memory cgroup");
  if (check.version == 0) {
    finding.fact = "no memory controller";
  } else {
    finding.fact = "cgroup v" + std::to_string(check.version) + ", " +
                   (check.can_create ? "orch can create one per run"
                                     : "orch cannot create one: " + check.why_not);
  }
  if (!check.can_create) {
    warn(finding,
         "budgets are enforced by orch's watchdog alone (every 20 ms), so a run "
         "can overshoot briefly before it is stopped; run orch where it may create "
         "cgroups (e.g. systemd-run --user --scope orch ...)");
  }
  return finding;
}

Finding swap_finding(const DoctorInput& input) {
  Finding finding = about("memory");
  std::string fact;
  if (input.memory_total_bytes > 0)
    fact = describe_bytes(input.memory_total_bytes) + " RAM, " +
           describe_bytes(input.memory_available_bytes) + " available; ";
  const auto& swap = input.facts.swap;
  if (!swap) {
    finding.verdict = Verdict::kUnknown;
    finding.fact = fact + "swap unknown (/proc/meminfo has no SwapTotal)";
    return finding;
  }
  if (swap->total_bytes == 0) {
    finding.fact = fact + "no swap: a run that outgrows memory fails at once instead of slowing";
    return finding;
  }
  finding.fact = fact + describe_bytes(swap->total_bytes) + " swap, " +
                 describe_bytes(swap->used_bytes()) + " in use";
  if (swap->used_bytes() > 0) {
    warn(finding,
         "swap is in use: memory has been short, and pages a run needs may be on "
         "disk; swap lets a run exceed RAM slowly instead of failing, so its "
         "timings would be the disk's");
  }
  return finding;
}

Finding load_finding(const DoctorInput& input) {
  Finding finding = about("load");
  if (!input.load) {
    finding.verdict = Verdict::kUnknown;
    finding.fact = "/proc/loadavg not readable";
    return finding;
  }
  const size_t cores = std::max<size_t>(1, input.facts.usable_cpus.size());
  // The reader itself is one of the runnable processes.
  const int others = std::max(0, input.load->runnable - 1);
  finding.fact = fixed(input.load->one_minute, 2) + " over the last minute on " +
                 plural(static_cast<long>(cores), "core") + ", " +
                 plural(others, "other process", "other processes") + " running now";
  if (input.load->one_minute >= kBusyLoad) {
    warn(finding,
         "the machine is busy: runs measured now are slower and their step "
         "times scattered; stop the other work or wait for it");
  }
  return finding;
}

Finding governor_finding(const DoctorInput& input) {
  const auto& governors = input.facts.governors;
  Finding finding = about("cpu governor");
  if (governors.empty()) {
    finding.verdict = Verdict::kUnknown;
    finding.fact = "not readable (virtual machine?)";
    return finding;
  }
  finding.fact = join(governors, ", ");
  if (governors.size() != 1 || governors.front() != "performance") {
    warn(finding,
         "the clock follows the load, so the first steps of a run, and runs "
         "after an idle pause, are slower; for steady timings `sudo cpupower "
         "frequency-set -g performance`");
  }
  return finding;
}

}  // namespace

std::vector<Finding> diagnose(const DoctorInput& input) {
  return {blas_finding(input),  matmul_finding(input),  threads_finding(input),
          cores_finding(input), cgroup_finding(input),  swap_finding(input),
          load_finding(input),  governor_finding(input)};
}

std::string verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kWarning:
      return "warning";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string summarize(const std::vector<Finding>& findings) {
  const auto count = [&](Verdict verdict) {
    return std::count_if(findings.begin(), findings.end(),
                         [&](const Finding& f) { return f.verdict == verdict; });
  };
  std::string summary = "ready to measure";
  const long warnings = count(Verdict::kWarning), unknown = count(Verdict::kUnknown);
  if (warnings > 0) summary += ", with " + plural(warnings, "warning");
  if (unknown > 0)
    summary += (warnings > 0 ? " and " : ", with ") + plural(unknown, "fact") + " unknown";
  return summary;
}

std::string render_findings(const std::vector<Finding>& findings) {
  std::ostringstream out;
  for (const auto& finding : findings) {
    std::string verdict = verdict_name(finding.verdict);
    verdict.resize(9, ' ');
    out << verdict << finding.topic << ": " << finding.fact << "\n";
    if (!finding.advice.empty()) out << "         -> " << finding.advice << "\n";
  }
  out << summarize(findings) << "\n";
  return out.str();
}

}  // namespace orch
