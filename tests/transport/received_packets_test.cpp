#include "transport/received_packets.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "common/random.hpp"

namespace srudp::transport {
namespace {

const Instant t0 = Instant{} + std::chrono::seconds(100);

std::vector<AckRange> ranges_of(const ReceivedPackets& rp) {
  auto ack = rp.build_ack(t0);
  return ack ? std::vector<AckRange>(ack->ranges.begin(), ack->ranges.end()) : std::vector<AckRange>{};
}

void receive_all(ReceivedPackets& rp, const std::vector<std::uint64_t>& pns) {
  for (const std::uint64_t pn : pns) rp.on_packet_received(pn, true, t0);
}

TEST(ReceivedPackets, EmptyHasNoAck) {
  ReceivedPackets rp;
  EXPECT_FALSE(rp.build_ack(t0).has_value());
  EXPECT_FALSE(rp.largest().has_value());
  EXPECT_FALSE(rp.ack_deadline().has_value());
  EXPECT_FALSE(rp.should_ack_now());
  EXPECT_FALSE(rp.has_unreported());
  EXPECT_FALSE(rp.is_duplicate(0));
}

TEST(ReceivedPackets, InOrderPacketsFormOneRange) {
  ReceivedPackets rp;
  for (std::uint64_t pn = 0; pn < 10; ++pn) {
    EXPECT_EQ(rp.on_packet_received(pn, true, t0), ReceivedPackets::Outcome::fresh);
  }
  EXPECT_EQ(rp.range_count(), 1u);
  EXPECT_EQ(rp.largest(), 9u);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{0, 9}}));
}

TEST(ReceivedPackets, DuplicatesAreReportedAndChangeNothing) {
  ReceivedPackets rp;
  EXPECT_EQ(rp.on_packet_received(5, true, t0), ReceivedPackets::Outcome::fresh);
  EXPECT_EQ(rp.on_packet_received(6, true, t0), ReceivedPackets::Outcome::fresh);
  rp.on_ack_sent();
  EXPECT_TRUE(rp.is_duplicate(5));
  EXPECT_EQ(rp.on_packet_received(5, true, t0 + 1ms), ReceivedPackets::Outcome::duplicate);
  EXPECT_EQ(rp.on_packet_received(6, true, t0 + 1ms), ReceivedPackets::Outcome::duplicate);
  // A duplicate neither counts towards an ACK nor arms the timer.
  EXPECT_FALSE(rp.should_ack_now());
  EXPECT_FALSE(rp.ack_deadline().has_value());
  EXPECT_FALSE(rp.has_unreported());
  EXPECT_FALSE(rp.is_duplicate(4));
  EXPECT_FALSE(rp.is_duplicate(7));
}

TEST(ReceivedPackets, NewGapTriggersImmediateAck) {
  ReceivedPackets rp;
  rp.on_packet_received(0, true, t0);
  EXPECT_FALSE(rp.should_ack_now());
  rp.on_ack_sent();  // so that the next packet alone would not reach the 2-packet threshold
  rp.on_packet_received(2, true, t0 + 1ms);  // 1 is missing
  EXPECT_TRUE(rp.should_ack_now());
  EXPECT_EQ(rp.ack_deadline(), t0 + 1ms);
}

TEST(ReceivedPackets, FillingAGapTriggersImmediateAck) {
  ReceivedPackets rp;
  rp.on_packet_received(0, true, t0);
  rp.on_packet_received(2, true, t0);
  rp.on_ack_sent();
  rp.on_packet_received(1, true, t0 + 2ms);
  EXPECT_TRUE(rp.should_ack_now());
  EXPECT_EQ(rp.ack_deadline(), t0 + 2ms);
}

TEST(ReceivedPackets, OldPacketIntoAnotherGapTriggersImmediateAck) {
  ReceivedPackets rp;
  rp.on_packet_received(0, true, t0);
  rp.on_packet_received(5, true, t0);
  rp.on_ack_sent();
  rp.on_packet_received(2, true, t0);  // lands in the middle of the gap: still out of order
  EXPECT_TRUE(rp.should_ack_now());
}

TEST(ReceivedPackets, NonAckElicitingPacketsNeverTriggerAnAck) {
  ReceivedPackets rp;
  rp.on_packet_received(0, false, t0);
  rp.on_packet_received(5, false, t0);  // gap
  rp.on_packet_received(2, false, t0);  // reorder
  rp.on_packet_received(6, false, t0);
  EXPECT_FALSE(rp.should_ack_now());
  EXPECT_FALSE(rp.ack_deadline().has_value());
  EXPECT_TRUE(rp.has_unreported());  // but they ride along with the next ACK we send
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{5, 6}, {2, 2}, {0, 0}}));
}

