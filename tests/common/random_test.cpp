#include "common/random.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <span>

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

// Counts the calls a RandomBatch makes into its source.
class CountingRandom final : public RandomSource {
 public:
  void fill(std::span<std::uint8_t> out) override {
    ++calls;
    inner.fill(out);
  }
  SeededRandom inner{11};
  int calls = 0;
};

TEST(RandomBatch, AsksTheSourceOncePerBatchOfDraws) {
  CountingRandom source;
  RandomBatch batch;
  std::array<int, 5> hist{};
  constexpr int kDraws = 5000;
  for (int i = 0; i < kDraws; ++i) {
    const auto v = batch.uniform(source, 5);
    ASSERT_LT(v, 5u);
    ++hist[v];
  }
  for (int h : hist) EXPECT_GT(h, 850);  // roughly uniform
  // Rejection redraws are rare with a bound this small: about one call per kValues draws.
  EXPECT_LE(source.calls, kDraws / static_cast<int>(RandomBatch::kValues) + 1);
  EXPECT_GE(source.calls, kDraws / static_cast<int>(RandomBatch::kValues));
}

TEST(RandomBatch, DrawsDifferAcrossBatches) {
  SeededRandom source(3);
  RandomBatch batch;
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 64; ++i) seen.insert(batch.uniform(source, UINT64_MAX));
  EXPECT_EQ(seen.size(), 64u);
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
