// Which cgroup this process is in, per controller, from /proc/self/cgroup: where its memory
// cgroups are made (host/guard/memory_cgroup.h) and where its CPU quota is read
// (host/machine/machine_facts.h).
#pragma once

#include <optional>
#include <string>

namespace orch {

// The cgroup path in /proc/self/cgroup text (`text`) for `controller`: the cgroup v2 line
// "0::/path" when `controller` is empty, else the v1 line whose controller list names it
// ("4:memory:/path", "2:cpu,cpuacct:/path"). Without trailing slashes, so the root is "".
std::optional<std::string> cgroup_in(const std::string& text, const std::string& controller);

// The same for this process.
std::optional<std::string> own_cgroup(const std::string& controller);

}  // namespace orch