TEST(ReceivedPackets, NonAckElicitingPacketsFillTheGapForOrdering) {
  // 1 is not ack-eliciting; 2 follows it without a hole, so 2 is in order.
  ReceivedPackets rp;
  rp.on_packet_received(0, true, t0);
  rp.on_packet_received(1, false, t0);
  rp.on_ack_sent();
  rp.on_packet_received(2, true, t0);
  EXPECT_FALSE(rp.should_ack_now());
  EXPECT_EQ(rp.ack_deadline(), t0 + 25ms);
}

TEST(ReceivedPackets, EverySecondAckElicitingPacketIsAckedAtOnce) {
  ReceivedPackets rp;
  std::uint64_t pn = 0;
  for (int round = 0; round < 5; ++round) {
    rp.on_packet_received(pn++, true, t0);
    EXPECT_FALSE(rp.should_ack_now()) << round;
    rp.on_packet_received(pn++, true, t0);
    EXPECT_TRUE(rp.should_ack_now()) << round;
    rp.on_ack_sent();
    EXPECT_FALSE(rp.should_ack_now());
  }
}

TEST(ReceivedPackets, ThresholdIsConfigurable) {
  ReceivedPackets rp(ReceivedPacketsConfig{.ack_eliciting_threshold = 4});
  for (std::uint64_t pn = 0; pn < 3; ++pn) rp.on_packet_received(pn, true, t0);
  EXPECT_FALSE(rp.should_ack_now());
  rp.on_packet_received(3, true, t0);
  EXPECT_TRUE(rp.should_ack_now());
}

TEST(ReceivedPackets, DelayedAckDeadlineIsFirstUnackedPlusMaxAckDelay) {
  ReceivedPackets rp;
  rp.on_packet_received(0, false, t0);  // does not start the clock
  rp.on_packet_received(1, true, t0 + 3ms);
  EXPECT_FALSE(rp.should_ack_now());
  ASSERT_TRUE(rp.ack_deadline().has_value());
  EXPECT_EQ(*rp.ack_deadline(), t0 + 3ms + 25ms);
  EXPECT_FALSE(rp.ack_due(t0 + 27ms));
  EXPECT_TRUE(rp.ack_due(t0 + 28ms));
  rp.on_ack_sent();
  EXPECT_FALSE(rp.ack_deadline().has_value());
  EXPECT_FALSE(rp.ack_due(t0 + 1h));
}

TEST(ReceivedPackets, DelayedAckDeadlineHonoursConfiguredMaxAckDelay) {
  ReceivedPackets rp(ReceivedPacketsConfig{.max_ack_delay = 7ms});
  rp.on_packet_received(0, true, t0);
  EXPECT_EQ(rp.ack_deadline(), t0 + 7ms);
}

TEST(ReceivedPackets, FillingTheGapMergesTwoRanges) {
  ReceivedPackets rp;
  receive_all(rp, {0, 1, 3, 4});
  EXPECT_EQ(rp.range_count(), 2u);
  rp.on_packet_received(2, true, t0);
  EXPECT_EQ(rp.range_count(), 1u);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{0, 4}}));
}

TEST(ReceivedPackets, RangeCapDropsTheOldestAndRaisesTheFloor) {
  ReceivedPackets rp(ReceivedPacketsConfig{.max_ranges = 4});
  receive_all(rp, {0, 2, 4, 6, 8});
  EXPECT_EQ(rp.range_count(), 4u);
  EXPECT_EQ(rp.duplicate_floor(), 2u);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{8, 8}, {6, 6}, {4, 4}, {2, 2}}));
  EXPECT_TRUE(rp.is_duplicate(0));  // received, folded away
  EXPECT_TRUE(rp.is_duplicate(1));  // never received, but below the floor: dropped as too old
  EXPECT_FALSE(rp.is_duplicate(3));
  EXPECT_EQ(rp.on_packet_received(1, true, t0), ReceivedPackets::Outcome::duplicate);
  EXPECT_EQ(rp.on_packet_received(3, true, t0), ReceivedPackets::Outcome::fresh);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{8, 8}, {6, 6}, {2, 4}}));
}

