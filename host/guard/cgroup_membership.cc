#include "host/guard/cgroup_membership.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace orch {

std::optional<std::string> cgroup_in(const std::string& text, const std::string& controller) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::replace(controllers.begin(), controllers.end(), ',', ' ');
    std::istringstream names(controllers);
    std::string name;
    bool match = controller.empty() && line.compare(0, second + 1, "0::") == 0;
    while (!controller.empty() && !match && names >> name) match = name == controller;
    if (!match) continue;
    std::string path = line.substr(second + 1);
    while (!path.empty() && path.back() == '/') path.pop_back();
    return path;
  }
  return std::nullopt;
}

std::optional<std::string> own_cgroup(const std::string& controller) {
  std::ifstream in("/proc/self/cgroup");
  std::ostringstream text;
  text << in.rdbuf();
  return cgroup_in(text.str(), controller);
}

}  // namespace orch
