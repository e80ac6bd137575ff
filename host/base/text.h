// Small string helpers the host's parsers share. No torch here.
#pragma once

#include <string>

namespace orch {

// `text` without leading and trailing blanks, tabs and line ends.
inline std::string trim(const std::string& text) {
  constexpr const char* kBlank = " \t\r\n";
  const auto begin = text.find_first_not_of(kBlank);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(kBlank) - begin + 1);
}

}  // namespace orch