TEST(ReceivedPackets, DefaultCapIs256Ranges) {
  ReceivedPackets rp;
  for (std::uint64_t i = 0; i < 1000; ++i) rp.on_packet_received(2 * i, true, t0);
  EXPECT_EQ(rp.range_count(), kMaxAckRanges);
  const auto ack = rp.build_ack(t0);
  ASSERT_TRUE(ack.has_value());
  ASSERT_EQ(ack->ranges.size(), kMaxAckRanges);
  EXPECT_EQ(ack->ranges.front(), (AckRange{1998, 1998}));
  EXPECT_EQ(ack->ranges.back(), (AckRange{2 * (1000 - 256), 2 * (1000 - 256)}));
}

TEST(ReceivedPackets, HugeJumpsCostOneRangeEach) {
  ReceivedPackets rp;
  const std::uint64_t jump = std::uint64_t{1} << 30;
  const std::uint64_t top = (std::uint64_t{1} << 62) - 1;
  rp.on_packet_received(0, true, t0);
  rp.on_packet_received(jump, true, t0);
  rp.on_packet_received(top, true, t0);
  EXPECT_EQ(rp.range_count(), 3u);
  EXPECT_EQ(rp.largest(), top);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{top, top}, {jump, jump}, {0, 0}}));
  EXPECT_FALSE(rp.is_duplicate(jump - 1));
  EXPECT_FALSE(rp.is_duplicate(top - 1));
  rp.on_packet_received(jump - 1, true, t0);
  rp.on_packet_received(top - 1, true, t0);
  EXPECT_EQ(rp.range_count(), 3u);
  EXPECT_EQ(ranges_of(rp),
            (std::vector<AckRange>{{top - 1, top}, {jump - 1, jump}, {0, 0}}));
}

TEST(ReceivedPackets, LargestPossibleNumberDoesNotOverflow) {
  ReceivedPackets rp;
  const std::uint64_t max = UINT64_MAX;
  rp.on_packet_received(max, true, t0);
  rp.on_packet_received(max - 1, true, t0);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{max - 1, max}}));
  EXPECT_TRUE(rp.is_duplicate(max));
}

struct AckScenario {
  const char* name;
  std::vector<std::uint64_t> received;
  std::vector<AckRange> expected;  // newest first
};

TEST(ReceivedPackets, AckFrameRangesMatchTable) {
  const std::vector<AckScenario> scenarios = {
      {"single", {7}, {{7, 7}}},
      {"in order", {0, 1, 2, 3}, {{0, 3}}},
      {"reverse order", {3, 2, 1, 0}, {{0, 3}}},
      {"one hole", {0, 1, 3}, {{3, 3}, {0, 1}}},
      {"alternating", {1, 3, 5, 7}, {{7, 7}, {5, 5}, {3, 3}, {1, 1}}},
      {"fill middle", {1, 3, 5, 7, 4}, {{7, 7}, {3, 5}, {1, 1}}},
      {"fill extends up", {10, 11, 12, 14}, {{14, 14}, {10, 12}}},
      {"fill extends down", {10, 12, 13, 11}, {{10, 13}}},
      {"prepend", {5, 6, 4, 2}, {{4, 6}, {2, 2}}},
      {"shuffled", {9, 0, 4, 8, 1, 5, 2}, {{8, 9}, {4, 5}, {0, 2}}},
      {"with duplicates", {1, 1, 2, 2, 4, 4}, {{4, 4}, {1, 2}}},
  };
  for (const auto& s : scenarios) {
    ReceivedPackets rp;
    for (std::uint64_t pn : s.received) rp.on_packet_received(pn, true, t0);
    const auto ack = rp.build_ack(t0);
    ASSERT_TRUE(ack.has_value()) << s.name;
    EXPECT_EQ(std::vector<AckRange>(ack->ranges.begin(), ack->ranges.end()), s.expected) << s.name;
    EXPECT_EQ(ack->largest(), s.expected.front().largest) << s.name;
  }
}

TEST(ReceivedPackets, BuildAckCapsRangesKeepingTheNewest) {
  ReceivedPackets rp;
  receive_all(rp, {0, 2, 4, 6, 8});
  const auto ack = rp.build_ack(t0, 2);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(std::vector<AckRange>(ack->ranges.begin(), ack->ranges.end()), (std::vector<AckRange>{{8, 8}, {6, 6}}));
  // Zero is raised to one: an ACK frame always has a range.
  EXPECT_EQ(rp.build_ack(t0, 0)->ranges.size(), 1u);
}

