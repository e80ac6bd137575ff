#include "host/sweep/experiment.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "host/base/user_error.h"
#include "host/sweep/param_check.h"
#include "host/sweep/sweep.h"
#include "tests/host/experiment_fixture.h"

namespace orch {
namespace {

const char* kGood = R"([experiment]
name = "unit"
seed = 3

[backend]
plugin = "cpu"
threads = 1

[dataset]
plugin = "synthetic"
samples = 128

[model]
plugin = "mlp"
hidden = 16

[train]
epochs = 1
batch_size = 8
lr = 0.01

[sweep]
"train.batch_size" = [2, 4, 8]
model.hidden = [8, 16]
)";

class ExperimentTest : public testing::ExperimentFixture {
 protected:
  std::string with(const std::string& from, const std::string& to) {
    std::string text = kGood;
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  }
};

TEST_F(ExperimentTest, AGoodFileResolvesEveryParameterWithDefaults) {
  Experiment exp = load(kGood);
  EXPECT_EQ(exp.name, "unit");
  EXPECT_EQ(exp.seed, 3);
  EXPECT_EQ(exp.repeats, 1);
  EXPECT_EQ(exp.sections.at("model").plugin, "mlp");
  EXPECT_NE(exp.text.find("[sweep]"), std::string::npos);
  RunSpec run = plan_sweep(exp).runs.at(0);
  EXPECT_EQ(run.plugin("model"), "mlp");
  EXPECT_EQ(run.params("model").Int("layers"), 2) << "defaults come from the plugin's declaration";
  EXPECT_EQ(run.params("train").Str("optimizer"), "adam");
  EXPECT_DOUBLE_EQ(run.params("train").Real("lr"), 0.01);
  EXPECT_EQ(run.params("dataset").Int("samples"), 128);
}

TEST_F(ExperimentTest, SweepKeepsFileOrderAndAcceptsBothKeyStyles) {
  Experiment exp = load(kGood);
  ASSERT_EQ(exp.sweep.size(), 2u);
  EXPECT_EQ(exp.sweep[0].label(), "train.batch_size");
  EXPECT_EQ(exp.sweep[1].label(), "model.hidden");
  EXPECT_EQ(exp.sweep[0].size(), 3u);
}

TEST_F(ExperimentTest, AnIntegerIsAcceptedForARealParameter) {
  auto runs = plan(with("lr = 0.01", "lr = 1")).runs;
  EXPECT_DOUBLE_EQ(runs.at(0).params("train").Real("lr"), 1.0);
}

TEST_F(ExperimentTest, MalformedTomlNamesFileLineAndColumn) {
  std::string message = error_of(with("batch_size = 8", "batch_size = = 8"));
  EXPECT_NE(message.find("exp.toml:19:"), std::string::npos) << message;
  EXPECT_NE(message.find("invalid TOML"), std::string::npos) << message;
}

TEST_F(ExperimentTest, UnknownPluginListsTheKnownOnes) {
  std::string message = error_of(with("plugin = \"mlp\"", "plugin = \"mpl\""));
  EXPECT_NE(message.find("exp.toml:14:"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown model plugin 'mpl'; known models: "), std::string::npos)
      << message;
  EXPECT_NE(message.find("mlp"), std::string::npos) << message;
}

TEST_F(ExperimentTest, UnknownParameterListsTheKnownOnes) {
  std::string message = error_of(with("hidden = 16", "hiden = 16"));
  EXPECT_NE(message.find("exp.toml:15:"), std::string::npos) << message;
  EXPECT_NE(
      message.find("unknown parameter 'hiden' in [model] (plugin 'mlp'); known: hidden, layers"),
      std::string::npos)
      << message;
}

TEST_F(ExperimentTest, WrongTypeSaysWhatWasExpected) {
  std::string message = error_of(with("batch_size = 8", "batch_size = \"big\""));
  EXPECT_NE(message.find("train.batch_size must be an integer, not a string"), std::string::npos)
      << message;
}

TEST_F(ExperimentTest, OutOfRangeValuesSayTheRange) {
  for (const char* bad : {"batch_size = 0", "batch_size = -4"}) {
    std::string message = error_of(with("batch_size = 8", bad));
    EXPECT_NE(message.find("exp.toml:19:"), std::string::npos) << message;
    EXPECT_NE(message.find("is out of range: expected integer in [1, 16777216]"), std::string::npos)
        << message;
  }
  std::string message = error_of(with("lr = 0.01", "lr = -0.5"));
  EXPECT_NE(message.find("train.lr = -0.5 is out of range"), std::string::npos) << message;
}

TEST_F(ExperimentTest, ChoicesAreListed) {
  std::string message = error_of(with("lr = 0.01", "optimizer = \"lbfgs\""));
  EXPECT_NE(
      message.find("train.optimizer = \"lbfgs\" is not allowed: expected one of sgd, adam, adamw"),
      std::string::npos)
      << message;
}

TEST_F(ExperimentTest, ASweepValueOutOfRangeIsCaughtBeforeAnythingRuns) {
  std::string message = error_of(with("[2, 4, 8]", "[2, 0, 8]"));
  EXPECT_NE(message.find("exp.toml:23:"), std::string::npos) << message;
  EXPECT_NE(message.find("train.batch_size = 0 is out of range"), std::string::npos) << message;
}

TEST_F(ExperimentTest, ASweepKeyThatMatchesNoParameterIsNamed) {
  std::string message = error_of(with("\"train.batch_size\"", "\"train.batchsize\""));
  EXPECT_NE(message.find("sweep key \"train.batchsize\" matches no parameter of [train]"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("batch_size"), std::string::npos) << "lists the known ones";

  message = error_of(with("\"train.batch_size\"", "\"trian.batch_size\""));
  EXPECT_NE(message.find("sweep key \"trian.batch_size\" matches no parameter"), std::string::npos)
      << message;
}

TEST_F(ExperimentTest, AnEmptySweepListIsRefused) {
  std::string message = error_of(with("[2, 4, 8]", "[]"));
  EXPECT_NE(message.find("exp.toml:23:"), std::string::npos) << message;
  EXPECT_NE(message.find("is an empty list"), std::string::npos) << message;
}

TEST_F(ExperimentTest, ASweepOfTheWrongTypeIsRefused) {
  std::string message = error_of(with("[2, 4, 8]", "[2, \"four\"]"));
  EXPECT_NE(message.find("train.batch_size must be an integer, not a string"), std::string::npos)
      << message;
  message = error_of(with("[2, 4, 8]", "4"));
  EXPECT_NE(message.find("must be a list of values"), std::string::npos) << message;
}

TEST_F(ExperimentTest, AMissingSectionIsNamed) {
  std::string text = kGood;
  text.erase(text.find("[train]"), text.find("[sweep]") - text.find("[train]"));
  // The [sweep] then names a section that is gone; the missing section is reported first.
  std::string message = error_of(text);
  EXPECT_NE(message.find("missing section [train]"), std::string::npos) << message;
}

TEST_F(ExperimentTest, AnUnknownSectionIsNamed) {
  std::string message = error_of(std::string(kGood) + "\n[trian]\nepochs = 2\n");
  EXPECT_NE(message.find("unknown section [trian]"), std::string::npos) << message;
}

TEST_F(ExperimentTest, AMissingPluginKeyListsTheChoices) {
  std::string message = error_of(with("plugin = \"cpu\"\n", ""));
  EXPECT_NE(message.find("[backend] needs plugin = \"...\"; known backends: "), std::string::npos)
      << message;
}

TEST_F(ExperimentTest, AMissingFileIsNamed) {
  try {
    load_experiment(dir_ + "/nope.toml", *catalog_);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.toml: no such experiment file"), std::string::npos);
  }
}

TEST_F(ExperimentTest, AnExperimentNeedsAName) {
  std::string message = error_of(with("name = \"unit\"\n", ""));
  EXPECT_NE(message.find("[experiment] needs name"), std::string::npos) << message;
}

using testing::experiment_text;

// The values of the first axis of a file whose [sweep] is `sweep`.
std::vector<Value> axis_values(const Experiment& exp, size_t axis = 0, size_t key = 0) {
  std::vector<Value> out;
  for (const auto& raw : exp.sweep.at(axis).keys.at(key).values) out.push_back(raw.value);
  return out;
}

const std::string kMlp = "plugin = \"mlp\"\nhidden = 16\n";
const std::string kTrain = "epochs = 1\nbatch_size = 8\n";

TEST_F(ExperimentTest, ALinearRangeByStepIncludesToWhenItLandsOnIt) {
  Experiment exp = load(
      experiment_text(kMlp, kTrain, "\"train.batch_size\" = { from = 2, to = 16, step = 2 }\n"));
  std::vector<Value> even;
  for (std::int64_t b = 2; b <= 16; b += 2) even.emplace_back(b);
  EXPECT_EQ(axis_values(exp), even) << "integers for an integer parameter, 16 included";

  exp = load(
      experiment_text(kMlp, kTrain, "\"train.batch_size\" = { from = 2, to = 15, step = 4 }\n"));
  EXPECT_EQ(axis_values(exp), (std::vector<Value>{std::int64_t{2}, std::int64_t{6},
                                                  std::int64_t{10}, std::int64_t{14}}));
  exp = load(
      experiment_text(kMlp, kTrain, "\"train.batch_size\" = { from = 64, to = 16, step = -16 }\n"));
  EXPECT_EQ(axis_values(exp), (std::vector<Value>{std::int64_t{64}, std::int64_t{48},
                                                  std::int64_t{32}, std::int64_t{16}}));
}

TEST_F(ExperimentTest, ARealRangeByStepToleratesRoundingAndGivesTheValuesAsWritten) {
  // 0.1 + 2 * 0.1 is 0.30000000000000004 in doubles, and 0.5 - 0.1 is 4 steps of 0.1
  // only within rounding: the range must still give exactly 0.3 and end on 0.5.
  Experiment exp =
      load(experiment_text(kMlp, kTrain, "\"train.lr\" = { from = 0.1, to = 0.5, step = 0.1 }\n"));
  EXPECT_EQ(axis_values(exp), (std::vector<Value>{0.1, 0.2, 0.3, 0.4, 0.5}));
}

TEST_F(ExperimentTest, ALinearRangeByCountSpacesThePointsEvenly) {
  Experiment exp =
      load(experiment_text(kMlp, kTrain, "dataset.noise = { from = 0.0, to = 1.0, count = 5 }\n"));
  EXPECT_EQ(axis_values(exp), (std::vector<Value>{0.0, 0.25, 0.5, 0.75, 1.0}));
  // An integer parameter gets integers: 1 to 10 in 4 points is 1, 4, 7, 10.
  exp = load(experiment_text(kMlp, kTrain, "model.hidden = { from = 1, to = 10, count = 4 }\n"));
  EXPECT_EQ(axis_values(exp), (std::vector<Value>{std::int64_t{1}, std::int64_t{4}, std::int64_t{7},
                                                  std::int64_t{10}}));
}

TEST_F(ExperimentTest, ALogRangeGivesPowersAsWritten) {
  Experiment exp = load(experiment_text(
      kMlp, kTrain, "\"train.lr\" = { from = 1e-4, to = 1e-1, count = 4, scale = \"log\" }\n"));
  EXPECT_EQ(axis_values(exp), (std::vector<Value>{1e-4, 1e-3, 1e-2, 1e-1}));
}

TEST_F(ExperimentTest, ALogRangeOfAnIntegerParameterRoundsToIntegers) {
  Experiment exp = load(experiment_text(
      kMlp, kTrain, "\"train.batch_size\" = { from = 2, to = 512, count = 5, scale = \"log\" }\n"));
  EXPECT_EQ(axis_values(exp),
            (std::vector<Value>{std::int64_t{2}, std::int64_t{8}, std::int64_t{32},
                                std::int64_t{128}, std::int64_t{512}}));
  // 1 to 4 has only four integers: eight points must repeat one, and the error says how
  // many points fit.
  std::string message = error_of(experiment_text(
      kMlp, kTrain, "\"train.batch_size\" = { from = 1, to = 4, count = 8, scale = \"log\" }\n"));
  EXPECT_NE(message.find("exp.toml:22:"), std::string::npos) << message;
  EXPECT_NE(message.find("the same integer twice after rounding"), std::string::npos) << message;
  EXPECT_NE(message.find("count = 4 or less"), std::string::npos) << message;
}

TEST_F(ExperimentTest, EveryValueOfARangeIsCheckedAgainstTheParameter) {
  std::string message = error_of(
      experiment_text(kMlp, kTrain, "\"train.batch_size\" = { from = 0, to = 8, step = 4 }\n"));
  EXPECT_NE(message.find("exp.toml:22:"), std::string::npos) << message;
  EXPECT_NE(message.find("train.batch_size = 0 is out of range: expected integer in [1, "),
            std::string::npos)
      << message;
}

TEST_F(ExperimentTest, AMalformedRangeSaysWhatIsWrongAndWhere) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\"train.batch_size\" = { from = 2, to = 16, step = 0 }", "step = 0 never reaches"},
      {"\"train.batch_size\" = { from = 2, to = 16, step = -2 }", "use step = 2"},
      {"\"train.batch_size\" = { from = 2, to = 16, count = 0 }", "count must be an integer >= 1"},
      {"\"train.batch_size\" = { from = 2, to = 16, step = 2, count = 3 }",
       "gives both step and count"},
      {"\"train.batch_size\" = { from = 2, to = 16 }", "needs step = S or count = N"},
      {"\"train.batch_size\" = { from = 2, upto = 16, step = 2 }", "unknown key 'upto'"},
      {"\"train.batch_size\" = { from = 2 }", "needs both from and to"},
      {"\"train.batch_size\" = { from = \"2\", to = 16, step = 2 }",
       "from must be a number, not a string"},
      {"\"train.batch_size\" = { from = 2.5, to = 16, step = 2 }",
       "from = 2.5 must be a whole number"},
      {"\"train.lr\" = { from = 0.0, to = 0.1, count = 3, scale = \"log\" }",
       "a log range needs from and to above 0"},
      {"\"train.lr\" = { from = 0.1, to = 1, step = 0.1, scale = \"log\" }",
       "a log range takes count"},
      {"\"train.lr\" = { from = 0.1, to = 1, count = 3, scale = \"ln\" }",
       "scale must be \"linear\""},
      {"\"train.optimizer\" = { from = 1, to = 3, step = 1 }",
       "is a string parameter; a range needs a number parameter"},
      {"\"train.lr\" = { from = 1e-9, to = 1, step = 1e-9 }", "at most 10000 per range"},
  };
  for (const auto& [entry, expected] : cases) {
    std::string message = error_of(experiment_text(kMlp, kTrain, entry + "\n"));
    EXPECT_NE(message.find("exp.toml:22:"), std::string::npos) << entry << "\n" << message;
    EXPECT_NE(message.find(expected), std::string::npos) << entry << "\n" << message;
  }
}

TEST_F(ExperimentTest, AZipIsOneAxisPlacedWhereItStarts) {
  Experiment exp = load(experiment_text(kMlp, kTrain,
                                        "\"train.epochs\" = [1, 2]\n\n"
                                        "[[sweep.zip]]\n"
                                        "\"train.batch_size\" = [16, 32, 64]\n"
                                        "train.lr = { from = 1e-3, to = 4e-3, count = 3 }\n"));
  ASSERT_EQ(exp.sweep.size(), 2u);
  EXPECT_EQ(exp.sweep[0].label(), "train.epochs");
  EXPECT_EQ(exp.sweep[1].label(), "zip(train.batch_size, train.lr)");
  EXPECT_EQ(exp.sweep[1].size(), 3u) << "a range may be zipped with a list of its length";
}

TEST_F(ExperimentTest, ZippedListsOfDifferentLengthsNameBothKeys) {
  std::string message = error_of(experiment_text(kMlp, kTrain,
                                                 "[[sweep.zip]]\n"
                                                 "\"train.batch_size\" = [16, 32, 64]\n"
                                                 "\"train.lr\" = [1e-3, 2e-3]\n"));
  EXPECT_NE(message.find("exp.toml:24:"), std::string::npos) << message;
  EXPECT_NE(message.find("\"train.batch_size\" has 3 values but \"train.lr\" has 2"),
            std::string::npos)
      << message;
}

TEST_F(ExperimentTest, AKeyVariesOnOneAxisOnly) {
  std::string message = error_of(experiment_text(kMlp, kTrain,
                                                 "\"train.lr\" = [1e-3, 2e-3]\n\n"
                                                 "[[sweep.zip]]\n"
                                                 "\"train.batch_size\" = [16, 32]\n"
                                                 "\"train.lr\" = [1e-3, 2e-3]\n"));
  EXPECT_NE(message.find("exp.toml:26:"), std::string::npos) << message;
  EXPECT_NE(message.find("\"train.lr\" is in the [[sweep.zip]] at line 24 and also in a plain "
                         "[sweep] entry at line 22"),
            std::string::npos)
      << message;

  message = error_of(experiment_text(kMlp, kTrain,
                                     "[[sweep.zip]]\n\"train.lr\" = [1e-3, 2e-3]\n"
                                     "\"train.epochs\" = [1, 2]\n\n"
                                     "[[sweep.zip]]\n\"train.batch_size\" = [16, 32]\n"
                                     "\"train.lr\" = [1e-3, 2e-3]\n"));
  EXPECT_NE(message.find("is in the [[sweep.zip]] at line 26 and also in the [[sweep.zip]] at "
                         "line 22"),
            std::string::npos)
      << message;
}

TEST_F(ExperimentTest, AnEmptyZipIsRefused) {
  std::string message = error_of(experiment_text(kMlp, kTrain, "[[sweep.zip]]\n"));
  EXPECT_NE(message.find("[[sweep.zip]] is empty"), std::string::npos) << message;
}

TEST_F(ExperimentTest, AnExclusionRuleWithAnUnknownKeyOrAnImpossibleConditionIsRefused) {
  const std::string sweep = "\"train.batch_size\" = [8, 64]\n\n[[sweep.exclude]]\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\"model.hiden\" = 16",
       "[[sweep.exclude]] key \"model.hiden\" matches no parameter of "
       "[model] (plugin 'mlp'); known: hidden, layers"},
      {"\"trian.batch_size\" = 8", "key \"trian.batch_size\" matches no parameter"},
      {"\"train.batch_size\" = { atleast = 64 }", "unknown bound 'atleast'"},
      {"\"train.batch_size\" = { at_least = \"big\" }", "at_least must be a number"},
      {"\"train.batch_size\" = \"big\"", "is an integer parameter; it cannot equal a string"},
      {"\"train.optimizer\" = { at_least = 1 }", "bounds need a number parameter"},
      {"\"model.plugin\" = 3", "it cannot equal an integer"},
      {"\"train.batch_size\" = {}", "has no bound; give at_least, at_most, above or below"},
      {"train = 8", "rule keys are section.parameter"},
  };
  for (const auto& [condition, expected] : cases) {
    std::string message = error_of(experiment_text(kMlp, kTrain, sweep + condition + "\n"));
    EXPECT_NE(message.find("exp.toml:25:"), std::string::npos) << condition << "\n" << message;
    EXPECT_NE(message.find(expected), std::string::npos) << condition << "\n" << message;
  }
  std::string message = error_of(experiment_text(kMlp, kTrain, sweep));
  EXPECT_NE(message.find("has no condition"), std::string::npos) << message;

  // batch_size = "auto" is not known when the rules are read.
  message = error_of(experiment_text(kMlp, "epochs = 1\nbatch_size = \"auto\"\n",
                                     "\"train.lr\" = [0.1, 0.01]\n\n[[sweep.exclude]]\n"
                                     "\"train.batch_size\" = 8\n"));
  EXPECT_NE(message.find("a [[sweep.exclude]] rule cannot test it"), std::string::npos) << message;
}

