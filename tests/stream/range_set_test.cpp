#include "stream/range_set.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace srudp::stream {
namespace {

using Range = RangeSet::Range;

std::vector<Range> ranges_of(const RangeSet& set) {
  std::vector<Range> out;
  set.for_each([&](std::uint64_t s, std::uint64_t e) { out.push_back({s, e}); });
  return out;
}

TEST(RangeSetTest, InsertMergesOverlappingAndAdjacentRanges) {
  RangeSet set;
  set.insert(10, 20);
  set.insert(30, 40);
  EXPECT_EQ(set.size(), 2u);
  set.insert(20, 25);  // touches [10, 20)
  EXPECT_EQ(ranges_of(set), (std::vector<Range>{{10, 25}, {30, 40}}));
  set.insert(5, 35);  // swallows both
  EXPECT_EQ(ranges_of(set), (std::vector<Range>{{5, 40}}));
  EXPECT_EQ(set.total(), 35u);
  set.insert(7, 7);  // empty: no effect
  EXPECT_EQ(set.size(), 1u);
}

TEST(RangeSetTest, EraseSplitsAndTrims) {
  RangeSet set;
  set.insert(0, 100);
  set.erase(40, 60);
  EXPECT_EQ(ranges_of(set), (std::vector<Range>{{0, 40}, {60, 100}}));
  set.erase(30, 70);
  EXPECT_EQ(ranges_of(set), (std::vector<Range>{{0, 30}, {70, 100}}));
  set.erase(0, 30);
  EXPECT_EQ(ranges_of(set), (std::vector<Range>{{70, 100}}));
  EXPECT_EQ(set.total(), 30u);
  EXPECT_EQ(set.first(), (Range{70, 100}));
  set.erase(0, 1000);
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.total(), 0u);
  EXPECT_FALSE(set.first().has_value());
}

TEST(RangeSetTest, GapsAndContains) {
  RangeSet set;
  set.insert(10, 20);
  set.insert(30, 40);
  std::vector<Range> gaps;
  set.for_each_gap(0, 50, [&](std::uint64_t s, std::uint64_t e) { gaps.push_back({s, e}); });
  EXPECT_EQ(gaps, (std::vector<Range>{{0, 10}, {20, 30}, {40, 50}}));
  gaps.clear();
  set.for_each_gap(15, 35, [&](std::uint64_t s, std::uint64_t e) { gaps.push_back({s, e}); });
  EXPECT_EQ(gaps, (std::vector<Range>{{20, 30}}));
  EXPECT_TRUE(set.contains(12, 20));
  EXPECT_FALSE(set.contains(12, 21));
  EXPECT_TRUE(set.contains(5, 5));
}

// Random inserts and erases on a small domain, checked offset by offset against std::set.
TEST(RangeSetTest, MatchesPerOffsetModel) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    RangeSet set;
    std::set<std::uint64_t> model;
    for (int op = 0; op < 400; ++op) {
      const std::uint64_t a = rng() % 200;
      const std::uint64_t b = a + rng() % 30;
      if (rng() % 3 == 0) {
        set.erase(a, b);
        for (std::uint64_t x = a; x < b; ++x) model.erase(x);
      } else {
        set.insert(a, b);
        for (std::uint64_t x = a; x < b; ++x) model.insert(x);
      }
      ASSERT_EQ(set.total(), model.size());
      std::set<std::uint64_t> covered;
      std::uint64_t previous_end = 0;
      bool first = true;
      set.for_each([&](std::uint64_t s, std::uint64_t e) {
        EXPECT_LT(s, e);
        if (!first) {
          EXPECT_GT(s, previous_end);  // disjoint and never adjacent
        }
        first = false;
        previous_end = e;
        for (std::uint64_t x = s; x < e; ++x) covered.insert(x);
      });
      ASSERT_EQ(covered, model);
      const std::uint64_t c = rng() % 200;
      const std::uint64_t d = c + rng() % 10;
      bool all = true;
      for (std::uint64_t x = c; x < d; ++x) all = all && model.count(x) == 1;
      ASSERT_EQ(set.contains(c, d), all);
    }
  }
}

TEST(RangeSetTest, HandlesOffsetsNearTwoToThe62) {
  constexpr std::uint64_t kMax = (std::uint64_t{1} << 62) - 1;
  RangeSet set;
  set.insert(kMax - 10, kMax);
  set.insert(0, 1);
  set.erase(kMax - 5, kMax);
  EXPECT_EQ(ranges_of(set), (std::vector<Range>{{0, 1}, {kMax - 10, kMax - 5}}));
  EXPECT_EQ(set.total(), 6u);
}

}  // namespace
}  // namespace srudp::stream
