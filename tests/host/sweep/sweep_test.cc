#include "host/sweep/sweep.h"

#include <gtest/gtest.h>

#include <set>

#include "host/run/run_key.h"
#include "host/sweep/builtin_params.h"
#include "tests/host/experiment_fixture.h"

namespace orch {
namespace {

using testing::experiment_text;
using testing::swept_texts;

const std::string kMlp = "plugin = \"mlp\"\nhidden = 8\n";
const std::string kTrain = "epochs = 1\nbatch_size = 8\nlr = 1e-3\n";
const std::string kTwoAxes = "\"train.batch_size\" = [2, 4, 8]\n\"train.epochs\" = [1, 2]\n";
// The fixture model memory_hog declares only mib_per_sample; mlp declares hidden and layers.
const std::string kTwoModels = "\"model.plugin\" = [\"mlp\", \"memory_hog\"]\n";

class SweepTest : public testing::ExperimentFixture {};

TEST_F(SweepTest, RunsAreTheCartesianProductWithTheLastListFastest) {
  auto runs = plan(experiment_text(kMlp, kTrain, kTwoAxes)).runs;
  ASSERT_EQ(runs.size(), 6u);
  EXPECT_EQ(swept_texts(runs),
            (std::vector<std::string>{
                "train.batch_size=2 train.epochs=1", "train.batch_size=2 train.epochs=2",
                "train.batch_size=4 train.epochs=1", "train.batch_size=4 train.epochs=2",
                "train.batch_size=8 train.epochs=1", "train.batch_size=8 train.epochs=2"}));
  EXPECT_EQ(runs[3].params("train").Int("batch_size"), 4);
  EXPECT_EQ(runs[3].params("train").Int("epochs"), 2);
  // Parameters outside the sweep keep the file's value.
  EXPECT_EQ(runs[3].params("model").Int("hidden"), 8);
}

TEST_F(SweepTest, RepeatsMultiplyTheRunsAndGetTheirOwnSeedsAndKeys) {
  std::string text = experiment_text(kMlp, kTrain, kTwoAxes);
  text.replace(text.find("seed = 3\n"), 9, "seed = 3\nrepeats = 3\n");
  auto runs = plan(text).runs;
  ASSERT_EQ(runs.size(), 18u);
  // Repeats are the outer loop: every configuration once before any twice.
  EXPECT_EQ(runs[0].repeat, 0);
  EXPECT_EQ(runs[6].repeat, 1);
  EXPECT_EQ(runs[6].swept_text(), runs[0].swept_text());
  EXPECT_EQ(runs[6].seed, runs[0].seed + 1);
  EXPECT_EQ(runs[6].config_key, runs[0].config_key) << "repeats share their configuration";
  std::set<std::string> keys;
  for (const auto& run : runs) keys.insert(run.key);
  EXPECT_EQ(keys.size(), runs.size()) << "every run must have its own key";
}

TEST_F(SweepTest, NoSweepMeansOneRunShownAsDash) {
  SweepPlan plan = this->plan(experiment_text(kMlp, kTrain));
  ASSERT_EQ(plan.runs.size(), 1u);
  EXPECT_EQ(plan.runs[0].swept_text(), "-");
  EXPECT_EQ(plan.counts.combinations, 1u);
}

TEST_F(SweepTest, RunKeysAreStableAndDependOnEveryResolvedValue) {
  auto first = plan(experiment_text(kMlp, kTrain, kTwoAxes)).runs;
  auto again = plan(experiment_text(kMlp, kTrain, kTwoAxes)).runs;
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i].key, again[i].key);
  EXPECT_EQ(first[0].key.size(), 16u);

  // A value that is not swept still changes the key: resume must not reuse a run made
  // with another model width.
  auto wider = plan(experiment_text("plugin = \"mlp\"\nhidden = 16\n", kTrain, kTwoAxes)).runs;
  EXPECT_NE(wider[0].key, first[0].key);

  std::string other_seed = experiment_text(kMlp, kTrain, kTwoAxes);
  other_seed.replace(other_seed.find("seed = 3"), 8, "seed = 8");
  EXPECT_NE(plan(other_seed).runs[0].key, first[0].key);
}

