#include "host/machine/machine.h"

#include <sys/utsname.h>
#include <torch/version.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "host/machine/admission.h"
#include "host/machine/blas_library.h"
#include "host/machine/machine_facts.h"

namespace orch {
namespace {

std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : ",") + word;
  return text;
}

}  // namespace

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string this_hostname() {
  utsname name{};
  return ::uname(&name) == 0 ? name.nodename : "";
}

nlohmann::json describe_machine() {
  nlohmann::json host;
  host["cpu"] = cpu_model();
  host["cores"] = std::thread::hardware_concurrency();
  host["memory_bytes"] =
      static_cast<std::int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGE_SIZE);
  utsname name{};
  if (::uname(&name) == 0) host["os"] = std::string(name.sysname) + " " + name.release;
  host["hostname"] = this_hostname();
#if defined(__VERSION__)
  host["compiler"] = __VERSION__;
#endif
  host["torch"] = TORCH_VERSION;
  host["orch"] = ORCH_VERSION;
  const MachineFacts facts = read_machine_facts();
  host["usable_cpus"] = describe_cpus(facts.usable_cpus);
  host["cpu_quota_cores"] =
      facts.cpu_quota_cores ? nlohmann::json(*facts.cpu_quota_cores) : nlohmann::json();
  host["blas"] = {{"kind", blas_kind_id(facts.blas.kind)},
                  {"library", facts.blas.path},
                  {"loaded", facts.blas.loaded}};
  host["memory_cgroup_version"] = facts.memory_cgroup_version;
  if (facts.swap) host["swap_bytes"] = facts.swap->total_bytes;
  host["cpu_governor"] = facts.governors.empty() ? "unreadable" : join(facts.governors);
  host["thread_environment"] = facts.thread_environment;
  return host;
}

std::string describe_machine_json() { return describe_machine().dump(); }

}  // namespace orch