TEST_F(ExperimentTest, PerPluginTablesMustNameAPluginAndItsParameters) {
  std::string message = error_of(experiment_text(kMlp + "\n[model.mpl]\nhidden = 8\n", kTrain));
  EXPECT_NE(message.find("exp.toml:17:"), std::string::npos) << message;
  EXPECT_NE(message.find("[model.mpl] names no model plugin"), std::string::npos) << message;

  message = error_of(experiment_text(kMlp + "\n[model.mlp]\nhiden = 8\n", kTrain));
  EXPECT_NE(message.find("exp.toml:18:"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown parameter 'hiden' in [model.mlp]; known: hidden, layers"),
            std::string::npos)
      << message;

  message = error_of(experiment_text(kMlp + "\n[model.mlp]\nhidden = 0\n", kTrain));
  EXPECT_NE(message.find("model.mlp.hidden = 0 is out of range"), std::string::npos) << message;
}

TEST_F(ExperimentTest, AnUnknownPluginInAPluginSweepListsTheKnownOnes) {
  std::string message =
      error_of(experiment_text("hidden = 16\n", kTrain, "\"model.plugin\" = [\"mlp\", \"mpl\"]\n"));
  EXPECT_NE(message.find("exp.toml:21:"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown model plugin 'mpl' in sweep \"model.plugin\"; known models: "),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("memory_hog"), std::string::npos) << message;

  message = error_of(experiment_text("hidden = 16\n", kTrain, "\"model.plugin\" = [\"mlp\", 3]\n"));
  EXPECT_NE(message.find("lists model plugin names (strings), not an integer"), std::string::npos)
      << message;
  message = error_of(experiment_text("hidden = 16\n", kTrain));
  EXPECT_NE(message.find("[model] needs plugin = \"...\""), std::string::npos) << message;
}

TEST_F(ExperimentTest, AParameterNoSweptPluginDeclaresIsUnknown) {
  std::string message = error_of(
      experiment_text("hiden = 16\n", kTrain, "\"model.plugin\" = [\"mlp\", \"memory_hog\"]\n"));
  EXPECT_NE(message.find("exp.toml:14:"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown parameter 'hiden' in [model]: no plugin this file runs declares "
                         "it (mlp: hidden, layers; memory_hog: mib_per_sample, late_after, "
                         "late_mib_per_sample)"),
            std::string::npos)
      << message;
  // A value is checked against each plugin that declares it.
  message = error_of(
      experiment_text("hidden = 0\n", kTrain, "\"model.plugin\" = [\"mlp\", \"memory_hog\"]\n"));
  EXPECT_NE(message.find("model.hidden (plugin 'mlp') = 0 is out of range"), std::string::npos)
      << message;
}

TEST_F(ExperimentTest, APerPluginSweepKeyMustNameAPluginParameter) {
  std::string message = error_of(experiment_text(
      "", kTrain, "\"model.plugin\" = [\"mlp\", \"memory_hog\"]\n\"model.mlp.hiden\" = [8]\n"));
  EXPECT_NE(message.find("sweep key \"model.mlp.hiden\" matches no parameter of model plugin "
                         "'mlp'; known: hidden, layers"),
            std::string::npos)
      << message;
  message = error_of(experiment_text(
      "", kTrain, "\"model.plugin\" = [\"mlp\", \"memory_hog\"]\n\"model.mpl.hidden\" = [8]\n"));
  EXPECT_NE(message.find("sweep key \"model.mpl.hidden\" names no model plugin 'mpl'"),
            std::string::npos)
      << message;
}

TEST_F(ExperimentTest, APerPluginSweepKeyForAPluginNoRunUsesIsLeftOutWithAWarning) {
  Experiment exp =
      load(experiment_text(kMlp, kTrain, "\"model.memory_hog.mib_per_sample\" = [1, 2]\n"));
  EXPECT_TRUE(exp.sweep.empty());
  ASSERT_EQ(exp.warnings.size(), 1u);
  EXPECT_NE(exp.warnings[0].find("exp.toml:22:"), std::string::npos) << exp.warnings[0];
  EXPECT_NE(exp.warnings[0].find("applies only when model.plugin is 'memory_hog', which no run "
                                 "uses"),
            std::string::npos)
      << exp.warnings[0];
}

TEST_F(ExperimentTest, SetReplacesAFixedValueAndASweepOfTheKey) {
  const std::string text = experiment_text(kMlp, kTrain,
                                           "\"train.batch_size\" = [2, 4, 8]\n"
                                           "\"train.epochs\" = [1, 2]\n");
  Experiment exp = load(text, {"train.epochs=3", "dataset.samples=256", "model.hidden=32"});
  ASSERT_EQ(exp.sweep.size(), 1u) << "the sweep of train.epochs gives way to --set";
  EXPECT_EQ(exp.sweep[0].label(), "train.batch_size");
  auto runs = plan_sweep(exp).runs;
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].params("train").Int("epochs"), 3);
  EXPECT_EQ(runs[0].params("dataset").Int("samples"), 256);
  EXPECT_EQ(runs[0].params("model").Int("hidden"), 32);
  // What was overridden stays visible: in the plan and in the text stored with the runs.
  EXPECT_EQ(exp.overrides,
            (std::vector<std::string>{"--set train.epochs=3", "--set dataset.samples=256",
                                      "--set model.hidden=32"}));
  EXPECT_EQ(exp.text.rfind("# --set train.epochs=3  (given on the command line)\n"),
            exp.text.find("# --set train.epochs=3"));
  EXPECT_NE(exp.text.find("# --set model.hidden=32"), std::string::npos);
  EXPECT_NE(runs[0].key, plan(text).runs[0].key) << "other values, other runs";
}

