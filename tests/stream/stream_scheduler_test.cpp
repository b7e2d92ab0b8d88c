#include "stream/stream_scheduler.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <vector>

namespace srudp::stream {
namespace {

// Serves `turns` frames: the front stream each time, then rotated to the back of its level.
std::vector<std::uint64_t> serve(StreamScheduler& s, int turns) {
  std::vector<std::uint64_t> order;
  for (int i = 0; i < turns; ++i) {
    auto id = s.front();
    if (!id) break;
    order.push_back(*id);
    s.rotate(*id);
  }
  return order;
}

TEST(StreamScheduler, EmptyHasNoFront) {
  StreamScheduler s;
  EXPECT_FALSE(s.front());
  EXPECT_TRUE(s.empty());
  s.remove(4);  // unknown: nothing happens
  s.rotate(4);
  s.set_urgency(4, 0);
  EXPECT_TRUE(s.empty());
}

TEST(StreamScheduler, EqualUrgenciesTakeTurnsOneFrameEach) {
  StreamScheduler s;
  for (std::uint64_t id : {0u, 4u, 8u}) s.schedule(id, kDefaultUrgency);
  EXPECT_EQ(serve(s, 7), (std::vector<std::uint64_t>{0, 4, 8, 0, 4, 8, 0}));
}

TEST(StreamScheduler, LowerUrgencyIsServedFirstAndStarvesTheOthers) {
  StreamScheduler s;
  s.schedule(0, 7);
  s.schedule(4, 3);
  s.schedule(8, 0);
  s.schedule(12, 0);
  EXPECT_EQ(serve(s, 4), (std::vector<std::uint64_t>{8, 12, 8, 12}));
  s.remove(8);
  s.remove(12);
  EXPECT_EQ(serve(s, 2), (std::vector<std::uint64_t>{4, 4}));
  s.remove(4);
  EXPECT_EQ(s.front(), 0u);
}

TEST(StreamScheduler, SchedulingTwiceKeepsThePlace) {
  StreamScheduler s;
  s.schedule(0, 3);
  s.schedule(4, 3);
  s.schedule(0, 3);  // already queued: stays in front, no duplicate
  s.schedule(0, 1);  // the urgency of a queued stream changes only through set_urgency
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(serve(s, 4), (std::vector<std::uint64_t>{0, 4, 0, 4}));
}

TEST(StreamScheduler, ChangingUrgencyMovesAQueuedStream) {
  StreamScheduler s;
  s.schedule(0, 3);
  s.schedule(4, 3);
  s.schedule(8, 3);
  s.set_urgency(8, 1);
  EXPECT_EQ(s.front(), 8u);
  s.set_urgency(8, 3);  // back of level 3, after 0 and 4
  EXPECT_EQ(serve(s, 3), (std::vector<std::uint64_t>{0, 4, 8}));
}

TEST(StreamScheduler, UrgencyAboveSevenCountsAsSeven) {
  StreamScheduler s;
  s.schedule(0, 200);
  s.schedule(4, kMaxUrgency);
  EXPECT_EQ(serve(s, 4), (std::vector<std::uint64_t>{0, 4, 0, 4}));
}

TEST(StreamScheduler, RemovedStreamsAreNotServedAndCanComeBack) {
  StreamScheduler s;
  for (std::uint64_t id : {0u, 4u, 8u}) s.schedule(id, 3);
  s.remove(4);
  EXPECT_FALSE(s.contains(4));
  EXPECT_EQ(serve(s, 4), (std::vector<std::uint64_t>{0, 8, 0, 8}));
  s.schedule(4, 3);  // at the back
  EXPECT_EQ(serve(s, 3), (std::vector<std::uint64_t>{0, 8, 4}));
  s.clear();
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.front());
}

TEST(StreamScheduler, ManyStreamsShareEvenly) {
  StreamScheduler s;
  for (std::uint64_t i = 0; i < 100; ++i) s.schedule(i * 4, 3);
  std::map<std::uint64_t, int> served;
  for (std::uint64_t id : serve(s, 1000)) ++served[id];
  ASSERT_EQ(served.size(), 100u);
  for (const auto& [id, n] : served) EXPECT_EQ(n, 10) << id;
}

}  // namespace
}  // namespace srudp::stream
