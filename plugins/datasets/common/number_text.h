// A real parameter as a user would write it in an error message: 0.25, 3.0, 1e-05.
// The host has its own formatter for run keys and tables; a plugin only needs this.
#pragma once

#include <cstdio>
#include <string>

namespace orch_datasets {

inline std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  std::string out = text;
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";  // 3.0, not 3
  return out;
}

}  // namespace orch_datasets
