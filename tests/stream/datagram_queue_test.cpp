#include "stream/datagram_queue.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace srudp::stream {
namespace {

using std::chrono::milliseconds;
const Instant kT0{std::chrono::hours(1)};

std::vector<std::uint8_t> bytes(std::uint8_t tag, std::size_t n = 3) { return std::vector<std::uint8_t>(n, tag); }

TEST(DatagramQueue, FirstInFirstOut) {
  DatagramQueue q(4);
  q.push(bytes(1));
  q.push(bytes(2));
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.front(), bytes(1));
  q.pop();
  EXPECT_EQ(q.front(), bytes(2));
  q.pop();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.dropped(), 0u);
}

TEST(DatagramQueue, FullQueueDropsTheOldest) {
  DatagramQueue q(3);
  for (std::uint8_t i = 0; i < 10; ++i) q.push(bytes(i));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.dropped(), 7u);
  EXPECT_EQ(q.front(), bytes(7));
}

TEST(DatagramQueue, StaleDatagramsAreDroppedNotSent) {
  DatagramQueue q(10);
  for (int i = 0; i < 5; ++i) {
    q.push(bytes(static_cast<std::uint8_t>(i)));
    q.drop_stale(kT0 + milliseconds(10 * i), milliseconds(100));  // each waits from here
  }
  q.drop_stale(kT0 + milliseconds(125), milliseconds(100));  // waited 125, 115, 105, 95, 85 ms
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.dropped(), 3u);
  EXPECT_EQ(q.front(), bytes(3));
  q.drop_stale(kT0 + milliseconds(130), milliseconds(100));
  EXPECT_EQ(q.size(), 2u);
}

TEST(DatagramQueue, WaitStartsAtTheFirstChanceToSend) {
  // The push itself carries no time: a datagram pushed long after the connection's last event is
  // not old.
  DatagramQueue q(10);
  q.push(bytes(1));
  q.drop_stale(kT0 + std::chrono::seconds(60), milliseconds(20));
  EXPECT_EQ(q.size(), 1u);
  q.drop_stale(kT0 + std::chrono::seconds(60) + milliseconds(20), milliseconds(20));
  EXPECT_EQ(q.size(), 1u);  // exactly the age limit: still fresh
  q.drop_stale(kT0 + std::chrono::seconds(60) + milliseconds(21), milliseconds(20));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.dropped(), 1u);
}

TEST(DatagramQueue, DropFrontCountsAndZeroCapacityDropsEverything) {
  DatagramQueue q(2);
  q.push(bytes(1, 2000));
  q.drop_front();  // e.g. larger than the path MTU allows now
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.dropped(), 1u);
  DatagramQueue none(0);
  none.push(bytes(1));
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.dropped(), 1u);
}

TEST(DatagramQueue, HoldsACopy) {
  DatagramQueue q(2);
  std::vector<std::uint8_t> payload = bytes(9);
  q.push(payload);
  payload[0] = 0;
  EXPECT_EQ(q.front(), bytes(9));
  q.clear();
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace srudp::stream
