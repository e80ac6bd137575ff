// Experiment files written to a temp directory and loaded through the real loader, with the
// built-in plugins and the fixture models (segfaults, memory_hog, ...) in the catalog.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host/base/user_error.h"
#include "host/sweep/experiment.h"
#include "host/sweep/overrides.h"
#include "host/sweep/sweep.h"
#include "test_paths.h"

namespace orch::testing {

// Three sections every file needs, around a [model] and [train] the test writes.
inline std::string experiment_text(const std::string& model, const std::string& train,
                                   const std::string& sweep = "") {
  return "[experiment]\nname = \"unit\"\nseed = 3\n\n"
         "[backend]\nplugin = \"cpu\"\nthreads = 1\n\n"
         "[dataset]\nplugin = \"synthetic\"\nsamples = 128\n\n"
         "[model]\n" +
         model + "\n[train]\n" + train + "\n" + (sweep.empty() ? "" : "[sweep]\n" + sweep);
}

class ExperimentFixture : public TempDir {
 protected:
  static void SetUpTestSuite() {
    catalog_ = new PluginCatalog();
    catalog_->load_directory(builtin_plugins());
    catalog_->load_directory(fixture_dir("faulty"));
  }
  static void TearDownTestSuite() {
    delete catalog_;
    catalog_ = nullptr;
  }

  static std::vector<Override> overrides_of(const std::vector<std::string>& sets) {
    std::vector<Override> out;
    for (const auto& text : sets) out.push_back(parse_override(text));
    return out;
  }
  Experiment load(const std::string& text, const std::vector<std::string>& sets = {}) {
    return load_experiment(write("exp.toml", text), *catalog_, overrides_of(sets));
  }
  SweepPlan plan(const std::string& text, const std::vector<std::string>& sets = {}) {
    return plan_sweep(load(text, sets));
  }
  // The message of the UserError that loading and expanding `text` throws.
  std::string error_of(const std::string& text, const std::vector<std::string>& sets = {}) {
    try {
      plan(text, sets);
    } catch (const UserError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected a UserError for:\n" << text;
    return "";
  }

  inline static PluginCatalog* catalog_ = nullptr;
};

inline std::vector<std::string> swept_texts(const std::vector<RunSpec>& runs) {
  std::vector<std::string> out;
  for (const auto& run : runs) out.push_back(run.swept_text());
  return out;
}

}  // namespace orch::testing