TEST_F(ExperimentTest, SetTakesTomlValuesAndBareWordsAsStrings) {
  EXPECT_EQ(parse_override("train.lr=1e-3").value.value, Value(1e-3));
  EXPECT_EQ(parse_override("train.epochs=2").value.value, Value(std::int64_t{2}));
  EXPECT_EQ(parse_override("model.plugin=\"mlp\"").value.value, Value(std::string("mlp")));
  EXPECT_EQ(parse_override("model.plugin=mlp").value.value, Value(std::string("mlp")));
  EXPECT_EQ(parse_override("train.memory_limit=6GiB").value.value, Value(std::string("6GiB")));
  EXPECT_EQ(parse_override("train.memory_limit=").value.value, Value(std::string()));
  Override set = parse_override(" train.epochs = 2");
  EXPECT_EQ(set.key, "train.epochs");
  EXPECT_EQ(set.value.at, "--set train.epochs");
}

TEST_F(ExperimentTest, SetErrorsNameTheFlag) {
  const std::string text = experiment_text(kMlp, kTrain);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"train.epochs=0", "--set train.epochs: train.epochs = 0 is out of range"},
      {"train.epochs=many", "--set train.epochs: train.epochs must be an integer, not a string"},
      {"model.hiden=8", "--set model.hiden: unknown parameter 'hiden' in [model] (plugin 'mlp')"},
      {"trian.epochs=1", "--set trian.epochs: keys are section.parameter"},
      {"model.plugin=mpl", "--set model.plugin: unknown model plugin 'mpl'"},
      {"train.memory_limit=lots",
       "--set train.memory_limit: train.memory_limit = \"lots\" is not "
       "a memory size"},
      {"experiment.repeats=0", "--set experiment.repeats: experiment.repeats = 0 is out of range"},
  };
  for (const auto& [set, expected] : cases) {
    std::string message = error_of(text, {set});
    EXPECT_EQ(message.rfind(expected, 0), 0u) << set << "\n" << message;
  }
  for (const std::string bad : {"train.epochs", "=1"}) {
    try {
      parse_override(bad);
      ADD_FAILURE() << bad;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("write --set KEY=VALUE"), std::string::npos) << e.what();
    }
  }
  try {
    parse_override("train.batch_size=[4, 8]");
    ADD_FAILURE() << "a list is refused";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("--set train.batch_size: give one value, not a list"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ExperimentTest, SetOfThePluginReplacesAPluginSweep) {
  const std::string text = experiment_text("[model.mlp]\nhidden = 8\n", kTrain,
                                           "\"model.plugin\" = [\"mlp\", \"memory_hog\"]\n");
  auto runs = plan(text, {"model.plugin=memory_hog"}).runs;
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].plugin("model"), "memory_hog");
  EXPECT_EQ(runs[0].params("model").Int("mib_per_sample"), 8) << "the plugin's default";
}

