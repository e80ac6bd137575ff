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

// "" when Debian's python3 imports `modules` ("torch, numpy"); otherwise why not and which
// packages install them, for GTEST_SKIP.
inline std::string python_cannot_import(const std::string& modules, const std::string& packages) {
  const std::string command =
      std::string(kDebianPython) + " -c 'import " + modules + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) == 0) return std::string();
  return std::string(kDebianPython) + " cannot import " + modules +
         " (scripts/install-deps.sh --tests installs " + packages + ")";
}

// torch and numpy: the tests that export models and data from Python.
inline std::string python_torch_missing() {
  static const std::string why = python_cannot_import("torch, numpy", "python3-torch");
  return why;
}

// pandas and matplotlib: the test of examples/pytorch/plot_sweep.py.
inline std::string python_plotting_missing() {
  static const std::string why =
      python_cannot_import("pandas, matplotlib", "python3-pandas and python3-matplotlib");
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
