// Locations of the plugins a test loads through the real loader, and a temp directory.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace orch::testing {

inline std::string builtin_plugins() { return ORCH_PLUGIN_OUTPUT_DIR; }
inline std::string fixture_dir(const std::string& name) {
  return std::string(ORCH_FIXTURE_DIR) + "/" + name;
}

// A fresh directory per test, removed afterwards.
class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "orch_test_XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    auto path = (std::filesystem::path(dir_) / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

}  // namespace orch::testing
