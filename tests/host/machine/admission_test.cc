#include "host/machine/admission.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

constexpr std::int64_t kGiB = 1ll << 30;

TEST(AdmissionTest, JobsShareTheCoresEquallyUnlessTheFileFixesThreads) {
  Admission four_cores({0, 1, 2, 3}, 16 * kGiB, 2);
  EXPECT_EQ(four_cores.cores_for(0), 2);
  EXPECT_EQ(four_cores.cores_for(3), 3);
  EXPECT_EQ(four_cores.cores_for(64), 4);  // never more than the machine has
  Admission more_jobs_than_cores({0, 1}, 16 * kGiB, 8);
  EXPECT_EQ(more_jobs_than_cores.cores_for(0), 1);
}

TEST(AdmissionTest, RunsGetDisjointCoresAndWaitWhenNoneAreFree) {
  Admission admission({0, 1}, 16 * kGiB, 2);
  auto first = admission.admit(1, kGiB);
  auto second = admission.admit(1, kGiB);
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->at(0), second->at(0));
  EXPECT_FALSE(admission.admit(1, kGiB)) << "a third run with -j 2";
  admission.release(*first, kGiB);
  auto third = admission.admit(1, kGiB);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->at(0), first->at(0));
}

TEST(AdmissionTest, ARunWaitsUntilItsBudgetFitsBesideTheRunningOnes) {
  Admission admission({0, 1, 2, 3}, 10 * kGiB, 4);
  auto big = admission.admit(1, 6 * kGiB);
  ASSERT_TRUE(big);
  EXPECT_FALSE(admission.admit(1, 6 * kGiB)) << "6 + 6 GiB in 10 GiB";
  auto small = admission.admit(1, 4 * kGiB);
  ASSERT_TRUE(small) << "6 + 4 GiB fits in 10 GiB";
  EXPECT_EQ(admission.memory_in_use(), 10 * kGiB);
  admission.release(*big, 6 * kGiB);
  EXPECT_TRUE(admission.admit(1, 6 * kGiB));
}

TEST(AdmissionTest, AnIdleMachineTakesAnyRunSoNothingWaitsForever) {
  Admission admission({0, 1}, 4 * kGiB, 2);
  auto huge = admission.admit(2, 8 * kGiB);
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->size(), 2u);
  EXPECT_FALSE(admission.admit(1, kGiB));
}

TEST(AdmissionTest, CoresAreDescribedAsRanges) {
  EXPECT_EQ(describe_cpus({0, 1, 2, 3, 6}), "0-3,6");
  EXPECT_EQ(describe_cpus({5}), "5");
  EXPECT_EQ(describe_cpus({3, 1, 2}), "1-3");
}

}  // namespace
}  // namespace orch