TEST_F(ExperimentTest, SetBatchSizeAutoAsksForTheProbe) {
  Experiment exp = load(experiment_text(kMlp, kTrain, "\"train.batch_size\" = [2, 4]\n"),
                        {"train.batch_size=auto"});
  EXPECT_TRUE(exp.auto_batch_size);
  EXPECT_TRUE(exp.sweep.empty());
}

TEST_F(ExperimentTest, ARelativePathParameterOfAPluginResolvesAgainstTheFilesDirectory) {
  // Any plugin that declares a path parameter will do (mnist's dir, csv's path).
  std::string section, plugin, param;
  for (const auto& [name, kind] : plugin_sections()) {
    for (const PluginEntry* entry : catalog_->entries(kind)) {
      for (const auto& spec : entry->params) {
        if (spec.is_path && section.empty()) {
          section = name;
          plugin = entry->name;
          param = spec.name;
        }
      }
    }
  }
  if (section.empty()) {
    GTEST_SKIP() << "no plugin in " << testing::builtin_plugins()
                 << " declares a path parameter; build orch_dataset_mnist or orch_dataset_csv";
  }
  std::map<std::string, std::string> body = {{"backend", "plugin = \"cpu\"\n"},
                                             {"dataset", "plugin = \"synthetic\"\n"},
                                             {"model", "plugin = \"mlp\"\n"}};
  body[section] = "plugin = \"" + plugin + "\"\n" + param + " = \"../data/x\"\n";
  const std::string text = "[experiment]\nname = \"unit\"\n\n[backend]\n" + body["backend"] +
                           "\n[dataset]\n" + body["dataset"] + "\n[model]\n" + body["model"] +
                           "\n[train]\nepochs = 1\n";
  std::filesystem::create_directories(dir_ + "/experiments");
  const std::string file = write("experiments/exp.toml", text);
  const std::string swept =
      write("experiments/swept.toml",
            text + "\n[sweep]\n\"" + section + "." + param + "\" = [\"../data/x\", \"/srv/y\"]\n");
  auto value_of = [&](const RunSpec& run) { return run.params(section).Str(param); };
  const std::string data = (std::filesystem::path(dir_) / "data/x").string();

  EXPECT_EQ(value_of(plan_sweep(load_experiment(file, *catalog_)).runs.at(0)), data)
      << "relative to the file, not to the current directory";
  auto runs = plan_sweep(load_experiment(swept, *catalog_)).runs;
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(value_of(runs[0]), data);
  EXPECT_EQ(value_of(runs[1]), "/srv/y") << "absolute paths stay";
  auto set = load_experiment(file, *catalog_, overrides_of({section + "." + param + "=z"}));
  EXPECT_EQ(value_of(plan_sweep(set).runs.at(0)), (std::filesystem::current_path() / "z").string())
      << "--set is relative to the current directory";
}

