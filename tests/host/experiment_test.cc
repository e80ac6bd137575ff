#include "host/experiment.h"

#include <gtest/gtest.h>

#include "host/user_error.h"
#include "test_paths.h"

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

class ExperimentTest : public testing::TempDir {
 protected:
  static void SetUpTestSuite() {
    catalog_ = new PluginCatalog();
    catalog_->load_directory(testing::builtin_plugins());
  }
  static void TearDownTestSuite() { delete catalog_; }

  Experiment load(const std::string& text) {
    return load_experiment(write("exp.toml", text), *catalog_);
  }
  // The message of the UserError that loading `text` throws.
  std::string error_of(const std::string& text) {
    try {
      load(text);
    } catch (const UserError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected a UserError";
    return "";
  }
  std::string with(const std::string& from, const std::string& to) {
    std::string text = kGood;
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  }

  static PluginCatalog* catalog_;
};
PluginCatalog* ExperimentTest::catalog_ = nullptr;

TEST_F(ExperimentTest, AGoodFileResolvesEveryParameterWithDefaults) {
  Experiment exp = load(kGood);
  EXPECT_EQ(exp.name, "unit");
  EXPECT_EQ(exp.seed, 3);
  EXPECT_EQ(exp.repeats, 1);
  EXPECT_EQ(exp.sections.at("model").plugin, "mlp");
  EXPECT_EQ(std::get<std::int64_t>(exp.sections.at("model").values.at("hidden")), 16);
  EXPECT_EQ(std::get<std::int64_t>(exp.sections.at("model").values.at("layers")), 2)
      << "defaults come from the plugin's declaration";
  EXPECT_EQ(std::get<std::string>(exp.sections.at("train").values.at("optimizer")), "adam");
  EXPECT_NE(exp.text.find("[sweep]"), std::string::npos);
}

TEST_F(ExperimentTest, SweepKeepsFileOrderAndAcceptsBothKeyStyles) {
  Experiment exp = load(kGood);
  ASSERT_EQ(exp.sweep.size(), 2u);
  EXPECT_EQ(exp.sweep[0].path(), "train.batch_size");
  EXPECT_EQ(exp.sweep[1].path(), "model.hidden");
  EXPECT_EQ(exp.sweep[0].values.size(), 3u);
}

TEST_F(ExperimentTest, AnIntegerIsAcceptedForARealParameter) {
  Experiment exp = load(with("lr = 0.01", "lr = 1"));
  EXPECT_DOUBLE_EQ(std::get<double>(exp.sections.at("train").values.at("lr")), 1.0);
}

TEST_F(ExperimentTest, MalformedTomlNamesFileLineAndColumn) {
  std::string message = error_of(with("batch_size = 8", "batch_size = = 8"));
  EXPECT_NE(message.find("exp.toml:19:"), std::string::npos) << message;
  EXPECT_NE(message.find("invalid TOML"), std::string::npos) << message;
}

TEST_F(ExperimentTest, UnknownPluginListsTheKnownOnes) {
  std::string message = error_of(with("plugin = \"mlp\"", "plugin = \"mpl\""));
  EXPECT_NE(message.find("exp.toml:14:"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown model plugin 'mpl'; known models: mlp"), std::string::npos)
      << message;
}

TEST_F(ExperimentTest, UnknownParameterListsTheKnownOnes) {
  std::string message = error_of(with("hidden = 16", "hiden = 16"));
  EXPECT_NE(message.find("exp.toml:15:"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown parameter 'hiden' in [model] (plugin 'mlp'); known: hidden, layers"),
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
    EXPECT_NE(message.find("is out of range: expected integer in [1, 16777216]"),
              std::string::npos)
        << message;
  }
  std::string message = error_of(with("lr = 0.01", "lr = -0.5"));
  EXPECT_NE(message.find("train.lr = -0.5 is out of range"), std::string::npos) << message;
}

TEST_F(ExperimentTest, ChoicesAreListed) {
  std::string message = error_of(with("lr = 0.01", "optimizer = \"lbfgs\""));
  EXPECT_NE(message.find("train.optimizer = \"lbfgs\" is not allowed: expected one of sgd, adam, adamw"),
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
  EXPECT_NE(message.find("sweep key \"trian.batch_size\" matches no parameter"),
            std::string::npos)
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
  EXPECT_NE(message.find("[backend] needs plugin = \"...\"; known backends: cpu"),
            std::string::npos)
      << message;
}

TEST_F(ExperimentTest, AMissingFileIsNamed) {
  try {
    load_experiment(dir_ + "/nope.toml", *catalog_);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.toml: no such experiment file"),
              std::string::npos);
  }
}

TEST_F(ExperimentTest, AnExperimentNeedsAName) {
  std::string message = error_of(with("name = \"unit\"\n", ""));
  EXPECT_NE(message.find("[experiment] needs name"), std::string::npos) << message;
}

TEST_F(ExperimentTest, SweepingThePluginItselfIsRefusedClearlyForNow) {
  std::string message = error_of(std::string(kGood) + "\"model.plugin\" = [\"mlp\"]\n");
  EXPECT_NE(message.find("sweeping the plugin itself is not supported yet"), std::string::npos)
      << message;
}

}  // namespace
}  // namespace orch