TEST(ReceivedPackets, AckDelayIsMeasuredFromTheLargestsArrival) {
  ReceivedPackets rp;
  rp.on_packet_received(4, true, t0);
  rp.on_packet_received(2, true, t0 + 5ms);  // older number: not the largest, time unchanged
  EXPECT_EQ(rp.build_ack(t0 + 1500us)->ack_delay_us, 1500u);
  EXPECT_EQ(rp.build_ack(t0 + 10ms)->ack_delay_us, 10000u);
  EXPECT_EQ(rp.build_ack(t0 + 999ns)->ack_delay_us, 0u);  // truncated to whole microseconds
  EXPECT_EQ(rp.build_ack(t0 - 1ms)->ack_delay_us, 0u);   // a clock step back never goes negative
  rp.on_packet_received(9, true, t0 + 20ms);
  EXPECT_EQ(rp.build_ack(t0 + 21ms)->ack_delay_us, 1000u);
}

TEST(ReceivedPackets, AckOfAckStopsReportingOlderRangesButRemembersThem) {
  ReceivedPackets rp;
  receive_all(rp, {0, 1, 3, 5, 6, 9});
  EXPECT_EQ(rp.range_count(), 4u);
  // Our ACK with Largest Acknowledged 5 was itself acknowledged: the peer knows 0-1 and 3.
  rp.on_ack_frame_acked(5);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{9, 9}, {5, 6}}));
  EXPECT_EQ(rp.report_floor(), 5u);
  // Everything is inside the reordering window: nothing is forgotten.
  EXPECT_EQ(rp.range_count(), 4u);
  EXPECT_EQ(rp.duplicate_floor(), 0u);
  EXPECT_TRUE(rp.is_duplicate(3));
  EXPECT_FALSE(rp.is_duplicate(2));  // never received: a late packet is still welcome
  EXPECT_FALSE(rp.is_duplicate(4));
  // Older or repeated news changes nothing.
  rp.on_ack_frame_acked(1);
  rp.on_ack_frame_acked(5);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{9, 9}, {5, 6}}));
  // A largest inside a gap keeps reporting the range just above it.
  rp.on_ack_frame_acked(8);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{9, 9}}));
  // A bogus largest beyond everything still reports the newest range.
  rp.on_ack_frame_acked(1000);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{9, 9}}));
  EXPECT_EQ(rp.range_count(), 4u);
}

TEST(ReceivedPackets, LatePacketBelowAnAcknowledgedAckIsAcceptedAndReported) {
  ReceivedPackets rp;
  for (std::uint64_t pn = 0; pn < 100; ++pn) {
    if (pn != 50 && pn != 70) rp.on_packet_received(pn, true, t0);
  }
  rp.on_ack_frame_acked(99);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{71, 99}}));
  rp.on_ack_sent();
  // 50 was only reordered (jitter): it must be accepted, and the next ACK must tell the peer,
  // which lets it recognise the loss it declared as spurious.
  EXPECT_EQ(rp.on_packet_received(50, true, t0 + 1ms), ReceivedPackets::Outcome::fresh);
  EXPECT_TRUE(rp.should_ack_now());  // out of order
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{71, 99}, {0, 69}}));
  EXPECT_EQ(rp.on_packet_received(50, true, t0 + 2ms), ReceivedPackets::Outcome::duplicate);
  // Once that ACK is acknowledged too, the old ranges drop out of ACK frames again.
  rp.on_ack_frame_acked(99);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{71, 99}}));
}

TEST(ReceivedPackets, AckOfAckForgetsOnlyRangesBelowTheReorderingWindow) {
  ReceivedPackets rp(ReceivedPacketsConfig{.reordering_window = 100});
  // Holes at 10, 850, 905 and 950; largest 1000, so the window covers 900-1000.
  for (std::uint64_t pn = 0; pn <= 1000; ++pn) {
    if (pn != 10 && pn != 850 && pn != 905 && pn != 950) rp.on_packet_received(pn, true, t0);
  }
  EXPECT_EQ(rp.range_count(), 5u);
  rp.on_ack_frame_acked(1000);
  // 0-9, 11-849 and 851-904 end below 900... but 851-904 reaches into the window: kept whole.
  EXPECT_EQ(rp.range_count(), 3u);
  EXPECT_EQ(rp.duplicate_floor(), 851u);
  EXPECT_TRUE(rp.is_duplicate(10));   // below the window: a replay or hopelessly late
  EXPECT_TRUE(rp.is_duplicate(850));
  EXPECT_TRUE(rp.is_duplicate(851));  // received
  EXPECT_FALSE(rp.is_duplicate(905));
  EXPECT_FALSE(rp.is_duplicate(950));
  EXPECT_EQ(rp.on_packet_received(950, true, t0), ReceivedPackets::Outcome::fresh);
  EXPECT_EQ(rp.on_packet_received(905, true, t0), ReceivedPackets::Outcome::fresh);
  EXPECT_EQ(rp.range_count(), 1u);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{851, 1000}}));
}

