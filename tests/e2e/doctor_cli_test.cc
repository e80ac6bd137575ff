// `orch doctor` on this machine, as a user runs it: what it says about the BLAS LibTorch
// loaded, the speed of a matrix product, the cores and the memory cgroup, checked against
// what the test reads from the system itself; and the same facts in the machine record of
// an experiment that ran.
#include <sched.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "e2e_support.h"

namespace orch::e2e {
namespace {

namespace fs = std::filesystem;

const std::string kOrch = ORCH_BINARY;
constexpr std::chrono::milliseconds kTimeout{120000};

// The file Debian's alternatives make libblas.so.3 on this machine: what LibTorch loads.
std::string system_blas() {
  std::error_code error;
  const auto path = fs::canonical("/usr/lib/x86_64-linux-gnu/libblas.so.3", error);
  return error ? "" : path.string();
}

bool is_netlib(const std::string& path) {
  return path.find("/blas/libblas.so") != std::string::npos;
}

int usable_cores() {
  cpu_set_t set;
  return ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
}

// 2 with cgroup v2's memory controller, 1 with v1's, as the kernel mounted them.
int cgroup_version() {
  if (read_text("/sys/fs/cgroup/cgroup.controllers").find("memory") != std::string::npos) return 2;
  return fs::exists("/sys/fs/cgroup/memory") ? 1 : 0;
}

class DoctorCliTest : public FreshDirectoryTest {
 protected:
  DoctorCliTest() : FreshDirectoryTest("doctor_cli_test") {}
  RunResult orch(const std::vector<std::string>& args) {
    return run_in(dir_, kOrch, args, {}, kTimeout);
  }
};

TEST_F(DoctorCliTest, SaysWhichBlasHowFastAndHowManyCoresInAboutASecond) {
  const auto start = std::chrono::steady_clock::now();
  RunResult doctor = orch({"doctor"});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(doctor.exit_code, 0) << doctor.err;
  EXPECT_LT(seconds, 5.0) << "doctor should answer in a second or two";

  const std::string blas = system_blas();
  ASSERT_FALSE(blas.empty()) << "no libblas.so.3 on this machine";
  EXPECT_TRUE(contains(doctor.out, blas)) << doctor.out;
  if (is_netlib(blas)) {
    EXPECT_TRUE(contains(doctor.out, "warning  blas: netlib reference BLAS")) << doctor.out;
    EXPECT_TRUE(contains(doctor.out, "apt-get install libopenblas0-pthread")) << doctor.out;
  }

  // A real, positive speed on one thread.
  std::smatch speed;
  ASSERT_TRUE(std::regex_search(doctor.out, speed, std::regex("([0-9.]+) GFLOP/s on 1 thread")))
      << doctor.out;
  EXPECT_GT(std::stod(speed[1]), 0.1);

  const std::string cores = std::to_string(usable_cores());
  EXPECT_TRUE(contains(doctor.out, "cores: " + cores + " usable")) << doctor.out;
  if (cgroup_version() > 0) {
    EXPECT_TRUE(contains(doctor.out, "memory cgroup: cgroup v" + std::to_string(cgroup_version())))
        << doctor.out;
  }
  for (const char* topic : {"threads: ", "memory: ", "load: ", "cpu governor: "})
    EXPECT_TRUE(contains(doctor.out, topic)) << topic << " missing:\n" << doctor.out;
  const auto lines = lines_of(doctor.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("ready to measure", 0), 0u) << lines.back();
}

TEST_F(DoctorCliTest, JsonCarriesTheFindingsAndTheMachineFacts) {
  RunResult doctor = orch({"doctor", "--json"});
  ASSERT_EQ(doctor.exit_code, 0) << doctor.err;
  const auto report = nlohmann::json::parse(doctor.out);
  EXPECT_EQ(report["findings"].size(), 8u);
  EXPECT_EQ(report["machine"]["blas"]["library"], system_blas());
  EXPECT_EQ(report["machine"]["blas"]["loaded"], true);
  if (is_netlib(system_blas())) {
    EXPECT_EQ(report["machine"]["blas"]["kind"], "netlib");
  }
  ASSERT_FALSE(report["matmul"].empty());
  EXPECT_GT(report["matmul"][0]["gflops"].get<double>(), 0.1);
  EXPECT_EQ(report["summary"].get<std::string>().rfind("ready to measure", 0), 0u);
}

// A copy of the binary without liborch_training.so beside it: doctor still answers, says
// the speed is unknown and why, and names the BLAS the loader would pick.
TEST_F(DoctorCliTest, WithoutTheTrainingLibraryTheSpeedIsUnknownAndSaysWhy) {
  const fs::path bin = fs::path(dir_) / "install" / "bin";
  fs::create_directories(bin);
  fs::copy_file(kOrch, bin / "orch");
  RunResult doctor = run_in(dir_, (bin / "orch").string(), {"doctor"}, {}, kTimeout);
  ASSERT_EQ(doctor.exit_code, 0) << doctor.err;
  EXPECT_TRUE(contains(doctor.out, "unknown  matmul: not measured")) << doctor.out;
  EXPECT_TRUE(contains(doctor.out, "liborch_training.so")) << doctor.out;
  EXPECT_TRUE(contains(doctor.out, system_blas() + " ")) << doctor.out;
  EXPECT_TRUE(contains(doctor.out, "not loaded by LibTorch: the system's default")) << doctor.out;
}

// A cgroup with one core's CPU time, as a container gets with --cpus=1, and doctor run in
// it: the quota is named and is a warning on a machine with more usable cores. Needs a
// writable cpu controller (root; v1's cpu hierarchy, or v2's root with cpu delegated).
TEST_F(DoctorCliTest, ACpuQuotaBelowTheUsableCoresIsNamedAndWarned) {
  if (usable_cores() < 2) GTEST_SKIP() << "one usable core: a one-core quota is not below it";
  const bool v2 = cgroup_version() == 2;
  const std::string cgroup = (v2 ? "/sys/fs/cgroup/" : "/sys/fs/cgroup/cpu/") +
                             std::string("orch-doctor-test-") + std::to_string(::getpid());
  std::error_code error;
  if (!fs::create_directory(cgroup, error) || error)
    GTEST_SKIP() << "cannot create " << cgroup << ": " << error.message();
  const bool limited = v2 ? (std::ofstream(cgroup + "/cpu.max") << "100000 100000").good()
                          : (std::ofstream(cgroup + "/cpu.cfs_quota_us") << "100000").good();
  RunResult doctor;
  if (limited) {
    // The shell moves itself into the cgroup, then becomes orch.
    doctor = run_in(dir_, "/bin/sh",
                    {"-c", "echo $$ > " + cgroup + "/cgroup.procs && exec " + kOrch + " doctor"},
                    {}, kTimeout);
  }
  ::rmdir(cgroup.c_str());
  if (!limited) GTEST_SKIP() << "cannot set a CPU quota on " << cgroup;
  ASSERT_EQ(doctor.exit_code, 0) << doctor.err;
  EXPECT_TRUE(contains(doctor.out, "warning  cores: ")) << doctor.out;
  EXPECT_TRUE(contains(doctor.out, "CPU quota 1.00 cores")) << doctor.out;
  EXPECT_TRUE(contains(doctor.out, "threads to at most 1")) << doctor.out;
}

TEST_F(DoctorCliTest, AnExperimentsMachineRecordHoldsTheSameFacts) {
  const std::string file = write_file("tiny.toml", kTinyExperiment);
  const std::string db = path("history.db");
  RunResult run = orch({"run", file, "--db", db});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  RunResult doctor = orch({"doctor", "--json"});
  ASSERT_EQ(doctor.exit_code, 0) << doctor.err;
  const auto facts = nlohmann::json::parse(doctor.out)["machine"];

  const auto recorded = nlohmann::json::parse(text_value(db, "SELECT host FROM experiments"));
  for (const char* key : {"blas", "usable_cpus", "memory_cgroup_version", "swap_bytes",
                          "cpu_governor", "thread_environment", "cores"}) {
    EXPECT_EQ(recorded[key], facts[key]) << key;
  }
  EXPECT_EQ(recorded["blas"]["library"], system_blas());
  EXPECT_EQ(recorded["blas"]["loaded"], true) << "run records the BLAS LibTorch loaded";
  // The record is queryable as users do: SQLite's JSON functions.
  EXPECT_EQ(text_value(db, "SELECT json_extract(host, '$.blas.kind') FROM experiments"),
            recorded["blas"]["kind"].get<std::string>());
}

}  // namespace
}  // namespace orch::e2e