// Keeping the weights changes nothing a run measures: a file that asks for them again
// finds the runs it already did, and the run still carries the setting.
TEST_F(SweepTest, SavingWeightsLeavesRunKeysAsTheyWere) {
  auto plain = plan(experiment_text(kMlp, kTrain, kTwoAxes)).runs;
  auto saving = plan(experiment_text(kMlp, kTrain + "save = \"all\"\n", kTwoAxes)).runs;
  ASSERT_EQ(plain.size(), saving.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(plain[i].key, saving[i].key);
    EXPECT_EQ(plain[i].config_key, saving[i].config_key);
    EXPECT_EQ(plain[i].key, run_key(saving[i].flat_params(), saving[i].seed, saving[i].repeat))
        << "the sweep's precomputed keys and run_key agree";
  }
  EXPECT_EQ(saving[0].train.save, SaveWeights::kAll);
  EXPECT_EQ(plain[0].train.save, SaveWeights::kNone);
}

TEST_F(SweepTest, RunKeyIsAFixedFunctionOfTheParameters) {
  // Pinned: a change here silently re-runs every user's finished runs.
  std::vector<std::pair<std::string, Value>> params = {{"train.batch_size", std::int64_t{4}},
                                                       {"train.lr", 0.001},
                                                       {"model.plugin", std::string("mlp")}};
  EXPECT_EQ(run_key(params, 42, 0), run_key(params, 42, 0));
  EXPECT_NE(run_key(params, 42, 0), run_key(params, 42, 1));
  EXPECT_EQ(stable_hash(""), "cbf29ce484222325");  // FNV-1a 64 offset basis
  EXPECT_EQ(stable_hash("a"), "af63dc4c8601ec8c");
}

TEST_F(SweepTest, RunKeysOfKnownRunsNeverChange) {
  // Pinned to the keys orch gave these runs before plan was made fast: they identify
  // finished runs in users' databases, so a change re-runs all of them.
  auto runs = plan(experiment_text(kMlp, kTrain, kTwoAxes)).runs;
  ASSERT_EQ(runs.size(), 6u);
  EXPECT_EQ(runs[0].key, "d969dd3a941c3564");  // train.batch_size=2 train.epochs=1
  EXPECT_EQ(runs[3].key, "6a74d474b9740cbd");  // train.batch_size=4 train.epochs=2
  EXPECT_EQ(runs[5].key, "983b488c98208cc9");  // train.batch_size=8 train.epochs=2

  // A swept dataset plugin, a per-plugin key, a range, a rule, duplicates and repeats.
  std::string text =
      "[experiment]\nname = \"plugins\"\nseed = 2\nrepeats = 2\n\n"
      "[backend]\nplugin = \"cpu\"\n\n"
      "[dataset]\nsamples = 512\nnoise = 1\n\n"
      "[dataset.synthetic_images]\nheight = 8\nwidth = 8\n\n"
      "[model]\nplugin = \"mlp\"\n\n"
      "[train]\nepochs = 1\nbatch_size = 8\n\n"
      "[sweep]\n"
      "\"dataset.plugin\" = [\"synthetic\", \"synthetic_images\"]\n"
      "\"dataset.synthetic.features\" = [8, 16]\n"
      "\"dataset.classes\" = [2, 4, 4]\n"
      "\"train.lr\" = { from = 1e-4, to = 1e-2, count = 3, scale = \"log\" }\n\n"
      "[[sweep.exclude]]\n\"dataset.plugin\" = \"synthetic_images\"\n"
      "\"train.lr\" = { below = 1e-3 }\n";
  SweepPlan swept = plan(text);
  ASSERT_EQ(swept.runs.size(), 32u);
  EXPECT_EQ(swept.runs[0].key, "39ccbad08de21a1b");
  EXPECT_EQ(swept.runs[12].swept_text(),
            "dataset.plugin=\"synthetic_images\" dataset.classes=2 train.lr=0.001");
  EXPECT_EQ(swept.runs[12].key, "60434a6e2974050c");
  EXPECT_EQ(swept.runs[16].key, "2817571427b1ba69");  // run 1's configuration, repeat 1
  EXPECT_EQ(swept.runs[31].key, "4154367fb7ccdda4");
}

