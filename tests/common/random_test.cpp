#include "common/random.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace srudp {
namespace {

TEST(SeededRandom, SameSeedSameStream) {
  SeededRandom a(42), b(42), c(43);
  for (int i = 0; i < 16; ++i) {
    const auto va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    EXPECT_NE(va, c.next_u64());
  }
}

TEST(SeededRandom, SuccessiveDrawsDiffer) {
  SeededRandom r(1);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(r.next_u64());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RandomSource, UniformStaysInBound) {
  SeededRandom r(7);
  std::array<int, 3> hist{};
  for (int i = 0; i < 3000; ++i) {
    const auto v = r.uniform(3);
    ASSERT_LT(v, 3u);
    ++hist[v];
  }
  for (int h : hist) EXPECT_GT(h, 800);  // roughly uniform
}

TEST(SystemRandom, FillsBuffer) {
  SystemRandom r;
  std::array<std::uint8_t, 32> a{}, b{};
  r.fill(a);
  r.fill(b);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace srudp
