#include "stream/stream_scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
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

// Streams removed and scheduled again in a churn (as request/reply traffic does) reuse the nodes
// the removed ones left. Checked against a plain model: a list per urgency level.
TEST(StreamScheduler, ChurnServesAsAPlainListPerLevelWould) {
  StreamScheduler s;
  std::array<std::deque<std::uint64_t>, kMaxUrgency + 1> model;
  const auto model_find = [&](std::uint64_t id) -> std::pair<int, std::deque<std::uint64_t>::iterator> {
    for (int level = 0; level <= kMaxUrgency; ++level) {
      auto& q = model[static_cast<std::size_t>(level)];
      if (auto it = std::find(q.begin(), q.end(), id); it != q.end()) return {level, it};
    }
    return {-1, {}};
  };
  const auto model_front = [&]() -> std::optional<std::uint64_t> {
    for (const auto& q : model) {
      if (!q.empty()) return q.front();
    }
    return std::nullopt;
  };
  std::size_t model_size = 0;
  std::uint64_t x = 12345;
  const auto random = [&](std::uint64_t n) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return (x >> 33) % n;
  };
  for (int op = 0; op < 20000; ++op) {
    const std::uint64_t id = random(40) * 4;
    const auto urgency = static_cast<std::uint8_t>(random(8));
    const auto [level, it] = model_find(id);
    switch (random(4)) {
      case 0:  // a write: scheduled at the back unless queued
        s.schedule(id, urgency);
        if (level < 0) {
          model[urgency].push_back(id);
          ++model_size;
        }
        break;
      case 1:  // found empty or blocked
        s.remove(id);
        if (level >= 0) {
          model[static_cast<std::size_t>(level)].erase(it);
          --model_size;
        }
        break;
      case 2:  // served a frame, has more
        if (auto front = s.front()) {
          s.rotate(*front);
          const auto [front_level, front_it] = model_find(*front);
          ASSERT_GE(front_level, 0);
          auto& q = model[static_cast<std::size_t>(front_level)];
          q.erase(front_it);
          q.push_back(*front);
        }
        break;
      default:
        s.set_urgency(id, urgency);
        if (level >= 0) {
          model[static_cast<std::size_t>(level)].erase(it);
          model[urgency].push_back(id);
        }
        break;
    }
    ASSERT_EQ(s.front(), model_front()) << "op " << op;
    ASSERT_EQ(s.size(), model_size) << "op " << op;
  }
  while (auto front = s.front()) {
    ASSERT_EQ(front, model_front());
    s.remove(*front);
    const auto [level, it] = model_find(*front);
    model[static_cast<std::size_t>(level)].erase(it);
  }
  EXPECT_FALSE(model_front());
}

}  // namespace
}  // namespace srudp::stream
