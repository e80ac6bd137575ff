#include "host/guard/worker_events.h"

#include <gtest/gtest.h>

#include <cmath>

namespace orch {
namespace {

TEST(WorkerEventsTest, EpochEventsSurviveTheTripThroughThePipeFormat) {
  WorkerEvent event{WorkerEvent::Kind::kEpoch};
  event.epoch.epoch = 3;
  event.epoch.seconds = 1.25;
  event.epoch.samples_per_s = 8192.5;
  event.epoch.val_accuracy = 0.875;
  event.epoch.timed_samples = 10240;
  auto line = encode_event(event);
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one event is one line";
  auto back = decode_event(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, WorkerEvent::Kind::kEpoch);
  EXPECT_EQ(back->epoch.epoch, 3);
  EXPECT_DOUBLE_EQ(back->epoch.seconds, 1.25);
  EXPECT_DOUBLE_EQ(back->epoch.samples_per_s, 8192.5);
  EXPECT_DOUBLE_EQ(back->epoch.val_accuracy, 0.875);
  EXPECT_EQ(back->epoch.timed_samples, 10240);
}

// The host records a resumed epoch as such and a skipped checkpoint with its reason.
TEST(WorkerEventsTest, ResumedEpochsAndSkippedCheckpointsSurviveThePipe) {
  WorkerEvent epoch{WorkerEvent::Kind::kEpoch};
  epoch.epoch.epoch = 3;
  epoch.epoch.resumed = true;
  auto resumed = decode_event(encode_event(epoch));
  ASSERT_TRUE(resumed);
  EXPECT_TRUE(resumed->epoch.resumed);
  epoch.epoch.resumed = false;
  EXPECT_FALSE(decode_event(encode_event(epoch))->epoch.resumed);

  WorkerEvent skipped{WorkerEvent::Kind::kCheckpoint};
  skipped.epoch.epoch = 2;
  skipped.message = "over train.checkpoint_disk";
  auto back = decode_event(encode_event(skipped));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, WorkerEvent::Kind::kCheckpoint);
  EXPECT_EQ(back->epoch.epoch, 2);
  EXPECT_EQ(back->message, "over train.checkpoint_disk");
}

TEST(WorkerEventsTest, ErrorMessagesKeepNewlinesAndOddBytes) {
  WorkerEvent event{WorkerEvent::Kind::kError};
  event.message = "line one\nline \"two\" \xff";
  event.out_of_memory = true;
  auto back = decode_event(encode_event(event));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, WorkerEvent::Kind::kError);
  EXPECT_NE(back->message.find("line one\nline \"two\""), std::string::npos);
  EXPECT_TRUE(back->out_of_memory);
}

TEST(WorkerEventsTest, UnmeasuredValuesStayUnmeasuredNotZero) {
  WorkerEvent event{WorkerEvent::Kind::kEpoch};
  event.epoch.epoch = 1;
  event.epoch.val_accuracy = std::nan("");
  event.epoch.train_accuracy = 0.5;
  auto back = decode_event(encode_event(event));
  ASSERT_TRUE(back) << "a NaN must not make the event unreadable";
  EXPECT_TRUE(std::isnan(back->epoch.val_accuracy));
  EXPECT_DOUBLE_EQ(back->epoch.train_accuracy, 0.5);
}

TEST(WorkerEventsTest, GarbageIsIgnoredNotFatal) {
  EXPECT_FALSE(decode_event("hello from a plugin printing to the wrong fd"));
  EXPECT_FALSE(decode_event("{\"event\": \"bogus\"}"));
  EXPECT_FALSE(decode_event("{\"event\": \"epoch\"}"));  // epoch without its number
  EXPECT_FALSE(decode_event("[1, 2]"));
}

}  // namespace
}  // namespace orch