TEST_F(ExperimentTest, RelativePathParametersResolveAgainstTheirBaseDirectory) {
  ParamSpec dir = ParamSpec::Str("dir", "", "data directory").path();
  EXPECT_EQ(std::get<std::string>(check_value(dir, std::string("../data/mnist"), "dataset.dir",
                                              "exp.toml:3:7", "/work/repo/experiments")),
            "/work/repo/data/mnist");
  EXPECT_EQ(std::get<std::string>(check_value(dir, std::string("/srv/mnist"), "dataset.dir",
                                              "exp.toml:3:7", "/work/repo/experiments")),
            "/srv/mnist")
      << "absolute paths stay as they are";
  EXPECT_EQ(std::get<std::string>(
                check_value(dir, std::string(""), "dataset.dir", "exp.toml:3:7", "/work")),
            "")
      << "an empty path means unset";
  ParamSpec name = ParamSpec::Str("name", "", "not a path");
  EXPECT_EQ(std::get<std::string>(
                check_value(name, std::string("a/b"), "model.name", "exp.toml:3:7", "/work")),
            "a/b");
  // Values from the file carry its directory; --set values the current directory.
  Experiment exp = load(experiment_text(kMlp, kTrain));
  EXPECT_EQ(exp.sections.at("model").values.at("hidden").base_dir,
            std::filesystem::path(dir_).string());
  EXPECT_EQ(parse_override("dataset.dir=data").value.base_dir,
            std::filesystem::current_path().string());
}

