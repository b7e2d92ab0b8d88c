#include "crypto/replay_window.hpp"

#include <gtest/gtest.h>

#include "tests/crypto/replay_window_model.hpp"

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace srudp::crypto {
namespace {

constexpr std::uint64_t W = ReplayWindow::kWindowSize;
constexpr std::uint64_t kMaxPn = (std::uint64_t{1} << 62) - 1;
constexpr std::uint64_t k2to40 = std::uint64_t{1} << 40;

using NaiveWindow = srudp::crypto::test::NaiveReplayWindow;

struct Query {
  std::uint64_t pn;
  bool accept;
};

struct EdgeCase {
  std::string name;
  std::vector<std::uint64_t> marks;
  std::vector<Query> queries;
};

TEST(ReplayWindowTest, WindowIsLargeEnough) {
  EXPECT_GE(ReplayWindow::kWindowSize, 2048U);
  EXPECT_EQ(ReplayWindow::kWindowSize % ReplayWindow::kBitsPerBlock, 0U);
}

TEST(ReplayWindowTest, EdgeCases) {
  const std::vector<EdgeCase> cases = {
      {"empty accepts anything", {}, {{0, true}, {1, true}, {kMaxPn, true}}},
      {"first packet then duplicate", {0}, {{0, false}, {1, true}}},
      {"first packet not zero", {1000}, {{1000, false}, {999, true}, {0, true}, {1001, true}}},
      {"exactly window-1 old is inside", {5000}, {{5000 - (W - 1), true}}},
      {"exactly window old is refused", {5000}, {{5000 - W, false}, {5000 - W - 1, false}}},
      {"duplicate at the window's oldest edge", {5000, 5000 - (W - 1)}, {{5000 - (W - 1), false}}},
      {"jump by exactly 64",
       {100, 164},
       {{100, false}, {164, false}, {101, true}, {163, true}, {165, true}}},
      {"jump by the window size",
       {100, 100 + W},
       {{100, false}, {101, true}, {100 + W, false}, {100 + W - 1, true}}},
      {"jump by 2^40",
       {100, 100 + k2to40},
       {{100, false}, {101, false}, {100 + k2to40, false}, {100 + k2to40 - 1, true},
        {100 + k2to40 - (W - 1), true}, {100 + k2to40 - W, false}}},
      {"out of order within the window",
       {10, 8, 9, 5},
       {{5, false}, {8, false}, {9, false}, {10, false}, {6, true}, {7, true}, {4, true}}},
      {"block boundary 63", {63}, {{63, false}, {62, true}, {64, true}}},
      {"block boundary 64", {64}, {{63, true}, {64, false}, {65, true}}},
      {"block boundary 63/64/65",
       {63, 65, 64},
       {{63, false}, {64, false}, {65, false}, {62, true}, {66, true}}},
      {"neighbours across a block boundary", {63, 65}, {{64, true}}},
      {"pn 0 inside the window", {W - 1, 0}, {{0, false}, {1, true}}},
      {"pn 0 just outside the window", {W}, {{0, false}, {1, true}}},
      {"largest packet number", {kMaxPn}, {{kMaxPn, false}, {kMaxPn - 1, true}, {kMaxPn - (W - 1), true}, {kMaxPn - W, false}}},
      {"zero then the largest packet number", {0, kMaxPn}, {{0, false}, {kMaxPn, false}, {kMaxPn - 1, true}}},
      // Block 0 and block 65 share ring slot 0: the old bit for 5 must not hide 5 + 64*65.
      {"reused ring slot is cleared", {5, 4200}, {{5 + 64 * 65, true}, {4200, false}}},
      // Marking a too-old number must not set a bit in a slot now used by a newer block.
      {"mark outside the window is ignored", {10000, 1}, {{1, false}, {130 * 64 + 1, true}}},
      {"many in a row", {0, 1, 2, 3, 4, 5, 6, 7}, {{3, false}, {8, true}}},
  };
  for (const auto& test : cases) {
    ReplayWindow window;
    NaiveWindow model;
    for (std::uint64_t pn : test.marks) {
      window.mark(pn);
      model.mark(pn);
    }
    for (const auto& query : test.queries) {
      EXPECT_EQ(window.may_accept(query.pn), query.accept) << test.name << ": pn " << query.pn;
      EXPECT_EQ(model.may_accept(query.pn), query.accept) << "model disagrees with the table: "
                                                          << test.name << ": pn " << query.pn;
    }
  }
}

TEST(ReplayWindowTest, LargestAndEmpty) {
  ReplayWindow window;
  EXPECT_TRUE(window.empty());
  window.mark(7);
  EXPECT_FALSE(window.empty());
  EXPECT_EQ(window.largest(), 7U);
  window.mark(3);
  EXPECT_EQ(window.largest(), 7U);
  window.mark(k2to40);
  EXPECT_EQ(window.largest(), k2to40);
}

TEST(ReplayWindowTest, EveryNumberOfALongSequenceOnce) {
  ReplayWindow window;
  for (std::uint64_t pn = 0; pn < 20000; ++pn) {
    ASSERT_TRUE(window.may_accept(pn)) << pn;
    window.mark(pn);
    ASSERT_FALSE(window.may_accept(pn)) << pn;
    if (pn >= W) {
      ASSERT_FALSE(window.may_accept(pn - W));
    }
    if (pn >= 1) {
      ASSERT_FALSE(window.may_accept(pn - 1));
    }
  }
}

TEST(ReplayWindowTest, MatchesNaiveModelOnRandomOperations) {
  std::mt19937_64 rng(0x5eed);
  ReplayWindow window;
  NaiveWindow model;
  std::uint64_t largest = 0;
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
  for (int op = 0; op < 100000; ++op) {
    std::uint64_t pn = 0;
    const auto kind = rng() % 100;
    if (kind < 40) {
      pn = largest + rng() % 70;  // mostly forward, some duplicates of the largest
    } else if (kind < 80) {
      const std::uint64_t back = rng() % (W + 200);  // inside and just outside the window
      pn = largest >= back ? largest - back : rng() % 100;
    } else if (kind < 90) {
      const std::uint64_t back = W - 2 + rng() % 4;  // the exact window edge
      pn = largest >= back ? largest - back : 0;
    } else if (kind < 97) {
      pn = largest + 60 + rng() % 200;  // across block boundaries
    } else if (kind < 99) {
      pn = largest + (rng() % 64) * W + rng() % 64;  // whole-ring jumps
    } else {
      pn = largest + (std::uint64_t{1} << (rng() % 41));  // up to 2^40
    }
    pn &= kMaxPn;
    const bool expected = model.may_accept(pn);
    ASSERT_EQ(window.may_accept(pn), expected) << "op " << op << " pn " << pn;
    // Mark what was accepted (as after a successful AEAD check); now and then also mark a
    // refused number, which must be harmless.
    if (expected || rng() % 10 == 0) {
      window.mark(pn);
      model.mark(pn);
      if (pn > largest) largest = pn;
    }
    (expected ? accepted : refused) += 1;
    ASSERT_FALSE(window.may_accept(largest));
  }
  EXPECT_GT(accepted, 30000U);
  EXPECT_GT(refused, 5000U);
}

}  // namespace
}  // namespace srudp::crypto
