// orch doctor's verdicts on machines unlike this one: each finding's fact, verdict and
// advice from a DoctorInput built by hand.
#include "host/machine/doctor.h"

#include <gtest/gtest.h>

#include "host/machine/machine_facts.h"

namespace orch {
namespace {

const std::string kNetlib = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3";
const std::string kOpenBlas = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const Finding& finding(const std::vector<Finding>& findings, const std::string& topic) {
  for (const auto& f : findings)
    if (f.topic == topic) return f;
  static const Finding none;
  ADD_FAILURE() << "no finding on " << topic;
  return none;
}

// A two-core machine as this one is: netlib's BLAS loaded, no swap, idle, no governor.
DoctorInput two_core_machine() {
  DoctorInput input;
  input.facts.hardware_threads = 2;
  input.facts.usable_cpus = {0, 1};
  input.facts.blas = BlasLibrary{BlasKind::kNetlib, kNetlib, true};
  input.facts.memory_cgroup_version = 1;
  input.facts.swap = Swap{0, 0};
  input.load = LoadAverage{0.05, 1, 140};
  input.cgroup = MemoryCgroupCheck{1, true, ""};
  input.torch_default_threads = 1;
  input.matmul_size = 256;
  input.matmul = {{1, 6.6}, {2, 6.7}};
  return input;
}

TEST(DoctorVerdicts, NetlibBlasIsNamedWithThePackageThatReplacesIt) {
  const auto findings = diagnose(two_core_machine());
  const Finding& blas = finding(findings, "blas");
  EXPECT_EQ(blas.verdict, Verdict::kWarning);
  EXPECT_TRUE(contains(blas.fact, "netlib reference BLAS")) << blas.fact;
  EXPECT_TRUE(contains(blas.fact, kNetlib)) << blas.fact;
  EXPECT_TRUE(contains(blas.advice, "apt-get install libopenblas0-pthread")) << blas.advice;
  const Finding& matmul = finding(findings, "matmul");
  EXPECT_EQ(matmul.verdict, Verdict::kWarning) << "6.7 on 2 threads vs 6.6 on 1 is no scaling";
  EXPECT_TRUE(contains(matmul.fact, "6.6 GFLOP/s on 1 thread")) << matmul.fact;
  EXPECT_TRUE(contains(matmul.fact, "6.7 GFLOP/s on 2 threads")) << matmul.fact;
}

TEST(DoctorVerdicts, AnOptimizedBlasThatScalesIsOk) {
  DoctorInput input = two_core_machine();
  input.facts.blas = BlasLibrary{BlasKind::kOpenBlas, kOpenBlas, true};
  input.matmul = {{1, 60}, {2, 115}};
  const auto findings = diagnose(input);
  EXPECT_EQ(finding(findings, "blas").verdict, Verdict::kOk);
  EXPECT_EQ(finding(findings, "matmul").verdict, Verdict::kOk);
}

// LibTorch from pytorch.org links MKL in: no libblas in the process, nothing to install.
TEST(DoctorVerdicts, AnUnrecognizedOrAbsentBlasIsUnknownAndLeftToTheSpeed) {
  DoctorInput input = two_core_machine();
  for (const BlasLibrary& blas :
       {BlasLibrary{BlasKind::kUnknown, "/opt/x/libblas.so.3", true}, BlasLibrary{}}) {
    input.facts.blas = blas;
    const auto findings = diagnose(input);
    const Finding& found = finding(findings, "blas");
    EXPECT_EQ(found.verdict, Verdict::kUnknown) << found.fact;
    EXPECT_FALSE(contains(found.advice, "apt-get")) << found.advice;
    EXPECT_TRUE(contains(found.advice, "matmul")) << found.advice;
  }
}

TEST(DoctorVerdicts, AnIdleTwoCoreMachineLikeThisOneSaysWhatIsUnknown) {
  const auto findings = diagnose(two_core_machine());
  EXPECT_EQ(finding(findings, "cores").fact,
            "2 usable (affinity 0-1) of 2 hardware threads, no CPU quota");
  EXPECT_EQ(finding(findings, "cores").verdict, Verdict::kOk);
  EXPECT_EQ(finding(findings, "load").verdict, Verdict::kOk);
  EXPECT_EQ(finding(findings, "memory cgroup").fact, "cgroup v1, orch can create one per run");
  EXPECT_TRUE(contains(finding(findings, "memory").fact, "no swap"));
  const Finding& governor = finding(findings, "cpu governor");
  EXPECT_EQ(governor.verdict, Verdict::kUnknown);
  EXPECT_EQ(governor.fact, "not readable (virtual machine?)");
  EXPECT_EQ(summarize(findings), "ready to measure, with 2 warnings and 1 fact unknown");
  const std::string text = render_findings(findings);
  EXPECT_TRUE(contains(text, "warning  blas: netlib reference BLAS")) << text;
  EXPECT_TRUE(contains(text, "\nready to measure, with 2 warnings and 1 fact unknown\n")) << text;
}

TEST(DoctorVerdicts, ABusyMachineSwapInUseAndAPowersaveGovernorAreWarnings) {
  DoctorInput input = two_core_machine();
  input.load = LoadAverage{1.8, 3, 200};
  input.facts.swap = Swap{2LL << 30, 1LL << 30};
  input.facts.governors = {"powersave"};
  input.cgroup = MemoryCgroupCheck{2, false, "cannot create a memory cgroup under /x (EACCES)."};
  const auto findings = diagnose(input);
  const Finding& load = finding(findings, "load");
  EXPECT_EQ(load.verdict, Verdict::kWarning);
  EXPECT_TRUE(contains(load.fact, "1.80 over the last minute on 2 cores, 2 other processes"))
      << load.fact;
  EXPECT_TRUE(contains(finding(findings, "matmul").fact, "measured on a busy machine"))
      << "a speed measured beside other work is not the machine's";
  EXPECT_EQ(finding(findings, "memory").verdict, Verdict::kWarning);
  EXPECT_TRUE(contains(finding(findings, "memory").advice, "exceed RAM slowly"));
  EXPECT_EQ(finding(findings, "cpu governor").verdict, Verdict::kWarning);
  EXPECT_TRUE(contains(finding(findings, "cpu governor").advice, "performance"));
  EXPECT_EQ(finding(findings, "memory cgroup").verdict, Verdict::kWarning);
  EXPECT_TRUE(contains(finding(findings, "memory cgroup").fact, "orch cannot create one"));
}

// A container with two cores in its cpuset and one core's time in its quota.
TEST(DoctorVerdicts, ACpuQuotaBelowTheUsableCoresIsAWarning) {
  DoctorInput input = two_core_machine();
  input.facts.cpu_quota_cores = 1.0;
  const auto findings = diagnose(input);
  const Finding& cores = finding(findings, "cores");
  EXPECT_EQ(cores.verdict, Verdict::kWarning);
  EXPECT_TRUE(contains(cores.fact, "CPU quota 1.00 cores")) << cores.fact;
  EXPECT_TRUE(contains(cores.advice, "threads to at most 1")) << cores.advice;
  input.facts.cpu_quota_cores = 2.0;
  EXPECT_EQ(finding(diagnose(input), "cores").verdict, Verdict::kOk);
}

TEST(DoctorVerdicts, ThreadVariablesAboveTheCoresAreAWarning) {
  DoctorInput input = two_core_machine();
  input.facts.thread_environment = {"OMP_NUM_THREADS=8"};
  const auto findings = diagnose(input);
  const Finding& threads = finding(findings, "threads");
  EXPECT_EQ(threads.verdict, Verdict::kWarning);
  EXPECT_TRUE(contains(threads.fact, "OMP_NUM_THREADS=8"));
  EXPECT_TRUE(contains(threads.fact, "LibTorch starts with 1 intra-op thread"));
  input.facts.thread_environment = {"OMP_NUM_THREADS=2"};
  EXPECT_EQ(finding(diagnose(input), "threads").verdict, Verdict::kOk);
}

TEST(DoctorVerdicts, WithoutLibTorchTheSpeedIsUnknownAndSaysWhy) {
  DoctorInput input = two_core_machine();
  input.matmul.clear();
  input.torch_unavailable = "cannot load orch's training library: no such file";
  const auto findings = diagnose(input);
  const Finding& matmul = finding(findings, "matmul");
  EXPECT_EQ(matmul.verdict, Verdict::kUnknown);
  EXPECT_EQ(matmul.advice, input.torch_unavailable);
}

}  // namespace
}  // namespace orch