// [search]: what a user gets wrong about a sampled search is refused with where and what.
TEST_F(ExperimentTest, ASearchSectionIsReadWithItsDefaults) {
  Experiment exp = load(std::string(kGood) +
                        "\n[search]\nstrategy = \"bayes\"\nmax_runs = 12\nprune = \"asha\"\n");
  EXPECT_EQ(exp.search.strategy, SearchStrategy::kBayes);
  EXPECT_EQ(exp.search.max_runs, 12);
  EXPECT_EQ(exp.search.seed, 3u) << "the experiment's seed";
  EXPECT_EQ(exp.search.prune.rule, PruneRule::kAsha);
  EXPECT_EQ(exp.search.prune.min_epochs, 1);
  EXPECT_EQ(exp.search.prune.reduction, 3);
  EXPECT_FALSE(load(kGood).search.samples()) << "no [search]: the grid";
}

TEST_F(ExperimentTest, SearchMistakesAreRefusedNamingTheKeyAndWhatToDo) {
  const std::string good = kGood;
  EXPECT_NE(error_of(good + "\n[search]\nstrategy = \"bayes\"\nmax_run = 4\n")
                .find(":1: unknown key 'max_run' in [search]; known: strategy, max_runs"),
            std::string::npos);
  EXPECT_NE(error_of(good + "\n[search]\nstrategy = \"tpe\"\n").find("search.strategy = \"tpe\""),
            std::string::npos);
  EXPECT_NE(
      error_of(good + "\n[search]\nstrategy = \"random\"\n").find("needs a budget: max_runs = N"),
      std::string::npos);
  EXPECT_NE(
      error_of(good + "\n[search]\nmax_runs = 4\n").find("strategy = \"grid\" runs every point"),
      std::string::npos);
  EXPECT_NE(
      error_of(good + "\n[objective]\nmetric = \"peak_rss\"\n\n[search]\nprune = \"median\"\n")
          .find("is measured once per run; prune on val_accuracy"),
      std::string::npos);
  EXPECT_NE(error_of(with("lr = 0.01", "lr = 0.01\non_oom = \"halve\"") +
                     "\n[search]\nstrategy = \"random\"\nmax_runs = 3\n")
                .find("train.on_oom = \"halve\" would run another point than the search chose"),
            std::string::npos);
  EXPECT_NE(error_of(good + "\n[search]\nprune = \"asha\"\nreduction = 1\n")
                .find("search.reduction = 1 is out of range"),
            std::string::npos);
}

