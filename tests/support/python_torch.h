// Tests that export models and data the way a user does, from Python: Debian's own python3
// with python3-torch (the same LibTorch 1.13 build orch links) and numpy. The python3 first
// on PATH may be another one without torch, so the interpreter is named by its path.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace orch::testing {

inline const char* kDebianPython = "/usr/bin/python3";

// "" when Debian's python3 imports torch and numpy; otherwise why not, for GTEST_SKIP.
inline std::string python_torch_missing() {
  static const std::string why = [] {
    const std::string command =
        std::string(kDebianPython) + " -c 'import torch, numpy' >/dev/null 2>&1";
    if (std::system(command.c_str()) == 0) return std::string();
    return std::string(kDebianPython) +
           " cannot import torch and numpy (scripts/install-deps.sh --tests installs "
           "python3-torch)";
  }();
  return why;
}

// "" when Debian's python3 imports pandas and matplotlib; otherwise why not, for GTEST_SKIP.
inline std::string python_plotting_missing() {
  static const std::string why = [] {
    const std::string command =
        std::string(kDebianPython) + " -c 'import pandas, matplotlib' >/dev/null 2>&1";
    if (std::system(command.c_str()) == 0) return std::string();
    return std::string(kDebianPython) +
           " cannot import pandas and matplotlib (scripts/install-deps.sh --tests installs "
           "python3-pandas and python3-matplotlib)";
  }();
  return why;
}

// Runs `script` with Debian's python3 in `dir`; its output when it fails.
inline ::testing::AssertionResult run_python(const std::string& dir, const std::string& script) {
  const std::string file = dir + "/make.py";
  std::ofstream(file) << "import numpy as np, torch, torch.nn as nn\n" << script;
  const std::string command = "cd '" + dir + "' && " + kDebianPython + " make.py > make.log 2>&1";
  if (std::system(command.c_str()) == 0) return ::testing::AssertionSuccess();
  std::ifstream log(dir + "/make.log");
  return ::testing::AssertionFailure() << "python failed:\n"
                                       << std::string(std::istreambuf_iterator<char>(log), {});
}

}  // namespace orch::testing
