#include "host/guard/memory_cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "host/guard/cgroup_membership.h"

namespace orch {
namespace {

const std::string kRoot = "/sys/fs/cgroup";

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

// Returns 0 or the errno. Cgroup files want the whole value in a single write(2).
int write_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t written = ::write(fd, text.data(), text.size());
  const int error = written == static_cast<ssize_t>(text.size()) ? 0 : (written < 0 ? errno : EIO);
  ::close(fd);
  return error;
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream words(text);
  std::string w;
  while (words >> w)
    if (w == word) return true;
  return false;
}

// The number after `key` in a "key value" file such as memory.events; 0 when absent.
std::int64_t read_key(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string name;
  std::int64_t value = 0;
  while (in >> name >> value)
    if (name == key) return value;
  return 0;
}

}  // namespace

int memory_cgroup_version() {
  std::string controllers;
  if (read_file(kRoot + "/cgroup.controllers", &controllers) && has_word(controllers, "memory"))
    return 2;
  if (::access((kRoot + "/memory").c_str(), F_OK) == 0) return 1;
  return 0;
}

MemoryCgroupCheck check_memory_cgroup(const std::string& name) {
  MemoryCgroupCheck check;
  check.version = memory_cgroup_version();
  // 64 MiB: any limit will do, nothing runs in the trial cgroup.
  auto trial = MemoryCgroup::create(name, 64ll << 20, &check.why_not);
  check.can_create = trial != nullptr;
  return check;  // the trial cgroup is removed here
}

std::unique_ptr<MemoryCgroup> MemoryCgroup::create(const std::string& name,
                                                   std::int64_t limit_bytes, std::string* why_not) {
  const auto give_up = [&](std::string why) {
    if (why_not) *why_not = std::move(why);
    return nullptr;
  };
  try {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
      return give_up("the cgroup name \"" + name + "\" is not a plain directory name.");
    if (limit_bytes <= 0) return give_up("a memory cgroup needs a limit of more than 0 bytes.");

    std::string parent;
    const int version = memory_cgroup_version();
    const auto own = own_cgroup(version == 2 ? "" : "memory");
    if (version == 2 && own) parent = kRoot + *own;
    if (version == 1 && own) parent = kRoot + "/memory" + *own;
    if (version == 0) return give_up("this system has no cgroup memory controller.");
    if (parent.empty())
      return give_up("/proc/self/cgroup does not name this process's memory cgroup.");

    std::string subtree;
    if (version == 2 && read_file(parent + "/cgroup.subtree_control", &subtree) &&
        !has_word(subtree, "memory")) {
      // v2 hands controllers down only from a cgroup that holds no processes itself.
      if (const int error = write_file(parent + "/cgroup.subtree_control", "+memory"))
        return give_up("cannot enable the memory controller for cgroups under " + parent + " (" +
                       std::strerror(error) +
                       "); cgroup v2 allows that only where the parent holds no processes, so "
                       "run orch in a cgroup of its own (e.g. systemd-run --user --scope).");
    }

    const std::string path = parent + "/" + name;
    if (::mkdir(path.c_str(), 0755) != 0) {
      const int error = errno;
      if (error == EACCES || error == EROFS || error == EPERM)
        return give_up("cannot create a memory cgroup under " + parent + " (" +
                       std::strerror(error) + "); orch needs write access there.");
      return give_up("cannot create the memory cgroup " + path + " (" + std::strerror(error) +
                     ").");
    }
    // Owned from here on, so giving up below also removes the half-made directory.
    std::unique_ptr<MemoryCgroup> cgroup(new MemoryCgroup(path, version));
    const std::string limit_file = path + (version == 1 ? "/memory.limit_in_bytes" : "/memory.max");
    if (const int error = write_file(limit_file, std::to_string(limit_bytes)))
      return give_up("cannot write the limit to " + limit_file + " (" + std::strerror(error) +
                     ").");
    // No swap, so the limit holds for all memory; kernels without swap accounting refuse.
    if (version == 1)
      write_file(path + "/memory.memsw.limit_in_bytes", std::to_string(limit_bytes));
    else
      write_file(path + "/memory.swap.max", "0");
    return cgroup;
  } catch (const std::exception& e) {
    return give_up(std::string("cannot set up a memory cgroup (") + e.what() + ").");
  }
}

MemoryCgroup::~MemoryCgroup() {
  // A killed process leaves its cgroup a moment after it dies; wait up to ~200 ms for that.
  for (int attempt = 0; attempt < 40; ++attempt) {
    if (::rmdir(path_.c_str()) == 0 || errno != EBUSY) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool MemoryCgroup::add(int pid) {
  return write_file(path_ + "/cgroup.procs", std::to_string(pid)) == 0;
}

std::int64_t MemoryCgroup::oom_kills() const {
  return read_key(path_ + (version_ == 1 ? "/memory.oom_control" : "/memory.events"), "oom_kill");
}

std::int64_t MemoryCgroup::peak_bytes() const {
  std::ifstream in(path_ + (version_ == 1 ? "/memory.max_usage_in_bytes" : "/memory.peak"));
  std::int64_t bytes = 0;
  return in >> bytes ? bytes : 0;
}

}  // namespace orch