TEST_F(ExperimentTest, AnOpenRangeIsSampledBetweenItsEndsAndNeedsASampledSearch) {
  const std::string open = "\"train.lr\" = { from = 1e-4, to = 1e-1, scale = \"log\" }";
  EXPECT_NE(error_of(with("model.hidden = [8, 16]", open))
                .find("range needs step = S or count = N; a range is { from = A, to = B, step = "
                      "S }"),
            std::string::npos);
  Experiment exp = load(with("model.hidden = [8, 16]", open) +
                        "\n[search]\nstrategy = \"sobol\"\nmax_seconds = 60\n");
  const SweptKey& lr = exp.sweep.back().keys.front();
  ASSERT_TRUE(lr.range.has_value());
  EXPECT_DOUBLE_EQ(lr.range->from, 1e-4);
  EXPECT_DOUBLE_EQ(lr.range->to, 1e-1);
  EXPECT_TRUE(lr.range->log);
  EXPECT_FALSE(lr.range->integer);
  EXPECT_FALSE(exp.sweep.front().keys.front().range.has_value()) << "a list is categorical";
}

TEST_F(ExperimentTest, TimeToTargetNeedsATargetAndATargetNeedsTimeToTarget) {
  const std::string good = kGood;
  Experiment exp = load(good +
                        "\n[objective]\nmetric = \"time_to_target\"\n"
                        "target = { val_loss = 0.25 }\n");
  ASSERT_TRUE(exp.objective.target.has_value());
  EXPECT_EQ(exp.objective.target->describe(), "val_loss <= 0.25");
  EXPECT_FALSE(exp.objective.maximize);
  EXPECT_NE(error_of(good + "\n[objective]\nmetric = \"time_to_target\"\n")
                .find("needs the target to reach: target = { val_accuracy = 0.97 }"),
            std::string::npos);
  EXPECT_NE(error_of(good + "\n[objective]\nmetric = \"epoch_s\"\ntarget = { val_loss = 1 }\n")
                .find("target is what metric = \"time_to_target\" races to"),
            std::string::npos);
  EXPECT_NE(error_of(good + "\n[objective]\nmetric = \"time_to_target\"\n"
                            "target = { epoch_s = 1 }\n")
                .find("objective.target cannot be 'epoch_s'"),
            std::string::npos);
  EXPECT_NE(error_of(good + "\n[objective]\nmetric = \"time_to_target\"\n"
                            "target = { val_accuracy = \"high\" }\n")
                .find("objective.target.val_accuracy must be a number"),
            std::string::npos);
}