// What `orch plan` lists (SweepRuns) and what `orch run` runs (RunSpecs) must agree, and
// every key must be the hash of the run's own resolved parameters.
TEST_F(SweepTest, PlanAndRunAgreeOnEveryRunAndKey) {
  const std::string two_models_text =
      experiment_text("[model.mlp]\nhidden = 4\n", kTrain,
                      kTwoModels +
                          "\"model.mlp.hidden\" = [8, 16]\n"
                          "\"train.batch_size\" = [2, 4, 4]\n\n"
                          "[[sweep.zip]]\n\"train.lr\" = [1, 2e-3]\n"
                          "\"train.optimizer\" = [\"sgd\", \"adam\"]\n\n"
                          "[[sweep.exclude]]\n\"model.plugin\" = \"memory_hog\"\n"
                          "\"train.batch_size\" = 2\n");
  std::string repeated = two_models_text;
  repeated.replace(repeated.find("seed = 3\n"), 9, "seed = 3\nrepeats = 3\n");
  for (const std::string& text : {experiment_text(kMlp, kTrain), two_models_text, repeated}) {
    Experiment experiment = load(text);
    SweepRuns runs(experiment);
    std::vector<RunSpec> specs = runs.specs();
    ASSERT_EQ(runs.size(), specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      const RunSpec& spec = specs[i];
      EXPECT_EQ(spec.index, static_cast<int>(i));
      EXPECT_EQ(runs.key(i), spec.key) << i;
      EXPECT_EQ(spec.key, run_key(spec.flat_params(), spec.seed, spec.repeat)) << i;
      EXPECT_EQ(spec.config_key, run_key(spec.flat_params(), experiment.seed, 0)) << i;
      EXPECT_EQ(runs.repeat(i), spec.repeat);
      std::string swept;
      runs.append_swept_text(i, swept);
      EXPECT_EQ(swept, spec.swept_text());
      EXPECT_EQ(runs.swept_text_size(i), swept.size());
      EXPECT_EQ(runs.spec(i).key, spec.key);
      EXPECT_EQ(runs.spec(i).sections.at("model").values, spec.sections.at("model").values);
    }
  }
  SweepPlan swept = plan(repeated);
  EXPECT_EQ(swept.counts.excluded, 4u);
  EXPECT_EQ(swept.counts.duplicates, 10u) << "4 twice, and memory_hog ignores mlp's width";
  EXPECT_EQ(swept.runs.size(), 3u * (24 - 4 - 10));
}

