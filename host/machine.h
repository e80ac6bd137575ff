// A description of the machine and software a sweep ran on, stored with the experiment
// so that numbers from different machines are never compared blindly.
#pragma once

#include <string>

namespace orch {

std::string describe_machine_json();

}  // namespace orch
