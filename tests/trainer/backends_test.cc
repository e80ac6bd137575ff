// The backends as this machine has them: the cpu backend's bf16 autocast, and the cuda
// and mps plugins' answers about whether they can run here, each loaded from its real
// library. ORCH_WITH_CUDA says how plugins/backends/CMakeLists.txt found LibTorch.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <stdexcept>

#include "host/catalog/plugin_catalog.h"
#include "host/training/autocast_guard.h"
#include "orch/backend.h"
#include "orch/torch_compat.h"
#include "test_paths.h"

namespace orch {
namespace {

class BackendsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    catalog_ = new PluginCatalog();
    catalog_->load_directory(testing::builtin_plugins());
  }
  static void TearDownTestSuite() { delete catalog_; }

  static const PluginEntry& backend(const std::string& name) {
    const PluginEntry* entry = catalog_->find(PluginKind::kBackend, name);
    if (entry == nullptr) throw std::runtime_error("backend plugin '" + name + "' not built");
    return *entry;
  }
  static Params defaults_of(const PluginEntry& entry) {
    std::map<std::string, Value> values;
    for (const auto& spec : entry.params) values[spec.name] = spec.fallback;
    return Params(values);
  }

  static PluginCatalog* catalog_;
};
PluginCatalog* BackendsTest::catalog_ = nullptr;

TEST_F(BackendsTest, TheCpuBackendOffersBf16) {
  auto cpu = backend("cpu").make_backend(defaults_of(backend("cpu")));
  EXPECT_EQ(backend("cpu").unavailable_reason, "");
  EXPECT_TRUE(cpu->supports(Precision::kFp32));
  EXPECT_TRUE(cpu->supports(Precision::kBf16));
}

TEST_F(BackendsTest, AutocastGuardRunsCpuMatmulsInBf16AndRestoresTheStateAfter) {
  auto a = torch::randn({4, 4});
  {
    AutocastGuard guard(c10::DeviceType::CPU, Precision::kBf16);
    EXPECT_TRUE(torch_compat::autocast_enabled(c10::DeviceType::CPU));
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16);
  }
  EXPECT_FALSE(torch_compat::autocast_enabled(c10::DeviceType::CPU));
  EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kFloat);
  {
    AutocastGuard guard(c10::DeviceType::CPU, Precision::kFp32);
    EXPECT_FALSE(torch_compat::autocast_enabled(c10::DeviceType::CPU));
  }
}

TEST_F(BackendsTest, AutocastGuardRefusesADeviceWithoutAutocast) {
  EXPECT_THROW(AutocastGuard(c10::DeviceType::MPS, Precision::kBf16), std::invalid_argument);
  EXPECT_FALSE(torch_compat::autocast_enabled(c10::DeviceType::CPU));
}

TEST_F(BackendsTest, CudaSaysWhyItCannotRunHere) {
  const std::string& reason = backend("cuda").unavailable_reason;
#if ORCH_WITH_CUDA
  if (::access("/dev/nvidiactl", F_OK) != 0) {
    EXPECT_EQ(reason, "no NVIDIA driver/device on this machine (/dev/nvidiactl does not exist)");
  } else {
    EXPECT_EQ(reason, "");
  }
#else
  EXPECT_FALSE(torch::cuda::is_available());
  EXPECT_EQ(reason, "this LibTorch (" TORCH_VERSION
                    ") was built without CUDA; install a CUDA "
                    "build of LibTorch and rebuild orch");
#endif
  // The same parameters either way, so an experiment file validates on any machine.
  ASSERT_EQ(backend("cuda").params.size(), 2u);
  EXPECT_EQ(backend("cuda").params[0].name, "device");
  EXPECT_EQ(backend("cuda").params[1].name, "memory_fraction");
}

TEST_F(BackendsTest, CudaBuiltWithoutCudaRefusesToConstructWithTheSameReason) {
#if ORCH_WITH_CUDA
  GTEST_SKIP() << "this LibTorch has CUDA: the cuda backend is the real one";
#else
  try {
    backend("cuda").make_backend(defaults_of(backend("cuda")));
    FAIL() << "constructed a cuda backend without CUDA";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cuda: " + backend("cuda").unavailable_reason);
  }
#endif
}

TEST_F(BackendsTest, CudaAllocatorStatisticsRiseWhileATensorLivesOnTheDevice) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no usable CUDA device here ("
                 << (ORCH_WITH_CUDA ? "no device or driver" : "LibTorch built without CUDA")
                 << "): the real cuda backend cannot be exercised";
  }
  auto cuda = backend("cuda").make_backend(defaults_of(backend("cuda")));
  EXPECT_EQ(cuda->describe().rfind("cuda:0, ", 0), 0u) << cuda->describe();
  MemoryStats before = cuda->memory();
  {
    auto block = torch::empty({16 << 20}, torch::TensorOptions(cuda->device()));  // 64 MiB
    cuda->synchronize();
    MemoryStats during = cuda->memory();
    EXPECT_GE(during.device_current_bytes - before.device_current_bytes, 64ll << 20);
    EXPECT_GE(during.device_peak_bytes, during.device_current_bytes);
    EXPECT_GT(during.host_current_bytes, 0);
  }
  EXPECT_LT(cuda->memory().device_current_bytes, before.device_current_bytes + (64ll << 20));
}

TEST_F(BackendsTest, CudaRefusesADeviceIndexOutOfRange) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no usable CUDA device here: device indices cannot be checked";
  }
  std::map<std::string, Value> values{{"device", std::int64_t{1023}}, {"memory_fraction", 0.0}};
  try {
    backend("cuda").make_backend(Params(values));
    FAIL() << "device 1023 was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("backend.device = 1023 is out of range"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(BackendsTest, MpsSaysItExistsOnlyOnMacOS) {
#if defined(__APPLE__)
  GTEST_SKIP() << "on macOS whether MPS runs depends on the GPU, checked in the worker";
#else
  EXPECT_EQ(backend("mps").unavailable_reason,
            "MPS is Apple's Metal backend; it exists only on macOS builds of LibTorch");
  EXPECT_THROW(backend("mps").make_backend(Params()), std::runtime_error);
#endif
}

}  // namespace
}  // namespace orch
