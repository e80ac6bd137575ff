#include "host/base/memory_budget.h"

#include <gtest/gtest.h>

#include <string>

#include "host/base/user_error.h"

namespace orch {
namespace {

constexpr std::int64_t kMiB = 1024 * 1024;
constexpr std::int64_t kGiB = 1024 * kMiB;
const MachineMemory kMachine{24 * kGiB, 20 * kGiB};
const std::string kWhere = "exp.toml:12:16: train.memory_limit";

std::int64_t parse(const std::string& text) { return parse_budget(text, kMachine, kWhere); }

// The message parse_budget throws for `text`, or "" when it does not throw.
std::string error_for(const std::string& text, const MachineMemory& machine = kMachine) {
  try {
    parse_budget(text, machine, kWhere);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(MemoryBudgetTest, BinaryUnitsArePowersOf1024) {
  EXPECT_EQ(parse("6GiB"), 6 * kGiB);
  EXPECT_EQ(parse("2G"), 2 * kGiB);
  EXPECT_EQ(parse("512MiB"), 512 * kMiB);
  EXPECT_EQ(parse("512M"), 512 * kMiB);
  EXPECT_EQ(parse("4KiB"), 4096);
  EXPECT_EQ(parse("4K"), 4096);
  EXPECT_EQ(parse("300B"), 300);
  EXPECT_EQ(parse("1073741824"), kGiB);
}

TEST(MemoryBudgetTest, DecimalUnitsArePowersOf1000) {
  EXPECT_EQ(parse("300MB"), 300'000'000);
  EXPECT_EQ(parse("2GB"), 2'000'000'000);
  EXPECT_EQ(parse("5KB"), 5000);
  const MachineMemory big{4 * 1024 * kGiB, 4 * 1024 * kGiB};
  EXPECT_EQ(parse_budget("1TB", big, kWhere), 1'000'000'000'000);
  EXPECT_EQ(parse_budget("1TiB", big, kWhere), 1024 * kGiB);
}

TEST(MemoryBudgetTest, DecimalNumbersAreExactAndRoundDown) {
  EXPECT_EQ(parse("1.5GiB"), 3 * kGiB / 2);
  EXPECT_EQ(parse("0.5MiB"), kMiB / 2);
  EXPECT_EQ(parse("2.2GB"), 2'200'000'000);  // no binary floating-point drift
  EXPECT_EQ(parse("1.0001KiB"), 1024);       // 1024.1024 bytes, rounded down
}

TEST(MemoryBudgetTest, SpacesAndCaseDoNotMatter) {
  EXPECT_EQ(parse("1.5 GiB"), 3 * kGiB / 2);
  EXPECT_EQ(parse("  6gib  "), 6 * kGiB);
  EXPECT_EQ(parse("6 GIB"), 6 * kGiB);
  EXPECT_EQ(parse("512 mb"), 512'000'000);
  EXPECT_EQ(parse("2g"), 2 * kGiB);
  EXPECT_EQ(parse(" 50 %"), 10 * kGiB);
}

TEST(MemoryBudgetTest, PercentIsOfTheAvailableMemory) {
  EXPECT_EQ(parse("50%"), 10 * kGiB);  // of the 20 GiB available, not the 24 GiB total
  EXPECT_EQ(parse("100%"), 20 * kGiB);
  EXPECT_EQ(parse("12.5%"), 20 * kGiB / 8);
  EXPECT_EQ(parse_budget("80%", {24 * kGiB, 10 * kGiB}, kWhere), 8 * kGiB);
}

TEST(MemoryBudgetTest, MalformedTextNamesWhereQuotesItAndGivesExamples) {
  const std::string message = error_for("6 GB/s");
  EXPECT_EQ(message.rfind(kWhere + " = \"6 GB/s\"", 0), 0u) << message;
  EXPECT_NE(message.find("is not a memory size"), std::string::npos) << message;
  EXPECT_NE(message.find("\"6GiB\""), std::string::npos) << message;
  EXPECT_NE(message.find("\"80%\""), std::string::npos) << message;
  for (const char* bad : {"", "GiB", "six GiB", "6 GiBs", "1e9", "1.GiB", "6 G iB", "0x10"})
    EXPECT_NE(error_for(bad).find("is not a memory size"), std::string::npos) << bad;
}

TEST(MemoryBudgetTest, PlainBytesMustBeWhole) {
  const std::string message = error_for("1.5");
  EXPECT_NE(message.find("\"1.5\" is not a whole number of bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("\"512MiB\""), std::string::npos) << message;
}

TEST(MemoryBudgetTest, ZeroIsRejected) {
  for (const char* zero : {"0", "0GiB", "0.0 MiB"}) {
    const std::string message = error_for(zero);
    EXPECT_EQ(message.rfind(kWhere + " = \"" + zero + "\" must be more than 0", 0), 0u) << message;
    EXPECT_NE(message.find("\"6GiB\""), std::string::npos) << message;
  }
  EXPECT_NE(error_for("0.0000001KiB").find("must be more than 0"), std::string::npos);
}

TEST(MemoryBudgetTest, NegativeIsRejected) {
  const std::string message = error_for("-2GiB");
  EXPECT_EQ(message.rfind(kWhere + " = \"-2GiB\" is negative", 0), 0u) << message;
  EXPECT_NE(message.find("\"512MiB\""), std::string::npos) << message;
}

TEST(MemoryBudgetTest, PercentMustBeAbove0AndAtMost100) {
  std::string message = error_for("150%");
  EXPECT_EQ(message.rfind(kWhere + " = \"150%\" is more than 100% of the available memory", 0), 0u)
      << message;
  EXPECT_NE(message.find("\"80%\""), std::string::npos) << message;
  EXPECT_NE(error_for("100.5%").find("more than 100%"), std::string::npos);
  message = error_for("0%");
  EXPECT_EQ(message.rfind(kWhere + " = \"0%\" must be more than 0%", 0), 0u) << message;
  EXPECT_NE(message.find("\"80%\""), std::string::npos) << message;
}

TEST(MemoryBudgetTest, MoreThanTheMachineHasIsRejectedWithItsSize) {
  const MachineMemory machine{23 * kGiB + kGiB / 2, 20 * kGiB};
  const std::string message = error_for("64GiB", machine);
  EXPECT_EQ(message.rfind(kWhere + " = \"64GiB\" is more than this machine has (23.5 GiB)", 0), 0u)
      << message;
  EXPECT_NE(message.find("\"16GiB\""), std::string::npos) << message;  // 80% of 20 GiB
  EXPECT_NE(message.find("\"80%\""), std::string::npos) << message;
  EXPECT_NE(error_for("99999999999999999999999 TiB").find("more than this machine has"),
            std::string::npos);
  EXPECT_EQ(parse_budget("23.5GiB", machine, kWhere), machine.total_bytes);  // exactly all: ok
}

TEST(MemoryBudgetTest, WhereCanBeAFlag) {
  EXPECT_EQ(parse_budget("8GiB", kMachine, "--memory-limit"), 8 * kGiB);
  try {
    parse_budget("lots", kMachine, "--memory-limit");
    FAIL() << "\"lots\" was accepted";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--memory-limit = \"lots\" is not a memory size", 0), 0u)
        << e.what();
  }
}

TEST(MemoryBudgetTest, DefaultBudgetIs80PercentOfAvailableIn256MiBSteps) {
  EXPECT_EQ(default_budget({24 * kGiB, 20 * kGiB}), 16 * kGiB);
  // 80% of 10 GiB + 100 MiB is 8272 MiB, which rounds down to 8192 MiB.
  EXPECT_EQ(default_budget({24 * kGiB, 10 * kGiB + 100 * kMiB}), 8 * kGiB);
  // 80% of 1000 MiB is 800 MiB, which rounds down to 768 MiB.
  EXPECT_EQ(default_budget({2 * kGiB, 1000 * kMiB}), 768 * kMiB);
  EXPECT_EQ(default_budget({2 * kGiB, 1000 * kMiB}) % (256 * kMiB), 0);
}

TEST(MemoryBudgetTest, DefaultBudgetNeverFallsBelow256MiBUnlessLessIsAvailable) {
  EXPECT_EQ(default_budget({kGiB, 300 * kMiB}), 256 * kMiB);  // 80% would round to 0
  EXPECT_EQ(default_budget({kGiB, 256 * kMiB}), 256 * kMiB);
  EXPECT_EQ(default_budget({kGiB, 100 * kMiB}), 100 * kMiB);  // cannot give more than exists
}

TEST(MemoryBudgetTest, ReadsThisMachinesMemory) {
  const MachineMemory machine = read_machine_memory();
  EXPECT_GT(machine.available_bytes, 0);
  EXPECT_GE(machine.total_bytes, machine.available_bytes);
  EXPECT_EQ(machine.total_bytes % 1024, 0);  // /proc/meminfo counts in kB
  EXPECT_GT(default_budget(machine), 0);
  EXPECT_LE(default_budget(machine), machine.available_bytes);
}

TEST(MemoryBudgetTest, DescribeBytesUsesBinaryUnitsWithOneDecimal) {
  EXPECT_EQ(describe_bytes(6 * kGiB), "6.0 GiB");
  EXPECT_EQ(describe_bytes(512 * kMiB), "512.0 MiB");
  EXPECT_EQ(describe_bytes(300), "300 B");
  EXPECT_EQ(describe_bytes(1536), "1.5 KiB");
  EXPECT_EQ(describe_bytes(23 * kGiB + kGiB / 2), "23.5 GiB");
  EXPECT_EQ(describe_bytes(2048LL * kGiB), "2.0 TiB");
}

}  // namespace
}  // namespace orch
