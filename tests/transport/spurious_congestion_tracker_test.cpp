#include "transport/congestion_controller.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace srudp::transport {
namespace {

using Pns = std::vector<std::uint64_t>;

TEST(SpuriousCongestionTracker, UndoOnceEveryPacketOfTheReducingEventWasAcknowledged) {
  SpuriousCongestionTracker tracker;
  tracker.on_packets_lost({10, 11}, /*reduced=*/true, /*persistent=*/false);
  EXPECT_EQ(tracker.trigger(), 11u);
  EXPECT_FALSE(tracker.on_spurious_losses({10}));
  EXPECT_EQ(tracker.pending(), 1u);
  EXPECT_TRUE(tracker.on_spurious_losses({11}));
  // Answered once: the same news again does not undo twice.
  EXPECT_FALSE(tracker.trigger().has_value());
  EXPECT_FALSE(tracker.on_spurious_losses({10, 11}));
}

TEST(SpuriousCongestionTracker, ARealLossDuringRecoveryKeepsTheReduction) {
  SpuriousCongestionTracker tracker;
  tracker.on_packets_lost({10}, true, false);
  tracker.on_packets_lost({12, 14}, /*reduced=*/false, false);  // same recovery period
  EXPECT_FALSE(tracker.on_spurious_losses({10, 12}));
  EXPECT_EQ(tracker.pending(), 1u);  // 14 really was lost (so far)
  EXPECT_TRUE(tracker.on_spurious_losses({14}));
}

TEST(SpuriousCongestionTracker, OnlyTheLatestReductionCanBeUndone) {
  SpuriousCongestionTracker tracker;
  tracker.on_packets_lost({10}, true, false);
  tracker.on_packets_lost({20}, true, false);
  EXPECT_FALSE(tracker.on_spurious_losses({10}));
  EXPECT_TRUE(tracker.on_spurious_losses({20}));
}

TEST(SpuriousCongestionTracker, IgnoresLossesAndNewsWithoutAWatchedReduction) {
  SpuriousCongestionTracker tracker;
  tracker.on_packets_lost({5}, /*reduced=*/false, false);
  EXPECT_EQ(tracker.pending(), 0u);
  EXPECT_FALSE(tracker.on_spurious_losses({5}));
  tracker.on_packets_lost({}, true, false);
  EXPECT_FALSE(tracker.trigger().has_value());
  tracker.on_packets_lost({7}, true, false);
  EXPECT_FALSE(tracker.on_spurious_losses({}));
  EXPECT_FALSE(tracker.on_spurious_losses({6, 8}));
}

TEST(SpuriousCongestionTracker, PersistentCongestionIsNeverUndone) {
  SpuriousCongestionTracker tracker;
  tracker.on_packets_lost({1, 2, 3}, true, /*persistent=*/true);
  EXPECT_FALSE(tracker.on_spurious_losses({1, 2, 3}));
  tracker.on_packets_lost({10}, true, false);
  tracker.on_packets_lost({11}, false, /*persistent=*/true);
  EXPECT_FALSE(tracker.on_spurious_losses({10, 11}));
}

TEST(SpuriousCongestionTracker, TooManyLossesToTrackKeepTheReduction) {
  SpuriousCongestionTracker tracker;
  Pns burst;
  for (std::uint64_t pn = 0; pn < SpuriousCongestionTracker::kMaxTracked; ++pn) burst.push_back(pn);
  tracker.on_packets_lost(burst, true, false);
  EXPECT_EQ(tracker.pending(), SpuriousCongestionTracker::kMaxTracked);
  tracker.on_packets_lost({1000}, false, false);  // one more than fits: memory stays bounded
  EXPECT_EQ(tracker.pending(), 0u);
  burst.push_back(1000);
  EXPECT_FALSE(tracker.on_spurious_losses(burst));
}

TEST(SpuriousCongestionTracker, RepeatedLossReportsCountOnce) {
  SpuriousCongestionTracker tracker;
  tracker.on_packets_lost({4, 4}, true, false);
  tracker.on_packets_lost({4}, false, false);
  EXPECT_EQ(tracker.pending(), 1u);
  EXPECT_TRUE(tracker.on_spurious_losses({4}));
}

}  // namespace
}  // namespace srudp::transport
