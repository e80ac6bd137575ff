#include "host/guard/memory_cgroup.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <optional>
#include <string>

namespace orch {
namespace {

constexpr std::int64_t kMiB = 1024 * 1024;
constexpr std::int64_t kLimit = 64 * kMiB;
constexpr std::int64_t kSlack = kMiB;  // the kernel charges in pages and small per-CPU batches

// Unique per process and per call, so parallel test processes do not clash.
std::string unique_name() {
  static int counter = 0;
  return "orch-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Forks a child that waits until the parent has moved it into `cgroup`, then writes to
// `bytes` of fresh memory and exits 0. Returns its wait status, or nothing when add() failed.
std::optional<int> run_child_in(MemoryCgroup& cgroup, std::int64_t bytes) {
  int go[2];
  if (::pipe(go) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(go[1]);
    char added = 0;
    if (::read(go[0], &added, 1) != 1 || added != 'y') ::_exit(3);
    void* memory =
        ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) ::_exit(4);
    // Touch every page: untouched pages are never charged.
    for (std::int64_t i = 0; i < bytes; i += 4096) static_cast<volatile char*>(memory)[i] = 1;
    ::_exit(0);
  }
  ::close(go[0]);
  const bool added = cgroup.add(pid);
  const char answer = added ? 'y' : 'n';
  (void)!::write(go[1], &answer, 1);
  ::close(go[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!added) return std::nullopt;
  return status;
}

#define CREATE_OR_SKIP(var, limit)                                                          \
  std::string why_not;                                                                      \
  std::unique_ptr<MemoryCgroup> var = MemoryCgroup::create(unique_name(), limit, &why_not); \
  if (!var) GTEST_SKIP() << "no memory cgroup here: " << why_not

bool knows_peak(const MemoryCgroup& cgroup) {
  return cgroup.version() == 1 || exists(cgroup.path() + "/memory.peak");
}

TEST(MemoryCgroupTest, AChildThatAllocatesThreeTimesTheLimitIsOomKilled) {
  CREATE_OR_SKIP(cgroup, kLimit);
  const std::optional<int> status = run_child_in(*cgroup, 3 * kLimit);
  ASSERT_TRUE(status) << "the kernel refused to move the child into " << cgroup->path();
  ASSERT_TRUE(WIFSIGNALED(*status)) << "the child exited with " << WEXITSTATUS(*status);
  EXPECT_EQ(WTERMSIG(*status), SIGKILL);
  EXPECT_GE(cgroup->oom_kills(), 1);
  if (knows_peak(*cgroup)) {
    EXPECT_GT(cgroup->peak_bytes(), 0);
    EXPECT_LE(cgroup->peak_bytes(), kLimit + kSlack);
  }
}

TEST(MemoryCgroupTest, AChildUnderTheLimitExitsNormallyWithoutOomKills) {
  CREATE_OR_SKIP(cgroup, kLimit);
  const std::optional<int> status = run_child_in(*cgroup, 16 * kMiB);
  ASSERT_TRUE(status) << "the kernel refused to move the child into " << cgroup->path();
  ASSERT_TRUE(WIFEXITED(*status)) << "the child died of signal " << WTERMSIG(*status);
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_EQ(cgroup->oom_kills(), 0);
  if (knows_peak(*cgroup)) {
    EXPECT_GE(cgroup->peak_bytes(), 16 * kMiB);
    EXPECT_LE(cgroup->peak_bytes(), kLimit + kSlack);
  }
}

TEST(MemoryCgroupTest, TheCgroupDirectoryIsRemovedWhenTheObjectIsDestroyed) {
  CREATE_OR_SKIP(cgroup, kLimit);
  const std::string path = cgroup->path();
  EXPECT_TRUE(exists(path));
  EXPECT_TRUE(cgroup->version() == 1 || cgroup->version() == 2);
  // Removal must also work right after a process in it was OOM-killed.
  ASSERT_TRUE(run_child_in(*cgroup, 3 * kLimit));
  cgroup.reset();
  EXPECT_FALSE(exists(path)) << path << " is still there";
}

TEST(MemoryCgroupTest, ABadNameIsExplainedNotThrown) {
  std::string why_not;
  EXPECT_EQ(MemoryCgroup::create("../escape", kLimit, &why_not), nullptr);
  EXPECT_NE(why_not.find("../escape"), std::string::npos) << why_not;
  why_not.clear();
  EXPECT_EQ(MemoryCgroup::create(unique_name(), 0, &why_not), nullptr);
  EXPECT_FALSE(why_not.empty());
}

// What `orch run` and `orch doctor` say about enforcement: the check agrees with a real
// create() and leaves nothing behind.
TEST(MemoryCgroupTest, TheCheckAgreesWithCreateAndLeavesNoCgroupBehind) {
  const std::string name = unique_name();
  const MemoryCgroupCheck check = check_memory_cgroup(name);
  std::string why_not;
  auto cgroup = MemoryCgroup::create(unique_name(), kLimit, &why_not);
  EXPECT_EQ(check.can_create, cgroup != nullptr) << check.why_not << " / " << why_not;
  EXPECT_EQ(check.why_not.empty(), check.can_create) << check.why_not;
  EXPECT_EQ(check.version, memory_cgroup_version());
  if (!cgroup) GTEST_SKIP() << "no memory cgroup here: " << why_not;
  EXPECT_EQ(check.version, cgroup->version());
  const std::string parent = cgroup->path().substr(0, cgroup->path().rfind('/'));
  EXPECT_FALSE(exists(parent + "/" + name)) << "the trial cgroup was not removed";
}

}  // namespace
}  // namespace orch
