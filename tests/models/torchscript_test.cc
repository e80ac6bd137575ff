// The torchscript model plugin on modules exported from Python the way users export them:
// orch trains the scripted module's own parameters, switches its Dropout and BatchNorm,
// feeds extra inputs by argument name, uses its own loss method, and refuses what it
// cannot train in one sentence.
#include <torch/torch.h>

#include <fstream>

#include "tests/models/model_harness.h"
#include "tests/support/python_torch.h"
#include "tests/support/unit_test_support.h"

namespace orch::testing {
namespace {

const char* kExport = R"(
torch.manual_seed(0)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(),
                                  nn.Dropout(0.5), nn.Linear(16, 3))
    def forward(self, x):
        return self.body(x)
net = Net()
torch.jit.script(net).save("net.pt")
torch.save(net.state_dict(), "state.pt")
net.eval()
x = torch.linspace(-1, 1, 24).reshape(4, 6)
torch.save({"inputs": x, "eval_output": net(x).detach()}, "expected.pt")

class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 3)
        self.b = nn.Linear(2, 3)
    def forward(self, x, mask):
        return self.a(x) + self.b(mask)
    @torch.jit.export
    def loss(self, output, target):
        return 2 * nn.functional.cross_entropy(output, target)
torch.jit.script(TwoInputs()).save("two_inputs.pt")

class UnknownArgument(nn.Module):
    def forward(self, x, weights):
        return x
torch.jit.script(UnknownArgument()).save("unknown_argument.pt")

class FiveClasses(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Linear(6, 5)
    def forward(self, x):
        return self.out(x)
torch.jit.script(FiveClasses()).save("five_classes.pt")
)";

class TorchScriptTest : public TempDir {
 protected:
  static void SetUpTestSuite() {
    if (!python_torch_missing().empty()) return;
    char pattern[] = "/tmp/orch_torchscript_XXXXXX";
    exported_ = ::mkdtemp(pattern);
    exported_ok_ = run_python(exported_, kExport);
  }
  static void TearDownTestSuite() {
    if (!exported_.empty()) std::filesystem::remove_all(exported_);
  }
  void SetUp() override {
    TempDir::SetUp();
    if (!python_torch_missing().empty()) GTEST_SKIP() << python_torch_missing();
    ASSERT_TRUE(exported_ok_);
  }
  static std::unique_ptr<Model> scripted(const std::string& file, const DatasetInfo& data,
                                         const std::string& loss = "auto") {
    return make_model("torchscript", data, {{"path", exported_ + "/" + file}, {"loss", loss}});
  }
  static std::string refusal(const std::string& file, const DatasetInfo& data) {
    try {
      scripted(file, data);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
  static torch::Tensor expected(const std::string& name) {
    std::ifstream in(exported_ + "/expected.pt", std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    return torch::pickle_load(bytes).toGenericDict().at(name).toTensor();
  }
  static Batch inputs_batch() {
    Batch batch;
    batch.inputs = expected("inputs");
    batch.targets = torch::tensor({0, 1, 2, 1}, torch::kLong);
    return batch;
  }

  static inline std::string exported_;
  static inline ::testing::AssertionResult exported_ok_ = ::testing::AssertionFailure();
};

TEST_F(TorchScriptTest, TheModelIsThePythonModuleWithItsOwnWeights) {
  auto model = scripted("net.pt", vector_info(6, 3));
  EXPECT_EQ(parameter_count(*model), 6 * 16 + 16 + 2 * 16 + 16 * 3 + 3);
  EXPECT_EQ(model->module().buffers().size(), 3u) << "BatchNorm's running mean, var and count";
  model->module().eval();
  const torch::Tensor output = model->forward(inputs_batch());
  EXPECT_TRUE(torch::allclose(output, expected("eval_output"), 1e-5, 1e-6))
      << "the same outputs as in Python, in eval mode";
}

TEST_F(TorchScriptTest, TrainAndEvalReachTheScriptedDropoutAndBatchNorm) {
  auto model = scripted("net.pt", vector_info(6, 3));
  const Batch batch = inputs_batch();
  model->module().eval();
  const torch::Tensor first = model->forward(batch);
  EXPECT_TRUE(torch::equal(first, model->forward(batch))) << "eval: no dropout";
  model->module().train();
  EXPECT_FALSE(torch::allclose(model->forward(batch), first)) << "train: dropout and batch stats";
}

TEST_F(TorchScriptTest, TrainingStepsChangeTheScriptedModulesWeightsAndLowerTheLoss) {
  auto model = scripted("net.pt", vector_info(6, 3));
  const Batch batch = inputs_batch();
  model->module().eval();
  const torch::Tensor before = model->forward(batch).detach().clone();
  const double loss_before = model->loss(before, batch).item<double>();
  model->module().train();
  torch::optim::Adam optimizer(model->module().parameters(), torch::optim::AdamOptions(0.01));
  for (int step = 0; step < 200; ++step) train_step(*model, optimizer, batch);
  model->module().eval();
  const torch::Tensor after = model->forward(batch);
  EXPECT_FALSE(torch::allclose(after, before))
      << "the optimizer updated the tensors the scripted forward uses";
  EXPECT_LT(model->loss(after, batch).item<double>(), loss_before / 2);
}

TEST_F(TorchScriptTest, ExtraInputsGoByArgumentNameAndTheModulesOwnLossIsUsed) {
  DatasetInfo data = vector_info(6, 3);
  data.extra_input_shapes["mask"] = {2};
  auto model = scripted("two_inputs.pt", data);
  Batch batch = inputs_batch();
  batch.extra_inputs["mask"] = torch::ones({4, 2});
  const torch::Tensor output = model->forward(batch);
  ASSERT_EQ(output.sizes().vec(), (std::vector<std::int64_t>{4, 3}));
  const double own = model->loss(output, batch).item<double>();
  const double cross_entropy =
      torch::nn::functional::cross_entropy(output, batch.targets).item<double>();
  EXPECT_NEAR(own, 2 * cross_entropy, 1e-6) << "loss = \"auto\" takes the module's loss method";
  auto named = scripted("two_inputs.pt", data, "cross_entropy");
  EXPECT_NEAR(named->loss(output, batch).item<double>(), cross_entropy, 1e-6);
}

TEST_F(TorchScriptTest, WhatCannotBeTrainedIsRefusedInOneSentence) {
  const DatasetInfo data = vector_info(6, 3);
  EXPECT_TRUE(contains(refusal("state.pt", data),
                       "state.pt was written by torch.save (a state_dict or a whole nn.Module)"));
  EXPECT_TRUE(contains(refusal("state.pt", data), "scripted = torch.jit.script(model)"));
  EXPECT_TRUE(contains(refusal("missing.pt", data), "missing.pt: no such file"));
  EXPECT_TRUE(contains(refusal("unknown_argument.pt", data),
                       "forward's argument 'weights' is not an input the dataset has (it has "
                       "inputs)"));
  EXPECT_TRUE(contains(refusal("five_classes.pt", data),
                       "forward returns shape [2, 5] for a batch of 2, but cross_entropy on "
                       "classification of shape [6] needs [2, 3]"));
  EXPECT_TRUE(contains(refusal("net.pt", vector_info(9, 3)),
                       "forward fails on samples shaped like the dataset's (classification of "
                       "shape [9])"));
}

}  // namespace
}  // namespace orch::testing
