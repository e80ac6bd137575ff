#include "host/machine.h"

#include <sys/utsname.h>
#include <torch/version.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

namespace orch {
namespace {

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

}  // namespace

std::string describe_machine_json() {
  nlohmann::json host;
  host["cpu"] = cpu_model();
  host["cores"] = std::thread::hardware_concurrency();
  host["memory_bytes"] =
      static_cast<std::int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGE_SIZE);
  utsname name{};
  if (::uname(&name) == 0) {
    host["os"] = std::string(name.sysname) + " " + name.release;
    host["hostname"] = name.nodename;
  }
#if defined(__VERSION__)
  host["compiler"] = __VERSION__;
#endif
  host["torch"] = TORCH_VERSION;
  host["orch"] = ORCH_VERSION;
  return host.dump();
}

}  // namespace orch