TEST_F(ExperimentTest, ARaceNeedsTheGridASpeedMetricAndRepeatsToSave) {
  const std::string good = with("seed = 3", "seed = 3\nrepeats = 4");
  EXPECT_TRUE(load(good + "\n[search]\nrace = true\n").search.race);
  EXPECT_NE(error_of(good + "\n[search]\nrace = true\nstrategy = \"random\"\nmax_runs = 4\n")
                .find("race = true races the repeats of a grid's configurations"),
            std::string::npos);
  EXPECT_NE(error_of(good + "\n[objective]\nmetric = \"val_accuracy\"\n\n[search]\nrace = true\n")
                .find("race on epoch_s, samples_per_s or step_median_s"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kGood) + "\n[search]\nrace = true\n")
                .find("needs [experiment] repeats = 4 or more"),
            std::string::npos);
}

// Promotions take up runs asha paused, from their checkpoints, in a sampled search.
TEST_F(ExperimentTest, PromotingNeedsAshaASampledSearchAndCheckpoints) {
  const std::string search =
      "\n[objective]\nmetric = \"val_accuracy\"\n\n[search]\nstrategy = \"random\"\n"
      "max_runs = 4\n";
  EXPECT_TRUE(load(kGood + search + "prune = \"asha\"\npromote = true\n").search.prune.promote);
  EXPECT_FALSE(load(kGood + search + "prune = \"asha\"\n").search.prune.promote);
  EXPECT_NE(error_of(kGood + search + "prune = \"median\"\npromote = true\n")
                .find("promote = true takes up runs that ASHA paused at a rung, and prune = "
                      "\"median\"; set prune = \"asha\", or promote = false"),
            std::string::npos);
  EXPECT_NE(
      error_of(std::string(kGood) + "\n[objective]\nmetric = \"val_accuracy\"\n\n[search]\nprune = "
                                    "\"asha\"\npromote = true\n")
          .find("promote = true works in a sampled search"),
      std::string::npos);
  const std::string benchmark = with("lr = 0.01", "lr = 0.01\nmode = \"benchmark\"");
  EXPECT_NE(error_of(benchmark + search + "prune = \"asha\"\npromote = true\n")
                .find("train.mode = \"benchmark\" writes no checkpoint"),
            std::string::npos);
}

}  // namespace
}  // namespace orch
