// The facts orch doctor and the machine record read from /proc and /sys, parsed from
// sample text of other machines, and BLAS libraries named from their paths.
#include "host/machine/machine_facts.h"

#include <gtest/gtest.h>

#include "host/guard/cgroup_membership.h"
#include "host/machine/blas_library.h"

namespace orch {
namespace {

const std::string kNetlib = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3";
const std::string kOpenBlas = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3";

TEST(MachineFacts, LoadAverageGivesTheMinuteAndTheProcessesRunningNow) {
  const auto load = parse_loadavg("0.52 0.58 0.59 3/613 12345\n");
  ASSERT_TRUE(load);
  EXPECT_DOUBLE_EQ(load->one_minute, 0.52);
  EXPECT_EQ(load->runnable, 3);
  EXPECT_EQ(load->processes, 613);
  EXPECT_FALSE(parse_loadavg(""));
  EXPECT_FALSE(parse_loadavg("0.52 0.58 0.59 3 613"));
}

TEST(MachineFacts, SwapComesFromMeminfoInBytes) {
  const std::string meminfo =
      "MemTotal:       16318412 kB\nMemFree:         1049532 kB\n"
      "SwapCached:         1024 kB\nSwapTotal:       2097148 kB\nSwapFree:        1048574 kB\n";
  const auto swap = parse_swap(meminfo);
  ASSERT_TRUE(swap);
  EXPECT_EQ(swap->total_bytes, 2097148LL * 1024);
  EXPECT_EQ(swap->used_bytes(), (2097148LL - 1048574) * 1024);
  EXPECT_FALSE(parse_swap("MemTotal: 16318412 kB\n")) << "no swap lines: unknown, not zero";
}

TEST(MachineFacts, CpuListsExpandRangesAndRefuseGarbage) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list("5"), (std::vector<int>{5}));
  EXPECT_EQ(parse_cpu_list("\n"), std::vector<int>{});
  EXPECT_FALSE(parse_cpu_list("3-1"));
  EXPECT_FALSE(parse_cpu_list("0-"));
  EXPECT_FALSE(parse_cpu_list("a,b"));
}

TEST(MachineFacts, CpuQuotaInCoresFromCgroupV2AndV1) {
  EXPECT_EQ(parse_cpu_max("150000 100000\n"), 1.5);
  EXPECT_FALSE(parse_cpu_max("max 100000\n")) << "no limit";
  EXPECT_FALSE(parse_cpu_max(""));
  EXPECT_EQ(parse_cfs_quota("50000\n", "100000\n"), 0.5);
  EXPECT_FALSE(parse_cfs_quota("-1\n", "100000\n")) << "no limit";
  EXPECT_FALSE(parse_cfs_quota("", ""));
}

TEST(MachineFacts, OwnCgroupPerControllerFromProcSelfCgroup) {
  const std::string v1 =
      "9:name=systemd:/\n4:memory:/process_api/1cf6\n2:cpu,cpuacct:/user.slice/\n0::/\n";
  EXPECT_EQ(cgroup_in(v1, "memory"), "/process_api/1cf6");
  EXPECT_EQ(cgroup_in(v1, "cpu"), "/user.slice");
  EXPECT_EQ(cgroup_in(v1, "cpuacct"), "/user.slice");
  EXPECT_EQ(cgroup_in(v1, ""), "") << "the v2 line names the root";
  EXPECT_FALSE(cgroup_in(v1, "cpuset"));
  EXPECT_EQ(cgroup_in("0::/system.slice/orch.scope\n", ""), "/system.slice/orch.scope");
  EXPECT_FALSE(cgroup_in("0::/system.slice/orch.scope\n", "memory"));
}

TEST(BlasLibrary, TheLibraryComesFromTheMappedFiles) {
  const std::string maps =
      "7f17208a0000-7f17208a2000 r--p 00000000 08:01 1234 /usr/lib/x86_64-linux-gnu/libgomp.so.1\n"
      "7f17208b0000-7f17208c2000 r--p 00000000 00:00 0 \n"
      "7f1720792000-7f17207a2000 r--p 00000000 08:01 5678 " +
      kNetlib +
      "\n"
      "7f1720892000-7f17208a2000 r-xp 00010000 08:01 5678 " +
      kNetlib + "\n";
  const BlasLibrary blas = blas_in_maps(maps);
  EXPECT_EQ(blas.kind, BlasKind::kNetlib);
  EXPECT_EQ(blas.path, kNetlib);
  EXPECT_TRUE(blas.loaded);
  EXPECT_EQ(
      blas_in_maps("7f17208a0000-7f17208a2000 r--p 00000000 08:01 1 /usr/lib/libc.so.6\n").kind,
      BlasKind::kNone);
}

TEST(BlasLibrary, DebianFoldersNameTheImplementationAndItsPackage) {
  EXPECT_EQ(classify_blas_path(kNetlib), BlasKind::kNetlib);
  // What /proc/self/maps shows on Debian 12: the file behind the soname's links.
  EXPECT_EQ(classify_blas_path("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"),
            BlasKind::kNetlib);
  EXPECT_EQ(debian_blas_package(kNetlib), "libblas3");
  EXPECT_EQ(classify_blas_path(kOpenBlas), BlasKind::kOpenBlas);
  EXPECT_EQ(debian_blas_package(kOpenBlas), "libopenblas0-pthread");
  EXPECT_EQ(classify_blas_path("/usr/lib/x86_64-linux-gnu/libopenblas.so.0"), BlasKind::kOpenBlas);
  const std::string blis = "/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3";
  EXPECT_EQ(classify_blas_path(blis), BlasKind::kBlis);
  EXPECT_EQ(debian_blas_package(blis), "libblis4-openmp");
  EXPECT_EQ(classify_blas_path("/usr/lib/x86_64-linux-gnu/atlas/libblas.so.3"), BlasKind::kAtlas);
  EXPECT_EQ(classify_blas_path("/opt/intel/oneapi/mkl/lib/intel64/libmkl_rt.so.2"), BlasKind::kMkl);
  // A libblas.so.3 outside Debian's folders could be anything: not guessed.
  EXPECT_EQ(classify_blas_path("/opt/custom/lib/libblas.so.3"), BlasKind::kUnknown);
  EXPECT_EQ(debian_blas_package("/opt/custom/lib/libblas.so.3"), "");
}

}  // namespace
}  // namespace orch