TEST(ReceivedPackets, ZeroReorderingWindowFoldsEverythingTheAckOfAckCovers) {
  ReceivedPackets rp(ReceivedPacketsConfig{.reordering_window = 0});
  receive_all(rp, {0, 1, 3, 5, 6, 9});
  rp.on_ack_frame_acked(5);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{9, 9}, {5, 6}}));
  EXPECT_EQ(rp.range_count(), 2u);
  EXPECT_EQ(rp.duplicate_floor(), 5u);
  EXPECT_TRUE(rp.is_duplicate(3));
  EXPECT_TRUE(rp.is_duplicate(4));
  EXPECT_FALSE(rp.is_duplicate(7));
  rp.on_ack_frame_acked(8);
  EXPECT_EQ(ranges_of(rp), (std::vector<AckRange>{{9, 9}}));
  EXPECT_EQ(rp.duplicate_floor(), 9u);
}

TEST(ReceivedPackets, ReorderingAcrossAcksOfAcksMatchesASetModelWithBoundedMemory) {
  // Packets sent in order arrive shuffled (a random one of the 32 in transit each time); 5% are
  // lost for good. Every late packet within the window must be accepted (the range cap is not
  // reached: about 32 holes in transit plus 13 losses per window), memory stays bounded, ACKs
  // stay small.
  SeededRandom rng(7);
  ReceivedPackets rp(ReceivedPacketsConfig{.max_ranges = 64, .reordering_window = 256});
  std::set<std::uint64_t> model;
  std::vector<std::uint64_t> in_transit;
  std::uint64_t next = 0;
  for (int step = 0; step < 20000; ++step) {
    if (in_transit.size() < 32) {
      if (rng.uniform(20) != 0) in_transit.push_back(next);
      ++next;
      continue;
    }
    const std::size_t i = rng.uniform(in_transit.size());
    const std::uint64_t pn = in_transit[i];
    in_transit.erase(in_transit.begin() + static_cast<std::ptrdiff_t>(i));
    const bool late_within_window = !model.empty() && pn + 256 >= *model.rbegin();
    const auto outcome = rp.on_packet_received(pn, true, t0);
    if (late_within_window || model.empty() || pn > *model.rbegin()) {
      ASSERT_EQ(outcome, ReceivedPackets::Outcome::fresh) << pn << " at step " << step;
    }
    if (outcome == ReceivedPackets::Outcome::fresh) model.insert(pn);
    ASSERT_LE(rp.range_count(), 64u);
    if (step % 13 == 0) {
      const auto ack = rp.build_ack(t0, 32);
      ASSERT_TRUE(ack.has_value());
      ASSERT_LE(ack->ranges.size(), 32u);
      for (const AckRange& r : ack->ranges) {
        for (std::uint64_t x = r.smallest; x <= r.largest; ++x) ASSERT_TRUE(model.count(x)) << x;
      }
      rp.on_ack_sent();
      // Acknowledged a while later: the ACK of the ACK names the largest it reported.
      rp.on_ack_frame_acked(ack->largest());
    }
  }
  // Everything received and not folded away is still a duplicate.
  for (std::uint64_t pn : model) {
    if (pn >= rp.duplicate_floor()) {
      ASSERT_TRUE(rp.is_duplicate(pn)) << pn;
    }
  }
}

TEST(ReceivedPackets, MatchesASetModelUnderRandomArrivals) {
  SeededRandom rng(42);
  ReceivedPackets rp;
  std::set<std::uint64_t> model;
  for (int i = 0; i < 3000; ++i) {
    const std::uint64_t pn = rng.uniform(400);
    const bool dup = model.count(pn) != 0;
    ASSERT_EQ(rp.is_duplicate(pn), dup) << pn;
    const auto outcome = rp.on_packet_received(pn, rng.uniform(2) == 0, t0);
    ASSERT_EQ(outcome, dup ? ReceivedPackets::Outcome::duplicate : ReceivedPackets::Outcome::fresh);
    model.insert(pn);
    if (i % 97 == 0) {
      // Rebuild the expected ranges from the set, newest first.
      std::vector<AckRange> expected;
      for (auto it = model.rbegin(); it != model.rend(); ++it) {
        if (!expected.empty() && expected.back().smallest == *it + 1) {
          expected.back().smallest = *it;
        } else {
          expected.push_back({*it, *it});
        }
      }
      ASSERT_EQ(ranges_of(rp), expected) << "after " << i;
    }
  }
}

}  // namespace
}  // namespace srudp::transport
