#include "transport/sent_packets.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "common/random.hpp"
#include "wire/packet.hpp"

namespace srudp::transport {
namespace {

const Instant t0 = Instant{} + std::chrono::seconds(100);

std::uint64_t send(SentPackets& sp, RandomSource& rng, Instant when, bool ack_eliciting = true,
                   std::size_t size = 1200) {
  auto pn = sp.next_packet_number(rng);
  EXPECT_TRUE(pn.has_value());
  SentPacket p;
  p.packet_number = *pn;
  p.time_sent = when;
  p.size = size;
  p.ack_eliciting = ack_eliciting;
  p.in_flight = ack_eliciting;
  p.first_frame = *pn * 10;
  p.frame_count = 1;
  EXPECT_FALSE(sp.on_packet_sent(p));
  return *pn;
}

wire::Ack ack_of(std::vector<AckRange> ranges, std::uint64_t delay_us = 0) {
  wire::Ack ack;
  ack.ack_delay_us = delay_us;
  ack.ranges.assign(ranges.begin(), ranges.end());
  return ack;
}

// An ACK for every outstanding packet: one range per run of consecutive outstanding numbers.
wire::Ack ack_all_outstanding(const SentPackets& sp) {
  std::vector<AckRange> ascending;
  for (const auto& [pn, p] : sp.outstanding()) {
    if (!ascending.empty() && ascending.back().largest + 1 == pn) {
      ascending.back().largest = pn;
    } else {
      ascending.push_back({pn, pn});
    }
  }
  return ack_of({ascending.rbegin(), ascending.rend()});
}

std::vector<std::uint64_t> numbers(const std::vector<SentPacket>& packets) {
  std::vector<std::uint64_t> out;
  for (const auto& p : packets) out.push_back(p.packet_number);
  return out;
}

TEST(SentPackets, NextNumberRepeatsUntilSent) {
  SeededRandom rng(1);
  SentPackets sp;
  EXPECT_EQ(*sp.next_packet_number(rng), 0u);
  EXPECT_EQ(*sp.next_packet_number(rng), 0u);
  send(sp, rng, t0);
  EXPECT_EQ(*sp.next_packet_number(rng), 1u);
  EXPECT_EQ(sp.largest_sent(), 0u);
}

TEST(SentPackets, RecordingAnUnallocatedNumberIsRejected) {
  SeededRandom rng(1);
  SentPackets sp;
  SentPacket p;
  p.packet_number = 0;
  EXPECT_EQ(sp.on_packet_sent(p), make_error_code(errc::invalid_argument));  // not allocated
  ASSERT_EQ(*sp.next_packet_number(rng), 0u);
  p.packet_number = 1;
  EXPECT_EQ(sp.on_packet_sent(p), make_error_code(errc::invalid_argument));  // wrong number
  EXPECT_TRUE(sp.outstanding().empty());
  p.packet_number = 0;
  EXPECT_FALSE(sp.on_packet_sent(p));
  EXPECT_EQ(sp.on_packet_sent(p), make_error_code(errc::invalid_argument));  // twice
}

TEST(SentPackets, AckedPacketsAreReturnedOnceInOrder) {
  SeededRandom rng(1);
  SentPackets sp;
  for (int i = 0; i < 10; ++i) send(sp, rng, t0);
  auto r = sp.on_ack_received(ack_of({{7, 9}, {2, 3}}), t0 + 50ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(numbers(r->newly_acked), (std::vector<std::uint64_t>{2, 3, 7, 8, 9}));
  EXPECT_EQ(r->newly_acked[0].first_frame, 20u);
  EXPECT_EQ(r->newly_acked[0].frame_count, 1u);
  EXPECT_EQ(sp.largest_acked(), 9u);

  // The same ACK again (a duplicate or a repeat) acknowledges nothing new.
  r = sp.on_ack_received(ack_of({{7, 9}, {2, 3}}), t0 + 60ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->newly_acked.empty());
  EXPECT_FALSE(r->rtt_sample.has_value());

  // A wider one acknowledges only what is new.
  r = sp.on_ack_received(ack_of({{0, 9}}), t0 + 70ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(numbers(r->newly_acked), (std::vector<std::uint64_t>{0, 1, 4, 5, 6}));
  EXPECT_TRUE(sp.outstanding().empty());
}

TEST(SentPackets, AckBeforeAnythingSentIsAViolation) {
  SentPackets sp;
  EXPECT_EQ(sp.on_ack_received(ack_of({{0, 0}}), t0).error(),
            make_error_code(errc::protocol_violation));
}

TEST(SentPackets, AckAboveLargestSentIsAViolationAndChangesNothing) {
  SeededRandom rng(1);
  SentPackets sp;
  for (int i = 0; i < 5; ++i) send(sp, rng, t0);
  // 5 was allocated but not sent: still never sent.
  ASSERT_EQ(*sp.next_packet_number(rng), 5u);
  EXPECT_EQ(sp.on_ack_received(ack_of({{5, 5}, {0, 3}}), t0).error(),
            make_error_code(errc::protocol_violation));
  EXPECT_EQ(sp.outstanding().size(), 5u);  // validated before anything was acknowledged
  EXPECT_FALSE(sp.largest_acked().has_value());
}

TEST(SentPackets, AckBelowTheFirstNumberIsAViolation) {
  SeededRandom rng(1);
  SentPackets sp(1000);
  for (int i = 0; i < 5; ++i) send(sp, rng, t0);
  EXPECT_EQ(sp.on_ack_received(ack_of({{999, 1004}}), t0).error(),
            make_error_code(errc::protocol_violation));
  EXPECT_TRUE(sp.on_ack_received(ack_of({{1000, 1004}}), t0).has_value());
}

TEST(SentPackets, AckOfASkippedNumberIsAViolation) {
  SeededRandom rng(3);
  SentPackets sp;
  std::uint64_t expected = 0;
  std::optional<std::uint64_t> skipped;
  while (!skipped) {
    const std::uint64_t pn = send(sp, rng, t0);
    if (pn != expected) skipped = expected;
    expected = pn + 1;
  }
  ASSERT_TRUE(sp.was_skipped(*skipped));
  const std::uint64_t largest = *sp.largest_sent();
  // An ACK claiming everything, the skipped number included: the peer is lying.
  EXPECT_EQ(sp.on_ack_received(ack_of({{0, largest}}), t0).error(),
            make_error_code(errc::protocol_violation));
  EXPECT_EQ(sp.on_ack_received(ack_of({{*skipped, *skipped}}), t0).error(),
            make_error_code(errc::protocol_violation));
  // The skipped number in a later (older) range is found as well.
  EXPECT_EQ(sp.on_ack_received(ack_of({{largest, largest}, {0, *skipped}}), t0).error(),
            make_error_code(errc::protocol_violation));
  EXPECT_FALSE(sp.largest_acked().has_value());
  // An honest ACK around the hole is fine.
  auto r = sp.on_ack_received(ack_of({{*skipped + 1, largest}, {0, *skipped - 1}}), t0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->newly_acked.size(), largest);  // largest + 1 numbers minus the skipped one
}

TEST(SentPackets, AckOfAnOlderSkippedNumberIsAViolation) {
  SeededRandom rng(4);
  SentPackets sp;
  for (int i = 0; i < 1000; ++i) send(sp, rng, t0);
  ASSERT_GE(sp.skipped().size(), 3u);
  const std::uint64_t newest = sp.skipped().back();
  const std::uint64_t largest = *sp.largest_sent();
  // Steers clear of the newest skip but covers every older one.
  EXPECT_EQ(sp.on_ack_received(ack_of({{newest + 1, largest}, {0, newest - 1}}), t0).error(),
            make_error_code(errc::protocol_violation));
  // Ranges that avoid every skip are accepted.
  std::vector<AckRange> honest;
  std::uint64_t top = largest;
  for (auto s = sp.skipped().rbegin(); s != sp.skipped().rend(); ++s) {
    honest.push_back({*s + 1, top});
    top = *s - 1;
  }
  honest.push_back({0, top});
  auto r = sp.on_ack_received(ack_of(honest), t0);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(sp.outstanding().empty());
}

TEST(SentPackets, MalformedAckFramesAreRejected) {
  SeededRandom rng(1);
  SentPackets sp;
  for (int i = 0; i < 20; ++i) send(sp, rng, t0);
  const auto malformed = make_error_code(errc::malformed);
  EXPECT_EQ(sp.on_ack_received(ack_of({}), t0).error(), malformed);
  EXPECT_EQ(sp.on_ack_received(ack_of({{5, 3}}), t0).error(), malformed);            // inverted
  EXPECT_EQ(sp.on_ack_received(ack_of({{1, 2}, {5, 6}}), t0).error(), malformed);   // ascending
  EXPECT_EQ(sp.on_ack_received(ack_of({{5, 9}, {3, 5}}), t0).error(), malformed);   // overlap
  EXPECT_EQ(sp.outstanding().size(), 20u);
}

TEST(SentPackets, RttSampleWhenLargestIsNewlyAckedAndAckEliciting) {
  SeededRandom rng(1);
  SentPackets sp;
  send(sp, rng, t0);
  send(sp, rng, t0 + 10ms);
  auto r = sp.on_ack_received(ack_of({{0, 1}}, 2500), t0 + 110ms);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->rtt_sample.has_value());
  EXPECT_EQ(*r->rtt_sample, 100ms);  // measured from the largest (1), not the oldest
  EXPECT_EQ(r->ack_delay, 2500us);
}

TEST(SentPackets, NoRttSampleWhenLargestWasAlreadyAcked) {
  SeededRandom rng(1);
  SentPackets sp;
  for (int i = 0; i < 4; ++i) send(sp, rng, t0);
  ASSERT_TRUE(sp.on_ack_received(ack_of({{3, 3}}), t0 + 50ms)->rtt_sample.has_value());
  auto r = sp.on_ack_received(ack_of({{0, 3}}), t0 + 80ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->newly_acked.size(), 3u);
  EXPECT_FALSE(r->rtt_sample.has_value());
}

TEST(SentPackets, NoRttSampleWhenNothingNewlyAckedIsAckEliciting) {
  SeededRandom rng(1);
  SentPackets sp;
  send(sp, rng, t0, false);  // ACK-only packets: the peer may delay acknowledging them freely
  send(sp, rng, t0, false);
  auto r = sp.on_ack_received(ack_of({{0, 1}}), t0 + 50ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->newly_acked.size(), 2u);
  EXPECT_FALSE(r->rtt_sample.has_value());
}

TEST(SentPackets, RttSampleFromNonElicitingLargestWhenAnotherNewlyAckedElicits) {
  // RFC 9002 section 5.1: the largest must be newly acknowledged and at least one newly
  // acknowledged packet ack-eliciting; the sample is still taken from the largest.
  SeededRandom rng(1);
  SentPackets sp;
  send(sp, rng, t0, true);
  send(sp, rng, t0 + 20ms, false);
  auto r = sp.on_ack_received(ack_of({{0, 1}}), t0 + 50ms);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->rtt_sample.has_value());
  EXPECT_EQ(*r->rtt_sample, 30ms);
}

TEST(SentPackets, HugeAckDelayIsSaturated) {
  SeededRandom rng(1);
  SentPackets sp;
  send(sp, rng, t0);
  auto r = sp.on_ack_received(ack_of({{0, 0}}, wire::kMaxPacketNumber), t0 + 50ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->ack_delay, std::chrono::hours(1));
}

TEST(SentPackets, FullSpanAckIsRejectedWithoutWalkingTheSpan) {
  SeededRandom rng(1);
  SentPackets sp;
  for (int i = 0; i < 100; ++i) send(sp, rng, t0);
  // A walk over the 2^62 span would never finish: ctest's timeout is the guard, not a clock here.
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(sp.on_ack_received(ack_of({{0, wire::kMaxPacketNumber}}), t0).error(),
              make_error_code(errc::protocol_violation));
  }
  EXPECT_EQ(sp.outstanding().size(), 100u);
}

TEST(SentPackets, AckAtTheTopOfTheNumberSpaceAndExhaustion) {
  // Start just below 2^62 - 1 so the valid numbers themselves are astronomically large: cost
  // depends on the packets, never on the magnitude of the numbers.
  SeededRandom rng(1);
  const std::uint64_t first = wire::kMaxPacketNumber - 99;
  SentPackets sp(first);
  std::uint64_t last = 0;
  for (int i = 0;; ++i) {
    auto pn = sp.next_packet_number(rng);
    if (!pn) {
      EXPECT_EQ(pn.error(), make_error_code(errc::key_limit_reached));
      break;
    }
    ASSERT_LT(i, 200);
    SentPacket p;
    p.packet_number = last = *pn;
    p.time_sent = t0;
    p.ack_eliciting = p.in_flight = true;
    ASSERT_FALSE(sp.on_packet_sent(p));
  }
  EXPECT_EQ(last, wire::kMaxPacketNumber);
  auto r = sp.on_ack_received(ack_all_outstanding(sp), t0 + 1ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->newly_acked.front().packet_number, first);
  EXPECT_EQ(r->newly_acked.back().packet_number, wire::kMaxPacketNumber);
  EXPECT_TRUE(sp.outstanding().empty());
}

TEST(SentPackets, SkipFrequencyIsWithinBounds) {
  SeededRandom rng(2024);
  SentPackets sp;
  constexpr int kPackets = 100'000;
  std::uint64_t expected = 0;
  std::vector<std::uint64_t> skips;
  for (int i = 0; i < kPackets; ++i) {
    const std::uint64_t pn = send(sp, rng, t0, false);  // ACK-only: bounded memory on its own
    ASSERT_GE(pn, expected);
    ASSERT_LE(pn, expected + 1);  // never more than one number skipped at a time
    if (pn != expected) skips.push_back(expected);
    expected = pn + 1;
  }
  // One skip every 128..256 packets: between 100000/257 and 100000/128 skips.
  EXPECT_GE(skips.size(), static_cast<std::size_t>(kPackets / 257));
  EXPECT_LE(skips.size(), static_cast<std::size_t>(kPackets / 128 + 1));
  for (std::size_t i = 1; i < skips.size(); ++i) {
    const std::uint64_t sent_between = skips[i] - skips[i - 1] - 1;
    EXPECT_GE(sent_between, SentPackets::kMinSkipInterval) << i;
    EXPECT_LE(sent_between, SentPackets::kMaxSkipInterval) << i;
  }
  // Only the newest skips are remembered.
  ASSERT_EQ(sp.skipped().size(), SentPackets::kMaxRememberedSkips);
  EXPECT_EQ(sp.skipped().back(), skips.back());
  EXPECT_EQ(sp.skipped().front(), skips[skips.size() - SentPackets::kMaxRememberedSkips]);
  EXPECT_LE(sp.outstanding().size(), 2 * SentPackets::kMaxAckOnlyPackets);
}

// The skips draw their intervals in batches: with the system CSPRNG each call into the source
// is a system call, which on the bulk path cost one per skip (every 96-224 packets).
TEST(SentPackets, SkipIntervalsAreDrawnInBatches) {
  struct CountingRandom final : RandomSource {
    void fill(std::span<std::uint8_t> out) override {
      ++calls;
      inner.fill(out);
    }
    SeededRandom inner{9};
    int calls = 0;
  } rng;
  SentPackets sp;
  std::uint64_t expected = 0;
  int skips = 0;
  for (int i = 0; i < 50'000; ++i) {
    const std::uint64_t pn = send(sp, rng, t0, false);
    if (pn != expected) ++skips;
    expected = pn + 1;
  }
  ASSERT_GT(skips, 200);
  EXPECT_LE(rng.calls, skips / static_cast<int>(RandomBatch::kValues) + 2);
}

TEST(SentPackets, SkipPositionsDependOnTheRandomSource) {
  auto first_skip = [](std::uint64_t seed) {
    SeededRandom rng(seed);
    SentPackets sp;
    for (int i = 0; i < 300; ++i) send(sp, rng, t0);
    return sp.skipped().front();
  };
  EXPECT_EQ(first_skip(5), first_skip(5));
  bool differs = false;
  for (std::uint64_t seed = 6; seed < 12 && !differs; ++seed) differs = first_skip(seed) != first_skip(5);
  EXPECT_TRUE(differs);
}

TEST(SentPackets, MemoryAndCountersAreReleasedOnAck) {
  SeededRandom rng(1);
  SentPackets sp;
  for (int i = 0; i < 300; ++i) send(sp, rng, t0, true, 1000);
  EXPECT_EQ(sp.outstanding().size(), 300u);
  EXPECT_EQ(sp.bytes_in_flight(), 300'000u);
  EXPECT_EQ(sp.ack_eliciting_in_flight(), 300u);
  auto r = sp.on_ack_received(ack_all_outstanding(sp), t0 + 10ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->newly_acked.size(), 300u);
  EXPECT_TRUE(sp.outstanding().empty());
  EXPECT_EQ(sp.bytes_in_flight(), 0u);
  EXPECT_EQ(sp.ack_eliciting_in_flight(), 0u);
}

TEST(SentPackets, RemoveReleasesOnePacket) {
  SeededRandom rng(1);
  SentPackets sp;
  send(sp, rng, t0, true, 700);
  send(sp, rng, t0, false, 50);
  EXPECT_EQ(sp.bytes_in_flight(), 700u);
  auto p = sp.remove(0);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->size, 700u);
  EXPECT_EQ(sp.bytes_in_flight(), 0u);
  EXPECT_EQ(sp.ack_eliciting_in_flight(), 0u);
  EXPECT_FALSE(sp.remove(0).has_value());
  EXPECT_EQ(sp.outstanding().size(), 1u);
}

TEST(SentPackets, LateAckOfRemovedNumbersIsAcceptedAndIgnored) {
  // Numbers declared lost (removed) may still be acknowledged when the path reordered them: that
  // is no violation, and they are not acknowledged twice.
  SeededRandom rng(1);
  SentPackets sp;
  for (int i = 0; i < 5; ++i) send(sp, rng, t0);
  ASSERT_TRUE(sp.remove(1).has_value());
  auto r = sp.on_ack_received(ack_of({{0, 4}}), t0 + 10ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(numbers(r->newly_acked), (std::vector<std::uint64_t>{0, 2, 3, 4}));
  r = sp.on_ack_received(ack_of({{1, 1}}), t0 + 20ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->newly_acked.empty());
  EXPECT_FALSE(r->rtt_sample.has_value());
  EXPECT_EQ(sp.largest_acked(), 4u);
}

TEST(SentPackets, AckOnlyPacketsNeverAcknowledgedStayBounded) {
  SeededRandom rng(1);
  SentPackets sp;
  send(sp, rng, t0, true);  // in flight: must never be forgotten
  for (int i = 0; i < 10'000; ++i) send(sp, rng, t0, false);
  EXPECT_LE(sp.outstanding().size(), 2 * SentPackets::kMaxAckOnlyPackets + 1);
  EXPECT_EQ(sp.outstanding().first_number(), 0u);
  EXPECT_EQ(sp.ack_eliciting_in_flight(), 1u);
}

TEST(SentPackets, OnlySkippedBetween) {
  SeededRandom rng(3);
  SentPackets sp;
  for (int i = 0; i < 600; ++i) send(sp, rng, t0);
  ASSERT_GE(sp.skipped().size(), 2u);
  const std::uint64_t s = sp.skipped().front();
  EXPECT_TRUE(sp.only_skipped_between(4, 5));
  EXPECT_FALSE(sp.only_skipped_between(4, 6));
  EXPECT_FALSE(sp.only_skipped_between(5, 5));
  EXPECT_TRUE(sp.only_skipped_between(s - 1, s + 1));
  EXPECT_FALSE(sp.only_skipped_between(s - 2, s + 1));
}

// Delivery-rate estimation: in-flight packets carry the snapshot from their send and, once
// acknowledged, their rate sample; ACK-only packets neither.
TEST(SentPackets, AckedInFlightPacketsCarryRateSamples) {
  SeededRandom rng(4);
  SentPackets sp;
  const std::uint64_t a = send(sp, rng, t0);
  const std::uint64_t b = send(sp, rng, t0 + 1ms);
  const std::uint64_t ack_only = send(sp, rng, t0 + 1ms, false, 40);
  const std::uint64_t c = send(sp, rng, t0 + 2ms);
  EXPECT_EQ(sp.outstanding().at(a).delivery.first_sent_time, t0);
  EXPECT_EQ(sp.outstanding().at(c).delivery.delivered, 0u);

  auto r = sp.on_ack_received(ack_of({{a, ack_only}}), t0 + 20ms);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(numbers(r->newly_acked), (std::vector<std::uint64_t>{a, b, ack_only}));
  ASSERT_TRUE(r->newly_acked[0].rate_sample);
  EXPECT_EQ(r->newly_acked[0].rate_sample->delivered, 1200u);
  EXPECT_EQ(r->newly_acked[0].rate_sample->interval, 20ms);
  ASSERT_TRUE(r->newly_acked[1].rate_sample);
  EXPECT_EQ(r->newly_acked[1].rate_sample->delivered_bytes, 2400u);  // a and b, over 20 ms
  EXPECT_EQ(r->newly_acked[1].rate_sample->interval, 20ms);
  EXPECT_FALSE(r->newly_acked[2].rate_sample);
  EXPECT_EQ(sp.delivery_rate().delivered(), 2400u);

  // Sent after the first ACK: its snapshot starts there.
  const std::uint64_t d = send(sp, rng, t0 + 20ms);
  EXPECT_EQ(sp.outstanding().at(d).delivery.delivered, 2400u);
  EXPECT_EQ(sp.outstanding().at(d).delivery.delivered_time, t0 + 20ms);
  r = sp.on_ack_received(ack_of({{c, d}}), t0 + 40ms);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->newly_acked.size(), 2u);
  ASSERT_TRUE(r->newly_acked[1].rate_sample);
  EXPECT_EQ(r->newly_acked[1].rate_sample->prior_delivered, 2400u);
  EXPECT_EQ(r->newly_acked[1].rate_sample->delivered_bytes, 2400u);  // c and d
  EXPECT_EQ(r->newly_acked[1].rate_sample->interval, 20ms);
}

TEST(SentPackets, LostPacketsAreNotCountedAsDelivered) {
  SeededRandom rng(5);
  SentPackets sp;
  const std::uint64_t a = send(sp, rng, t0);
  const std::uint64_t b = send(sp, rng, t0 + 1ms);
  ASSERT_TRUE(sp.remove(a));
  auto r = sp.on_ack_received(ack_of({{b, b}}), t0 + 20ms);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->newly_acked[0].rate_sample);
  EXPECT_EQ(r->newly_acked[0].rate_sample->delivered_bytes, 1200u);
  EXPECT_EQ(sp.delivery_rate().delivered(), 1200u);
}

TEST(SentPackets, AppLimitedMarksThePacketsSentAfter) {
  SeededRandom rng(6);
  SentPackets sp;
  const std::uint64_t before = send(sp, rng, t0);
  sp.on_app_limited();
  EXPECT_TRUE(sp.delivery_rate().is_app_limited());
  const std::uint64_t after = send(sp, rng, t0 + 1ms);
  EXPECT_FALSE(sp.outstanding().at(before).delivery.is_app_limited);
  EXPECT_TRUE(sp.outstanding().at(after).delivery.is_app_limited);
  auto r = sp.on_ack_received(ack_of({{before, after}}), t0 + 20ms);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->newly_acked[0].rate_sample && r->newly_acked[1].rate_sample);
  EXPECT_FALSE(r->newly_acked[0].rate_sample->is_app_limited);
  EXPECT_TRUE(r->newly_acked[1].rate_sample->is_app_limited);
  EXPECT_FALSE(sp.delivery_rate().is_app_limited());
}

}  // namespace
}  // namespace srudp::transport