// plan checks [train] on witnesses instead of every run: the errors must be the ones every
// run gives, naming the same run and value.
TEST_F(SweepTest, TrainWitnessesGiveTheErrorsOfEveryRun) {
  auto message = [](const Experiment& experiment, const std::vector<RunSpec>& runs) {
    try {
      check_train_keys(experiment, runs);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  // lr_gamma is read only by the step schedule; the message shows the last value set. The
  // rule makes the runs' [train] sections come back (A B A), so the first and the last
  // runs of a kind are not in the same order.
  const std::string gamma = "\"train.lr_gamma\" = [0.2, 0.5]\n";
  const std::string rule_leaves_a_hole =
      "\n[[sweep.exclude]]\n\"model.hidden\" = 16\n"
      "\"train.lr_gamma\" = 0.5\n";
  const std::string cosine =
      "\"train.lr_schedule\" = [\"constant\", \"cosine\"]\n"
      "\"train.lr\" = [0.1, 0.001, 0.01]\n";
  for (const auto& [train, sweep] : std::vector<std::pair<std::string, std::string>>{
           {kTrain, "\"model.hidden\" = [8, 16]\n" + gamma + rule_leaves_a_hole},
           {kTrain, gamma + "\"model.hidden\" = [8, 16]\n"},
           {kTrain + "lr_min = 0.005\n", "\"model.hidden\" = [8, 16]\n" + cosine}}) {
    Experiment experiment = load(experiment_text(kMlp, train, sweep));
    SweepRuns runs(experiment);
    std::string expected = message(experiment, runs.specs());
    EXPECT_NE(expected.find(sweep.find("cosine") == std::string::npos ? "lr_gamma" : "run 5:"),
              std::string::npos)
        << expected;
    EXPECT_EQ(message(experiment, runs.train_witnesses(keys_read_by_check_train_keys())), expected)
        << sweep;
  }
}

// A sweep over [train] keys no check reads adds no witness: 3 x 4 x 2 runs, of which only
// train.lr (read by the cosine check) tells them apart, give one witness per lr.
TEST_F(SweepTest, TrainWitnessesFollowOnlyTheKeysTheChecksRead) {
  Experiment experiment = load(experiment_text(
      kMlp, kTrain,
      "\"train.batch_size\" = [2, 4, 8]\n\"train.lr\" = [0.1, 0.01, 0.001, 0.0001]\n"
      "\"train.epochs\" = [1, 2]\n"));
  SweepRuns runs(experiment);
  ASSERT_EQ(runs.size(), 24u);
  const auto witnesses = runs.train_witnesses(keys_read_by_check_train_keys());
  std::set<double> lrs;
  for (const auto& run : witnesses) {
    lrs.insert(std::get<double>(run.sections.at("train").values.at("lr")));
  }
  EXPECT_EQ(lrs.size(), 4u);
  EXPECT_LE(witnesses.size(), 8u) << "first and last run of each lr at most";
  EXPECT_EQ(runs.train_witnesses({"memory_limit"}).size(), 1u)
      << "no axis sets memory_limit: every run has the same";
}

TEST_F(SweepTest, FlatParamsNameEverySectionAndPlugin) {
  auto runs = plan(experiment_text(kMlp, kTrain, kTwoAxes)).runs;
  std::set<std::string> names;
  for (const auto& [key, value] : runs[0].flat_params()) names.insert(key);
  EXPECT_TRUE(names.count("backend.plugin"));
  EXPECT_TRUE(names.count("model.plugin"));
  EXPECT_TRUE(names.count("model.hidden"));
  EXPECT_TRUE(names.count("model.layers")) << "defaults are resolved values too";
  EXPECT_TRUE(names.count("train.batch_size"));
  EXPECT_FALSE(names.count("train.plugin")) << "[train] is the host's, not a plugin";
}

TEST_F(SweepTest, AZippedGroupVariesTogetherAsOneAxis) {
  SweepPlan plan = this->plan(experiment_text(kMlp, kTrain,
                                              "\"train.epochs\" = [1, 2]\n\n"
                                              "[[sweep.zip]]\n"
                                              "\"train.batch_size\" = [16, 32, 64]\n"
                                              "\"train.lr\" = [1e-3, 2e-3, 4e-3]\n"));
  EXPECT_EQ(plan.counts.combinations, 6u) << "2 x 3, not 2 x 3 x 3";
  EXPECT_EQ(swept_texts(plan.runs),
            (std::vector<std::string>{"train.epochs=1 train.batch_size=16 train.lr=0.001",
                                      "train.epochs=1 train.batch_size=32 train.lr=0.002",
                                      "train.epochs=1 train.batch_size=64 train.lr=0.004",
                                      "train.epochs=2 train.batch_size=16 train.lr=0.001",
                                      "train.epochs=2 train.batch_size=32 train.lr=0.002",
                                      "train.epochs=2 train.batch_size=64 train.lr=0.004"}));
}

TEST_F(SweepTest, ExclusionRulesDropTheCombinationsThatMeetEveryCondition) {
  SweepPlan plan = this->plan(experiment_text(kMlp, kTrain,
                                              "\"train.batch_size\" = [8, 32, 64, 128]\n"
                                              "\"train.optimizer\" = [\"sgd\", \"adam\"]\n\n"
                                              "[[sweep.exclude]]\n"
                                              "\"train.optimizer\" = \"sgd\"\n"
                                              "\"train.batch_size\" = { at_least = 64 }\n\n"
                                              "[[sweep.exclude]]\n"
                                              "\"train.batch_size\" = [8, 128]\n"
                                              "\"train.optimizer\" = [\"adam\"]\n"));
  EXPECT_EQ(plan.counts.combinations, 8u);
  EXPECT_EQ(plan.counts.excluded_by_rule, (std::vector<size_t>{2, 2}));
  EXPECT_EQ(plan.counts.excluded, 4u);
  EXPECT_EQ(swept_texts(plan.runs),
            (std::vector<std::string>{"train.batch_size=8 train.optimizer=\"sgd\"",
                                      "train.batch_size=32 train.optimizer=\"sgd\"",
                                      "train.batch_size=32 train.optimizer=\"adam\"",
                                      "train.batch_size=64 train.optimizer=\"adam\""}));
  EXPECT_TRUE(plan.warnings.empty());
}

TEST_F(SweepTest, BoundsAreInclusiveOrStrictAsNamed) {
  auto kept = [&](const std::string& bounds) {
    auto runs = plan(experiment_text(kMlp, kTrain,
                                     "\"train.batch_size\" = [8, 16, 32]\n\n[[sweep.exclude]]\n"
                                     "\"train.batch_size\" = " +
                                         bounds + "\n"))
                    .runs;
    std::vector<std::int64_t> out;
    for (const auto& run : runs) out.push_back(run.params("train").Int("batch_size"));
    return out;
  };
  EXPECT_EQ(kept("{ at_least = 16 }"), (std::vector<std::int64_t>{8}));
  EXPECT_EQ(kept("{ above = 16 }"), (std::vector<std::int64_t>{8, 16}));
  EXPECT_EQ(kept("{ at_most = 16 }"), (std::vector<std::int64_t>{32}));
  EXPECT_EQ(kept("{ below = 16 }"), (std::vector<std::int64_t>{16, 32}));
  EXPECT_EQ(kept("{ above = 8, below = 32 }"), (std::vector<std::int64_t>{8, 32}));
}

TEST_F(SweepTest, ARuleMayTestAFixedValueAndTheDefaults) {
  // hidden is fixed at 8 and layers is left at mlp's default 2: both can be tested.
  SweepPlan plan = this->plan(experiment_text(kMlp, kTrain,
                                              "\"train.batch_size\" = [8, 64]\n\n"
                                              "[[sweep.exclude]]\n"
                                              "\"model.hidden\" = 8\n\"model.layers\" = 2\n"
                                              "\"train.batch_size\" = 64\n"));
  EXPECT_EQ(swept_texts(plan.runs), (std::vector<std::string>{"train.batch_size=8"}));
}

TEST_F(SweepTest, ARuleThatRemovesNothingIsAWarningNamingItsLine) {
  SweepPlan plan = this->plan(experiment_text(kMlp, kTrain,
                                              "\"train.batch_size\" = [8, 64]\n\n"
                                              "[[sweep.exclude]]\n"
                                              "\"train.batch_size\" = 32\n"));
  EXPECT_EQ(plan.runs.size(), 2u);
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(plan.warnings[0].find("exp.toml:25:"), std::string::npos) << plan.warnings[0];
  EXPECT_NE(plan.warnings[0].find("rule at line 25 removes no combination"), std::string::npos)
      << plan.warnings[0];
}

TEST_F(SweepTest, RulesThatRemoveEverythingAreAnError) {
  std::string message = error_of(experiment_text(kMlp, kTrain,
                                                 "\"train.batch_size\" = [8, 64]\n\n"
                                                 "[[sweep.exclude]]\n"
                                                 "\"train.batch_size\" = { at_least = 8 }\n"));
  EXPECT_NE(message.find("rules (at line 25) remove all 2 combinations, so nothing would run"),
            std::string::npos)
      << message;
}

TEST_F(SweepTest, SweepingThePluginResolvesEachRunForItsOwnPlugin) {
  SweepPlan plan =
      this->plan(experiment_text("[model.mlp]\nhidden = 4\n\n"
                                 "[model.memory_hog]\nmib_per_sample = 1\n",
                                 kTrain, kTwoModels + "\"train.batch_size\" = [2, 4]\n"));
  ASSERT_EQ(plan.runs.size(), 4u);
  EXPECT_EQ(swept_texts(plan.runs),
            (std::vector<std::string>{"model.plugin=\"mlp\" train.batch_size=2",
                                      "model.plugin=\"mlp\" train.batch_size=4",
                                      "model.plugin=\"memory_hog\" train.batch_size=2",
                                      "model.plugin=\"memory_hog\" train.batch_size=4"}));
  const RunSpec& mlp = plan.runs[0];
  const RunSpec& hog = plan.runs[2];
  EXPECT_EQ(mlp.plugin("model"), "mlp");
  EXPECT_EQ(
      mlp.params("model").values(),
      (std::map<std::string, Value>{{"hidden", std::int64_t{4}}, {"layers", std::int64_t{2}}}))
      << "[model.mlp] applies, defaults are mlp's";
  EXPECT_EQ(hog.plugin("model"), "memory_hog");
  EXPECT_EQ(hog.params("model").values(),
            (std::map<std::string, Value>{{"late_after", std::int64_t{0}},
                                          {"late_mib_per_sample", std::int64_t{0}},
                                          {"mib_per_sample", std::int64_t{1}}}))
      << "nothing of mlp's leaks into memory_hog's runs";
  // The plugin is part of what identifies a run and its memory needs.
  EXPECT_NE(mlp.key, hog.key);
  EXPECT_NE(memory_key(mlp), memory_key(hog));
  EXPECT_EQ(memory_key(plan.runs[2]), memory_key(plan.runs[3])) << "batch size is not in it";
}

TEST_F(SweepTest, AValueThePluginOfARunDoesNotDeclareIsAnErrorNamingTheRun) {
  std::string message = error_of(experiment_text("hidden = 16\n", kTrain, kTwoModels));
  EXPECT_NE(message.find("exp.toml:14:"), std::string::npos) << message;
  EXPECT_NE(message.find("model.hidden is not a parameter of model plugin 'memory_hog' (in the "
                         "run model.plugin=\"memory_hog\"); memory_hog takes: mib_per_sample"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("move it to [model.mlp]"), std::string::npos) << message;
  EXPECT_NE(message.find("[[sweep.exclude]]"), std::string::npos) << message;

  message = error_of(experiment_text("", kTrain, kTwoModels + "\"model.hidden\" = [8, 16]\n"));
  EXPECT_NE(message.find("exp.toml:22:"), std::string::npos) << message;
  EXPECT_NE(message.find("sweep key \"model.hidden\" is not a parameter of model plugin "
                         "'memory_hog' (in the run model.plugin=\"memory_hog\" model.hidden=8)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("write \"model.mlp.hidden\" instead"), std::string::npos) << message;
}

TEST_F(SweepTest, ValuesAreCheckedOnlyForTheRunsThatAreRun) {
  // hidden does not fit memory_hog, but the rule leaves memory_hog's runs out.
  SweepPlan plan = this->plan(experiment_text("hidden = 16\n", kTrain,
                                              kTwoModels + "\n[[sweep.exclude]]\n"
                                                           "\"model.plugin\" = \"memory_hog\"\n"));
  ASSERT_EQ(plan.runs.size(), 1u);
  EXPECT_EQ(plan.runs[0].plugin("model"), "mlp");
  EXPECT_EQ(plan.counts.excluded, 1u);
}

TEST_F(SweepTest, APerPluginSweepKeyAppliesOnlyToItsPluginsRuns) {
  SweepPlan plan =
      this->plan(experiment_text("", kTrain, kTwoModels + "\"model.mlp.hidden\" = [8, 16]\n"));
  EXPECT_EQ(plan.counts.combinations, 4u);
  EXPECT_EQ(plan.counts.duplicates, 1u) << "memory_hog does not care about mlp's width";
  EXPECT_EQ(swept_texts(plan.runs),
            (std::vector<std::string>{"model.plugin=\"mlp\" model.hidden=8",
                                      "model.plugin=\"mlp\" model.hidden=16",
                                      "model.plugin=\"memory_hog\""}));
}

TEST_F(SweepTest, ThePluginCanBeZippedWithItsOwnValues) {
  SweepPlan plan = this->plan(experiment_text(
      "", kTrain, "[[sweep.zip]]\n" + kTwoModels + "\"train.batch_size\" = [64, 8]\n"));
  EXPECT_EQ(swept_texts(plan.runs),
            (std::vector<std::string>{"model.plugin=\"mlp\" train.batch_size=64",
                                      "model.plugin=\"memory_hog\" train.batch_size=8"}));
}

TEST_F(SweepTest, ARuleCanTestThePlugin) {
  SweepPlan plan =
      this->plan(experiment_text("", kTrain,
                                 kTwoModels + "\"train.batch_size\" = [8, 64]\n\n"
                                              "[[sweep.exclude]]\n"
                                              "\"model.plugin\" = \"memory_hog\"\n"
                                              "\"train.batch_size\" = { at_least = 64 }\n"));
  EXPECT_EQ(swept_texts(plan.runs),
            (std::vector<std::string>{"model.plugin=\"mlp\" train.batch_size=8",
                                      "model.plugin=\"mlp\" train.batch_size=64",
                                      "model.plugin=\"memory_hog\" train.batch_size=8"}));
}

TEST_F(SweepTest, AValueListedTwiceRunsOnce) {
  SweepPlan plan = this->plan(experiment_text(kMlp, kTrain, "\"train.batch_size\" = [8, 8, 16]\n"));
  EXPECT_EQ(plan.runs.size(), 2u);
  EXPECT_EQ(plan.counts.duplicates, 1u);
}

TEST_F(SweepTest, AnEnormousProductIsRefused) {
  std::string sweep;
  for (const char* key : {"train.batch_size", "train.epochs", "model.hidden", "model.layers"}) {
    sweep += std::string("\"") + key + "\" = { from = 1, to = 100, step = 1 }\n";
  }
  std::string message = error_of(experiment_text(kMlp, kTrain, sweep));
  EXPECT_NE(message.find("more than 100000 combinations"), std::string::npos) << message;
}

TEST_F(SweepTest, SetOfAZippedKeyLeavesTheRestOfTheGroup) {
  SweepPlan plan = this->plan(experiment_text(kMlp, kTrain,
                                              "[[sweep.zip]]\n"
                                              "\"train.batch_size\" = [16, 32]\n"
                                              "\"train.lr\" = [1e-3, 2e-3]\n"),
                              {"train.lr=0.01"});
  EXPECT_EQ(swept_texts(plan.runs),
            (std::vector<std::string>{"train.batch_size=16", "train.batch_size=32"}));
  EXPECT_DOUBLE_EQ(plan.runs[1].params("train").Real("lr"), 0.01);
}

TEST_F(SweepTest, EveryWayOfWritingAKeyIsTheSameKey) {
  // Quoted, dotted, a [sweep.train] table and an inline table of lists.
  for (const char* sweep : {"\"train.batch_size\" = [2, 4]\n", "train.batch_size = [2, 4]\n",
                            "train = { batch_size = [2, 4] }\n"}) {
    EXPECT_EQ(swept_texts(plan(experiment_text(kMlp, kTrain, sweep)).runs),
              (std::vector<std::string>{"train.batch_size=2", "train.batch_size=4"}))
        << sweep;
  }
  EXPECT_EQ(swept_texts(
                plan(experiment_text(kMlp, kTrain, "\n[sweep.train]\nbatch_size = [2, 4]\n")).runs),
            (std::vector<std::string>{"train.batch_size=2", "train.batch_size=4"}));
}

TEST_F(SweepTest, MemoryKeyIgnoresWhatDoesNotChangeMemoryPerSample) {
  auto keys_of = [&](const std::string& sweep) {
    std::set<std::string> keys;
    for (const auto& run : plan(experiment_text(kMlp, kTrain, sweep)).runs) {
      keys.insert(memory_key(run));
    }
    return keys.size();
  };
  for (const char* same :
       {"\"train.batch_size\" = [8, 16]", "\"train.lr\" = [1e-3, 1e-2]",
        "\"train.epochs\" = [1, 2]", "\"train.weight_decay\" = [0.0, 0.1]",
        "\"train.beta1\" = [0.9, 0.8]", "\"train.beta2\" = [0.999, 0.99]",
        "\"train.lr_schedule\" = [\"constant\", \"cosine\"]", "\"train.lr_gamma\" = [0.1, 0.5]",
        "\"train.lr_step_epochs\" = [1, 2]", "\"train.lr_pct_start\" = [0.3, 0.4]",
        "\"train.lr_div_factor\" = [25, 10]", "\"train.lr_final_div_factor\" = [1e4, 1e3]",
        "\"train.grad_clip\" = [0.0, 1.0]"}) {
    EXPECT_EQ(keys_of(std::string(same) + "\n"), 1u) << same;
  }
  for (const char* different :
       {"\"model.hidden\" = [8, 16]", "\"train.optimizer\" = [\"sgd\", \"adam\"]",
        "\"train.momentum\" = [0.0, 0.9]", "\"train.precision\" = [\"fp32\", \"bf16\"]",
        "\"train.task\" = [\"train\", \"inference\"]"}) {
    EXPECT_EQ(keys_of(std::string(different) + "\n"), 2u) << different;
  }
}

}  // namespace
}  // namespace orch
