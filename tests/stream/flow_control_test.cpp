#include "stream/flow_control.hpp"

#include <gtest/gtest.h>

namespace srudp::stream {
namespace {

using std::chrono::milliseconds;
const Instant kT0{std::chrono::hours(1)};
const Duration kRtt = milliseconds(20);

TEST(WindowTuner, DoublesOnlyWhenUpdatesComeWithinTwoRtts) {
  WindowTuner t;
  EXPECT_EQ(t.next_window(1000, 8000, kT0, kRtt), 1000u);                      // first update
  EXPECT_EQ(t.next_window(1000, 8000, kT0 + milliseconds(30), kRtt), 2000u);  // 30 ms < 40 ms
  EXPECT_EQ(t.next_window(2000, 8000, kT0 + milliseconds(100), kRtt), 2000u); // 70 ms: the reader is slow
  EXPECT_EQ(t.next_window(2000, 3000, kT0 + milliseconds(110), kRtt), 3000u); // capped
  EXPECT_EQ(t.next_window(3000, 3000, kT0 + milliseconds(120), kRtt), 3000u);
}

TEST(ConnectionFlowControl, SendCreditFollowsTheLargestLimit) {
  ConnectionFlowControl f(1000, 4000);
  EXPECT_EQ(f.send_credit(), 0u);  // nothing until the peer's limit is known
  f.set_send_limit(500);
  f.on_sent(200);
  EXPECT_EQ(f.send_credit(), 300u);
  EXPECT_FALSE(f.on_max_data(400));  // lower: ignored
  EXPECT_TRUE(f.on_max_data(1000));
  EXPECT_EQ(f.send_credit(), 800u);
  f.on_sent(800);
  EXPECT_EQ(f.send_credit(), 0u);
  EXPECT_EQ(f.sent(), 1000u);
}

TEST(ConnectionFlowControl, ReceiveLimitAndUpdateAfterHalfAWindow) {
  ConnectionFlowControl f(1000, 1000);
  EXPECT_EQ(f.max_data(), 1000u);
  EXPECT_TRUE(f.may_receive(1000));
  EXPECT_FALSE(f.may_receive(1001));
  f.on_received(1000);
  EXPECT_FALSE(f.may_receive(1));
  f.on_consumed(400, kT0, kRtt);
  EXPECT_FALSE(f.update_due());  // less than half a window consumed
  f.on_consumed(100, kT0, kRtt);
  ASSERT_TRUE(f.update_due());
  EXPECT_EQ(f.max_data(), 1500u);
  EXPECT_TRUE(f.may_receive(500));
  f.on_update_sent();
  EXPECT_FALSE(f.update_due());
  f.on_update_lost();
  EXPECT_TRUE(f.update_due());
  EXPECT_EQ(f.max_data(), 1500u);  // resent with the current value
}

TEST(ConnectionFlowControl, WindowGrowsWhenTheReaderKeepsUpWithTheLink) {
  ConnectionFlowControl f(1000, 16000);
  Instant t = kT0;
  for (int i = 0; i < 10; ++i) {
    f.on_received(f.max_data() - f.received());
    f.on_consumed(f.received() - f.consumed(), t, kRtt);
    t += milliseconds(10);  // well within 2 RTTs
  }
  EXPECT_EQ(f.window(), 16000u);
  EXPECT_EQ(f.max_data(), f.consumed() + 16000u);
}

TEST(ConnectionFlowControl, WindowStaysWhenTheReaderIsSlow) {
  ConnectionFlowControl f(1000, 16000);
  Instant t = kT0;
  for (int i = 0; i < 10; ++i) {
    f.on_received(f.max_data() - f.received());
    f.on_consumed(f.received() - f.consumed(), t, kRtt);
    t += milliseconds(100);
  }
  EXPECT_EQ(f.window(), 1000u);
}

}  // namespace
}  // namespace srudp::stream
