// Run keys identify finished runs in users' databases: resume skips a run whose key is
// already there. Any change to how a run is resolved, typed or hashed must leave every key
// as it was, or every user's history is run again. Pinned here over the shipped experiments
// and over a grid of 100,000 runs, as digests of all their keys in order.
#include <gtest/gtest.h>

#include <filesystem>

#include "host/run/run_key.h"
#include "host/sweep/sweep.h"
#include "tests/host/experiment_fixture.h"

namespace orch {
namespace {

class RunKeysPinnedTest : public testing::ExperimentFixture {
 protected:
  // FNV-1a over every run's key as the plan lists it, and over the key and configuration
  // key of every `stride`-th run as resolved for running, hashed from its own parameters.
  static std::string keys_digest(const SweepRuns& runs, size_t stride = 1) {
    std::string all;
    all.reserve(runs.size() * 17);
    for (size_t i = 0; i < runs.size(); ++i) all += runs.key(i) + " ";
    for (size_t i = 0; i < runs.size(); i += stride) {
      const RunSpec spec = runs.spec(i);
      const std::string key = run_key(spec.flat_params(), spec.seed, spec.repeat);
      EXPECT_EQ(key, runs.key(i)) << "run " << i;
      all += key + " " + spec.key + " " + spec.config_key + " ";
    }
    return stable_hash(all);
  }
};

TEST_F(RunKeysPinnedTest, EveryShippedExperimentKeepsItsRunKeys) {
  // experiments/NAME -> runs, digest of their keys
  const std::map<std::string, std::pair<size_t, std::string>> pinned = {
      {"quickstart.toml", {6, "821012f7ba8d52e1"}},
      {"keras_cnn.toml", {2, "1fbea09cde3fbff5"}},
      {"mnist_cnn.toml", {9, "d4350b34a2e5bfdd"}},
      {"transit_cnn1d.toml", {4, "f3b7b9e71b262f5f"}},
      {"multitask_transformer.toml", {3, "f5dd18d09935646d"}},
      {"unet.toml", {12, "74ea0d7e56919953"}},
      // A sampled search: the grid of its lists and its ranges' ends.
      {"search_mlp.toml", {32, "53313c7a29cdb409"}}};
  namespace fs = std::filesystem;
  // A path in a file ("../data/mnist") is resolved against the file's directory, and the
  // key hashes the resolved path: read the files from one fixed place, not the checkout.
  // (/tmp itself, not $TMPDIR, which may differ from machine to machine.)
  const fs::path fixed = "/tmp/orch-run-keys-pinned/experiments";
  fs::create_directories(fixed);
  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(std::string(ORCH_SOURCE_DIR) + "/experiments")) {
    if (entry.path().extension() != ".toml") continue;
    const std::string name = entry.path().filename().string();
    fs::copy_file(entry.path(), fixed / name, fs::copy_options::overwrite_existing);
    const Experiment experiment = load_experiment((fixed / name).string(), *catalog_, {});
    SweepRuns runs(experiment);
    const std::pair<size_t, std::string> now = {runs.size(), keys_digest(runs)};
    auto expected = pinned.find(name);
    if (expected == pinned.end() || expected->second != now) {
      ADD_FAILURE() << name << "'s run keys are not the pinned ones; if that is meant (a new "
                    << "file, or a change to it), pin {\"" << name << "\", {" << now.first << ", \""
                    << now.second << "\"}}";
      continue;
    }
    ++seen;
  }
  EXPECT_EQ(seen, pinned.size()) << "a pinned experiment is gone from experiments/";
}

TEST_F(RunKeysPinnedTest, AHundredThousandRunGridKeepsItsRunKeys) {
  const std::string text = testing::experiment_text(
      "plugin = \"mlp\"\n", "epochs = 1\nbatch_size = 8\n",
      "\"train.batch_size\" = { from = 1, to = 10, step = 1 }\n"
      "\"train.lr\" = { from = 1e-4, to = 1e-1, count = 10, scale = \"log\" }\n"
      "\"train.epochs\" = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
      "\"model.mlp.hidden\" = { from = 8, to = 80, step = 8 }\n"
      "\"train.weight_decay\" = { from = 0.0, to = 0.9, count = 10 }\n");
  const Experiment experiment = load(text);
  SweepRuns runs(experiment);
  ASSERT_EQ(runs.size(), 100000u);
  EXPECT_EQ(keys_digest(runs, 97), "9d8fca5a04ea0b4e");
}

}  // namespace
}  // namespace orch
