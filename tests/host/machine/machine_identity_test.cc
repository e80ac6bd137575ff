#include "host/machine/machine_identity.h"

#include <gtest/gtest.h>

#include "host/base/user_error.h"

namespace orch {
namespace {

SpeedFacts laptop() {
  SpeedFacts facts;
  facts.cpu_model = "Intel(R) Core(TM) i7-1185G7 @ 3.00GHz";
  facts.cores = 8;
  facts.memory_bytes = std::int64_t{16} << 30;
  facts.torch = "1.13.0";
  facts.blas = "openblas";
  return facts;
}

TEST(MachineIdentityTest, TheFingerprintOfTheSameFactsNeverChanges) {
  EXPECT_EQ(machine_fingerprint(laptop()), machine_fingerprint(laptop()));
  // Pinned: a fingerprint that changed between orch versions would make every machine a
  // new one, and resume would run its whole history again.
  EXPECT_EQ(machine_fingerprint(laptop()), "1b544f1ca653");
  EXPECT_EQ(machine_fingerprint(laptop()).size(), 12u);
}

TEST(MachineIdentityTest, WhatDecidesSpeedChangesTheFingerprint) {
  const std::string base = machine_fingerprint(laptop());
  SpeedFacts fewer_cores = laptop();
  fewer_cores.cores = 4;
  SpeedFacts more_memory = laptop();
  more_memory.memory_bytes = std::int64_t{32} << 30;
  SpeedFacts gpu = laptop();
  gpu.accelerator = "NVIDIA RTX A6000";
  SpeedFacts netlib = laptop();
  netlib.blas = "netlib";
  SpeedFacts newer_torch = laptop();
  newer_torch.torch = "2.1.0";
  for (const SpeedFacts& other : {fewer_cores, more_memory, gpu, netlib, newer_torch}) {
    EXPECT_NE(machine_fingerprint(other), base) << speed_facts_json(other);
  }
  // A few MiB that the kernel reserves differently after an update is the same machine.
  SpeedFacts after_update = laptop();
  after_update.memory_bytes -= 40 << 20;
  EXPECT_EQ(machine_fingerprint(after_update), base);
}

TEST(MachineIdentityTest, TheDefaultNameSaysTheHardwareInFewWords) {
  EXPECT_EQ(default_machine_name(laptop()), "Intel Core i7-1185G7, 8 cores, 16 GiB");
  SpeedFacts gpu = laptop();
  gpu.accelerator = "NVIDIA RTX A6000 x2";
  EXPECT_EQ(default_machine_name(gpu),
            "Intel Core i7-1185G7, 8 cores, 16 GiB, NVIDIA RTX A6000 x2");
}

TEST(MachineIdentityTest, GpuModelsComeFromTheNvidiaDriversInformationFiles) {
  const std::string a100 =
      "Model: \t\t NVIDIA A100-SXM4-40GB\nIRQ:             34\nGPU UUID: \t GPU-1\n";
  EXPECT_EQ(describe_gpu_models({a100, a100}), "NVIDIA A100-SXM4-40GB x2");
  EXPECT_EQ(describe_gpu_models({}), "");
}

TEST(MachineIdentityTest, ThisMachineUsesTheGivenNameAndRefusesABlankOne) {
  const storage::MachineRecord named = this_machine("laptop");
  EXPECT_EQ(named.name, "laptop");
  EXPECT_TRUE(named.named_by_user);
  const storage::MachineRecord unnamed = this_machine("");
  EXPECT_FALSE(unnamed.named_by_user);
  EXPECT_EQ(unnamed.fingerprint, named.fingerprint);  // the name is not a fact of the machine
  EXPECT_EQ(unnamed.name, default_machine_name(read_speed_facts()));
  EXPECT_THROW(this_machine("  "), UserError);
}

}  // namespace
}  // namespace orch
