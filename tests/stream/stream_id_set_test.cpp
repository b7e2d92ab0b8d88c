#include "stream/stream_id_set.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace srudp::stream {
namespace {

std::vector<std::uint64_t> contents(const StreamIdSet& s) { return {s.begin(), s.end()}; }

TEST(StreamIdSet, KeepsIdsSortedAndUnique) {
  StreamIdSet s;
  EXPECT_TRUE(s.empty());
  for (std::uint64_t id : {8u, 0u, 4u, 8u, 1u, 4u}) s.insert(id);
  EXPECT_EQ(contents(s), (std::vector<std::uint64_t>{0, 1, 4, 8}));
  s.erase(4);
  s.erase(5);  // absent: nothing happens
  EXPECT_EQ(contents(s), (std::vector<std::uint64_t>{0, 1, 8}));
  auto next = s.erase(s.begin());  // erasing by position returns the next one
  EXPECT_EQ(*next, 1u);
  s.clear();
  EXPECT_TRUE(s.empty());
}

TEST(StreamIdSet, BehavesLikeStdSetUnderRandomOperations) {
  std::mt19937_64 random(7);
  StreamIdSet s;
  std::set<std::uint64_t> model;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t id = random() % 64;
    switch (random() % 3) {
      case 0:
        s.insert(id);
        model.insert(id);
        break;
      case 1:
        s.erase(id);
        model.erase(id);
        break;
      default:
        // Erase-while-iterating, as ConnectionStreams walks its due streams.
        for (auto it = s.begin(); it != s.end();) it = (*it % 5 == id % 5) ? s.erase(it) : std::next(it);
        std::erase_if(model, [&](std::uint64_t x) { return x % 5 == id % 5; });
    }
    ASSERT_EQ(contents(s), std::vector<std::uint64_t>(model.begin(), model.end())) << "after step " << i;
    ASSERT_EQ(s.size(), model.size());
  }
}

}  // namespace
}  // namespace srudp::stream
