#include "transport/loss_detection.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "common/random.hpp"

namespace srudp::transport {
namespace {

const Instant t0 = Instant{} + std::chrono::seconds(100);

wire::Ack ack_of(std::vector<AckRange> ranges) {
  wire::Ack ack;
  ack.ranges.assign(ranges.begin(), ranges.end());
  return ack;
}

std::vector<std::uint64_t> numbers(const std::vector<SentPacket>& packets) {
  std::vector<std::uint64_t> out;
  for (const auto& p : packets) out.push_back(p.packet_number);
  return out;
}

// A connection's view: one LossDetection, one RTT estimator. By default the peer validated our
// address and the handshake is confirmed (the steady state); tests of the handshake opt out.
class LossDetectionTest : public ::testing::Test {
 protected:
  explicit LossDetectionTest(bool confirmed = true)
      : ld_(LossDetectionConfig{.peer_validated_address = confirmed}) {
    if (confirmed) ld_.on_handshake_confirmed(t0, rtt_);
  }

  std::uint64_t send(Instant when, bool ack_eliciting = true) {
    auto pn = ld_.next_packet_number(rng_);
    EXPECT_TRUE(pn.has_value());
    SentPacket p;
    p.packet_number = *pn;
    p.time_sent = when;
    p.size = 1200;
    p.ack_eliciting = ack_eliciting;
    p.in_flight = ack_eliciting;
    EXPECT_FALSE(ld_.on_packet_sent(p, rtt_));
    return *pn;
  }

  AckOutcome ack(std::vector<AckRange> ranges, Instant now) {
    auto r = ld_.on_ack_received(ack_of(std::move(ranges)), now, rtt_);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    return r ? std::move(*r) : AckOutcome{};
  }

  // Everything up to now is timer-driven: the deadline must always be strictly in the future
  // after handling it, so a driver loop cannot spin.
  TimeoutOutcome fire(Instant now) {
    auto out = ld_.on_timeout(now, rtt_);
    if (ld_.timeout()) {
      EXPECT_GT(*ld_.timeout(), now);
    }
    return out;
  }

  // SeededRandom skips a number only after 128 allocations: these tests never see a skip.
  SeededRandom rng_{1};
  RttEstimator rtt_;
  LossDetection ld_;
};

class ClientHandshakeTest : public LossDetectionTest {
 protected:
  ClientHandshakeTest() : LossDetectionTest(false) {}
};

// A connection keeps one AckOutcome for every ACK: each call starts it over, and the memory of
// its vector of acknowledged packets serves the next ACK (no allocation per ACK).
TEST_F(LossDetectionTest, AReusedOutcomeStartsOverAndKeepsItsMemory) {
  for (int i = 0; i < 8; ++i) send(t0);
  AckOutcome outcome;
  ASSERT_FALSE(ld_.on_ack_received(ack_of({{0, 3}}), t0 + 10ms, rtt_, outcome));
  EXPECT_EQ(numbers(outcome.acked), (std::vector<std::uint64_t>{0, 1, 2, 3}));
  ASSERT_TRUE(outcome.rtt_sample.has_value());
  const SentPacket* memory = outcome.acked.data();
  ASSERT_FALSE(ld_.on_ack_received(ack_of({{4, 6}}), t0 + 11ms, rtt_, outcome));
  EXPECT_EQ(numbers(outcome.acked), (std::vector<std::uint64_t>{4, 5, 6}));
  EXPECT_EQ(outcome.acked.data(), memory);
  // A duplicate acknowledges nothing and carries no sample.
  ASSERT_FALSE(ld_.on_ack_received(ack_of({{4, 6}}), t0 + 12ms, rtt_, outcome));
  EXPECT_TRUE(outcome.acked.empty());
  EXPECT_FALSE(outcome.rtt_sample.has_value());
  // A bogus ACK (a number never sent) is refused and leaves nothing behind.
  ASSERT_FALSE(ld_.on_ack_received(ack_of({{7, 7}}), t0 + 13ms, rtt_, outcome));
  EXPECT_EQ(numbers(outcome.acked), (std::vector<std::uint64_t>{7}));
  EXPECT_EQ(ld_.on_ack_received(ack_of({{100, 100}}), t0 + 14ms, rtt_, outcome),
            make_error_code(errc::protocol_violation));
  EXPECT_TRUE(outcome.acked.empty());
  EXPECT_TRUE(outcome.lost.empty());
}

TEST_F(LossDetectionTest, NothingSentMeansNoTimer) {
  EXPECT_FALSE(ld_.timeout().has_value());
  EXPECT_EQ(ld_.on_timeout(t0 + 1h, rtt_).action, TimeoutOutcome::Action::none);
}

TEST_F(LossDetectionTest, PacketThresholdDeclaresLossOnAck) {
  for (int i = 0; i < 5; ++i) send(t0 + i * 1ms);
  // 3 acknowledged: 0 is three behind and lost; 1 and 2 may still just be reordered.
  auto out = ack({{3, 3}}, t0 + 53ms);
  EXPECT_EQ(numbers(out.acked), (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{0}));
  EXPECT_FALSE(out.persistent_congestion);
  ASSERT_TRUE(out.rtt_sample.has_value());
  EXPECT_EQ(*out.rtt_sample, 50ms);
  EXPECT_EQ(rtt_.latest(), 50ms);  // fed to the estimator
  EXPECT_EQ(ld_.sent_packets().outstanding().size(), 3u);
  EXPECT_EQ(ld_.sent_packets().bytes_in_flight(), 3u * 1200);
}

TEST_F(LossDetectionTest, TimeThresholdDeclaresLossWhenTheLossTimerFires) {
  for (int i = 0; i < 5; ++i) send(t0 + i * 1ms);
  ack({{3, 3}}, t0 + 53ms);  // first sample: smoothed = latest = 50 ms
  // loss_delay = 9/8 * 50 ms = 56.25 ms; packet 1 (sent at 1 ms) is the first to expire.
  ASSERT_TRUE(ld_.timeout().has_value());
  EXPECT_EQ(*ld_.timeout(), t0 + 1ms + 56250us);

  EXPECT_EQ(fire(t0 + 57ms).action, TimeoutOutcome::Action::none);  // early: nothing happens
  auto out = fire(t0 + 57250us);
  EXPECT_EQ(out.action, TimeoutOutcome::Action::packets_lost);
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(*ld_.timeout(), t0 + 2ms + 56250us);  // packet 2's turn
  out = fire(*ld_.timeout());
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{2}));
  // Only 4 remains, newer than anything acknowledged: back to the PTO.
  EXPECT_EQ(*ld_.timeout(), t0 + 4ms + ld_.pto_period(rtt_));
}

TEST_F(LossDetectionTest, LossDelayHasOneMillisecondFloor) {
  // A 10 us RTT (raised to 1 ms by the estimator) must not make the loss delay vanish.
  for (int i = 0; i < 3; ++i) send(t0 + i * 1us);
  ack({{2, 2}}, t0 + 12us);
  ASSERT_TRUE(ld_.timeout().has_value());
  EXPECT_GE(*ld_.timeout(), t0 + 1ms);
}

TEST_F(LossDetectionTest, PtoBacksOffOneTwoFourTimes) {
  send(t0);
  const Duration pto = rtt_.pto_base(rtt_.max_ack_delay());  // no sample: 333 + 4 * 166.5 + 25
  EXPECT_EQ(pto, 333ms + 666ms + 25ms);
  EXPECT_EQ(ld_.pto_period(rtt_), pto);
  ASSERT_EQ(ld_.timeout(), t0 + pto);

  Instant now = t0 + pto;
  auto out = fire(now);
  EXPECT_EQ(out.action, TimeoutOutcome::Action::send_probes);
  EXPECT_EQ(out.probe_packets, 1u);
  EXPECT_TRUE(out.lost.empty());  // a PTO declares nothing lost
  EXPECT_EQ(ld_.pto_count(), 1u);
  send(now);  // the probe
  EXPECT_EQ(ld_.timeout(), now + 2 * pto);

  now += 2 * pto;
  out = fire(now);
  EXPECT_EQ(out.action, TimeoutOutcome::Action::send_probes);
  EXPECT_EQ(out.probe_packets, 2u);
  EXPECT_EQ(ld_.pto_count(), 2u);
  send(now);
  send(now);
  EXPECT_EQ(ld_.timeout(), now + 4 * pto);

  now += 4 * pto;
  EXPECT_EQ(fire(now).probe_packets, 2u);
  EXPECT_EQ(ld_.timeout(), now + 8 * pto);  // nothing sent: counted from the firing
}

TEST_F(LossDetectionTest, PtoBackoffIsCapped) {
  send(t0);
  Instant now = t0;
  for (int i = 0; i < 100; ++i) {
    now = *ld_.timeout();
    fire(now);
  }
  EXPECT_EQ(*ld_.timeout() - now, std::chrono::seconds(60));
}

TEST_F(LossDetectionTest, AckResetsPtoBackoff) {
  send(t0);
  Instant now = t0;
  for (int i = 0; i < 3; ++i) {
    now = *ld_.timeout();
    fire(now);
    send(now);  // probes 1, 2, 3
  }
  EXPECT_EQ(ld_.pto_count(), 3u);
  const std::uint64_t last = send(now + 1ms);

  // An ACK acknowledging something new resets the backoff: the timer runs 1x PTO from the last
  // ack-eliciting send again.
  ack({{0, 0}}, now + 2ms);
  EXPECT_EQ(ld_.pto_count(), 0u);
  ASSERT_TRUE(ld_.timeout().has_value());
  EXPECT_EQ(*ld_.timeout(), now + 1ms + ld_.pto_period(rtt_));

  ack({{1, last - 1}}, now + 10ms);
  EXPECT_EQ(*ld_.timeout(), now + 1ms + ld_.pto_period(rtt_));
  // Everything acknowledged: nothing left to time.
  ack({{0, last}}, now + 20ms);
  EXPECT_FALSE(ld_.timeout().has_value());
}

TEST_F(LossDetectionTest, DuplicateAckChangesNothing) {
  send(t0);
  send(t0);
  ack({{0, 0}}, t0 + 10ms);
  fire(*ld_.timeout());
  ASSERT_EQ(ld_.pto_count(), 1u);
  const auto timer = ld_.timeout();
  auto out = ack({{0, 0}}, t0 + 2s);
  EXPECT_TRUE(out.acked.empty());
  EXPECT_TRUE(out.lost.empty());
  EXPECT_FALSE(out.rtt_sample.has_value());
  EXPECT_EQ(ld_.pto_count(), 1u);
  EXPECT_EQ(ld_.timeout(), timer);
}

TEST_F(LossDetectionTest, TailLossOfTheLastPacketIsRecoveredByOnePto) {
  for (int i = 0; i < 10; ++i) send(t0 + i * 1ms);
  // Everything but the last packet arrives. Nothing newer than 9 exists, so no threshold can
  // ever call it lost: only the PTO can help.
  auto out = ack({{0, 8}}, t0 + 58ms);
  EXPECT_TRUE(out.lost.empty());
  ASSERT_TRUE(ld_.timeout().has_value());
  const Instant pto_at = *ld_.timeout();
  EXPECT_EQ(pto_at, t0 + 9ms + ld_.pto_period(rtt_));
  EXPECT_LT(pto_at, t0 + 9ms + 4 * 58ms);  // an RTT-scale wait, not a long retransmission timeout

  auto probe = fire(pto_at);
  ASSERT_EQ(probe.action, TimeoutOutcome::Action::send_probes);
  EXPECT_EQ(probe.probe_packets, 1u);
  const std::uint64_t probe_pn = send(pto_at);

  // The probe's ACK shows 9 missing and long overdue: lost now, one PTO after the tail.
  out = ack({{probe_pn, probe_pn}, {0, 8}}, pto_at + 50ms);
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{9}));
  EXPECT_EQ(ld_.pto_count(), 0u);
  EXPECT_FALSE(ld_.timeout().has_value());
}

TEST_F(LossDetectionTest, PersistentCongestionWhenLossesSpanTheCongestionPeriod) {
  send(t0);
  ack({{0, 0}}, t0 + 50ms);  // first RTT sample
  send(t0 + 100ms);  // 1
  send(t0 + 400ms);  // 2
  send(t0 + 700ms);  // 3
  send(t0 + 800ms);  // 4
  auto out = ack({{4, 4}}, t0 + 880ms);  // sample 80 ms
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{1, 2, 3}));
  // 1 and 3 were sent 600 ms apart; the period is (53.75 + 4 * 26.25 + 25) * 3 = 551.25 ms.
  EXPECT_EQ(LossDetection::persistent_congestion_period(rtt_), 551250us);
  EXPECT_TRUE(out.persistent_congestion);
  // The estimator was told: min_rtt restarts from the latest sample (it was 50 ms).
  EXPECT_EQ(rtt_.min_rtt(), 80ms);
}

TEST_F(LossDetectionTest, NoPersistentCongestionWhenLossesSpanLessThanThePeriod) {
  send(t0);
  ack({{0, 0}}, t0 + 50ms);
  send(t0 + 100ms);
  send(t0 + 300ms);
  send(t0 + 500ms);
  send(t0 + 600ms);
  auto out = ack({{4, 4}}, t0 + 650ms);
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_GT(LossDetection::persistent_congestion_period(rtt_), 400ms);
  EXPECT_FALSE(out.persistent_congestion);
}

TEST_F(LossDetectionTest, NoPersistentCongestionWhenAPacketBetweenWasAcknowledged) {
  send(t0);
  ack({{0, 0}}, t0 + 50ms);
  send(t0 + 100ms);  // 1 lost
  send(t0 + 400ms);  // 2 acknowledged: the path delivered in between
  send(t0 + 700ms);  // 3 lost
  send(t0 + 800ms);  // 4
  auto out = ack({{4, 4}, {2, 2}}, t0 + 850ms);
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_FALSE(out.persistent_congestion);
}

TEST_F(LossDetectionTest, NoPersistentCongestionWithoutAPriorRttSample) {
  send(t0);           // 0
  send(t0 + 300ms);   // 1
  send(t0 + 700ms);   // 2
  send(t0 + 800ms);   // 3
  auto out = ack({{3, 3}}, t0 + 850ms);  // the first sample arrives with the losses
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_FALSE(out.persistent_congestion);
}

TEST_F(LossDetectionTest, NoPersistentCongestionFromNonAckElicitingPackets) {
  send(t0);
  ack({{0, 0}}, t0 + 50ms);
  send(t0 + 100ms);         // 1 ack-eliciting, lost
  send(t0 + 700ms, false);  // 2 ACK-only, lost: does not count
  send(t0 + 710ms, false);  // 3 ACK-only, lost: does not count
  send(t0 + 800ms);         // 4 acknowledged
  auto out = ack({{4, 4}}, t0 + 850ms);
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_LT(LossDetection::persistent_congestion_period(rtt_), 610ms);
  EXPECT_FALSE(out.persistent_congestion);  // only one ack-eliciting packet among the losses
}

TEST_F(LossDetectionTest, LossesInSeparateBatchesDoNotCombine) {
  send(t0);
  ack({{0, 0}}, t0 + 50ms);
  send(t0 + 100ms);  // 1
  send(t0 + 795ms);  // 2
  send(t0 + 800ms);  // 3
  auto out = ack({{3, 3}}, t0 + 850ms);
  // Neither 1 nor 2 is three behind; 1 is overdue, 2 not yet (loss delay 56.25 ms).
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{1}));
  EXPECT_FALSE(out.persistent_congestion);
  // 2 goes when the loss timer fires; persistent congestion looks at one batch of losses at a
  // time (RFC 9002 appendix B.8), so 1 and 2 do not combine.
  EXPECT_EQ(*ld_.timeout(), t0 + 795ms + 56250us);
  auto timeout = fire(*ld_.timeout());
  EXPECT_EQ(timeout.action, TimeoutOutcome::Action::packets_lost);
  EXPECT_EQ(numbers(timeout.lost), (std::vector<std::uint64_t>{2}));
  EXPECT_FALSE(timeout.persistent_congestion);
}

TEST_F(LossDetectionTest, AckErrorsPassThroughAndChangeNothing) {
  send(t0);
  auto r = ld_.on_ack_received(ack_of({{5, 5}}), t0 + 10ms, rtt_);
  EXPECT_EQ(r.error(), make_error_code(errc::protocol_violation));
  EXPECT_FALSE(rtt_.has_sample());
  EXPECT_EQ(ld_.sent_packets().outstanding().size(), 1u);
}

TEST_F(LossDetectionTest, TimerIsNeverLeftInThePast) {
  // A long random run: sends, ACKs with holes, and timer handling that is sometimes very late.
  // After every event the deadline is empty or strictly after the time handled, so a driver
  // loop "while (deadline <= now) on_timeout(now)" always terminates at once.
  SeededRandom rng(99);
  Instant now = t0;
  std::uint64_t next_ack_from = 0;
  for (int step = 0; step < 3000; ++step) {
    now += std::chrono::microseconds(rng.uniform(40'000));
    switch (rng.uniform(4)) {
      case 0:
      case 1:
        send(now, rng.uniform(8) != 0);
        break;
      case 2: {
        const auto largest = ld_.sent_packets().largest_sent();
        if (!largest || *largest < next_ack_from) break;
        // Acknowledge a random suffix, leaving the rest to be found lost (skips are avoided by
        // acknowledging only numbers still outstanding or already handled).
        std::vector<AckRange> ranges;
        for (const auto& [pn, p] : ld_.sent_packets().outstanding()) {
          if (pn < next_ack_from || rng.uniform(3) == 0) continue;
          if (!ranges.empty() && ranges.back().largest + 1 == pn) {
            ranges.back().largest = pn;
          } else {
            ranges.push_back({pn, pn});
          }
        }
        if (ranges.empty()) break;
        next_ack_from = ranges.back().largest + 1;
        ack({ranges.rbegin(), ranges.rend()}, now);
        break;
      }
      default: {
        int spins = 0;
        while (ld_.timeout() && *ld_.timeout() <= now) {
          fire(now);
          ASSERT_LT(++spins, 2) << "step " << step;
        }
      }
    }
  }
}

TEST_F(ClientHandshakeTest, PtoStaysArmedWithNothingInFlightUntilConfirmed) {
  send(t0);  // the handshake initiation
  // Before confirmation the PTO leaves out max_ack_delay.
  EXPECT_EQ(ld_.pto_period(rtt_), 333ms + 666ms);
  ack({{0, 0}}, t0 + 40ms);  // acknowledged, but the server's handshake reply was lost
  EXPECT_EQ(ld_.sent_packets().ack_eliciting_in_flight(), 0u);
  ASSERT_TRUE(ld_.timeout().has_value());  // anti-deadlock: keep probing
  EXPECT_EQ(*ld_.timeout(), t0 + 40ms + ld_.pto_period(rtt_));

  auto out = fire(*ld_.timeout());
  EXPECT_EQ(out.action, TimeoutOutcome::Action::send_probes);
  EXPECT_EQ(out.probe_packets, 1u);

  ld_.on_handshake_confirmed(t0 + 2s, rtt_);
  EXPECT_FALSE(ld_.timeout().has_value());
  EXPECT_EQ(ld_.pto_period(rtt_), rtt_.pto_base(rtt_.max_ack_delay()));
}

TEST_F(ClientHandshakeTest, BackoffIsNotResetByAnAckBeforeConfirmation) {
  send(t0);
  const Instant pto_at = *ld_.timeout();
  fire(pto_at);
  send(pto_at);  // the probe
  ASSERT_EQ(ld_.pto_count(), 1u);
  ack({{0, 1}}, pto_at + 50ms);
  EXPECT_EQ(ld_.pto_count(), 1u);  // the server may be slow validating us: keep the backoff
}

TEST(LossDetectionServer, NoTimerWithNothingInFlight) {
  SeededRandom rng(1);
  RttEstimator rtt;
  LossDetection ld(LossDetectionConfig{.peer_validated_address = true});
  SentPacket p;
  p.packet_number = *ld.next_packet_number(rng);
  p.time_sent = t0;
  p.ack_eliciting = p.in_flight = true;
  ASSERT_FALSE(ld.on_packet_sent(p, rtt));
  ASSERT_TRUE(ld.on_ack_received(ack_of({{0, 0}}), t0 + 40ms, rtt).has_value());
  EXPECT_FALSE(ld.timeout().has_value());
}


// Adaptive reordering tolerance. Every RTT sample below is exactly 50 ms.
class ReorderingTest : public LossDetectionTest {
 protected:
  // One reordering event one packet deeper than the current threshold tolerates: threshold + 1
  // packets sent at `now`; the newest is acknowledged first, which declares the oldest lost; then
  // all are acknowledged, the "lost" one included. Returns that second ACK's outcome.
  AckOutcome reorder_event(Instant now) {
    const std::uint64_t depth = ld_.packet_threshold();
    const std::uint64_t first = send(now);
    for (std::uint64_t i = 0; i < depth; ++i) send(now);
    const std::uint64_t last = first + depth;
    auto out = ack({{last, last}}, now + 50ms);
    EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{first}));
    EXPECT_TRUE(out.spurious_losses.empty());
    return ack({{first, last}}, now + 51ms);
  }
};

TEST_F(ReorderingTest, SpuriousLossRaisesThePacketThresholdToTheDistanceSeen) {
  for (int i = 0; i < 10; ++i) send(t0 + i * 1ms);
  // 5 acknowledged first: 0, 1 and 2 are three or more behind and declared lost.
  auto out = ack({{5, 5}}, t0 + 50ms);
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_TRUE(out.spurious_losses.empty());
  EXPECT_EQ(ld_.packet_threshold(), 3u);

  // They arrive after all: a late ACK is no violation, and it reveals 5 packets of reordering.
  out = ack({{0, 5}}, t0 + 52ms);
  EXPECT_EQ(numbers(out.acked), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(out.spurious_losses, (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(ld_.spurious_loss_count(), 3u);
  EXPECT_EQ(ld_.packet_threshold(), 6u);
  EXPECT_EQ(ld_.time_threshold_num(), 10);  // 9/8 -> 10/8 RTT

  // The peer repeats its ranges: each spurious loss is reported once.
  out = ack({{0, 5}}, t0 + 53ms);
  EXPECT_TRUE(out.spurious_losses.empty());
  EXPECT_EQ(ld_.spurious_loss_count(), 3u);

  // Reordering by 3 (which the default threshold would call a loss) no longer is one.
  out = ack({{9, 9}}, t0 + 59ms);
  EXPECT_TRUE(out.lost.empty());
  EXPECT_EQ(ld_.sent_packets().outstanding().size(), 3u);  // 6, 7, 8 wait
  out = ack({{6, 9}}, t0 + 60ms);
  EXPECT_EQ(numbers(out.acked), (std::vector<std::uint64_t>{6, 7, 8}));
  EXPECT_TRUE(out.lost.empty());
}

TEST_F(ReorderingTest, ReorderingOfTheLearnedDepthPassesAndDeeperStillCountsAsLoss) {
  auto out = reorder_event(t0);  // threshold 3 -> 4
  EXPECT_EQ(out.spurious_losses.size(), 1u);
  out = reorder_event(t0 + 100ms);  // 4 -> 5
  EXPECT_EQ(out.spurious_losses.size(), 1u);
  ASSERT_EQ(ld_.packet_threshold(), 5u);

  const Instant t = t0 + 200ms;
  const std::uint64_t first = send(t);
  for (int i = 0; i < 6; ++i) send(t);
  // 4 behind the acknowledged one: within the learned depth, not lost.
  out = ack({{first + 4, first + 4}}, t + 50ms);
  EXPECT_TRUE(out.lost.empty());
  // 5 behind: a real loss, still detected by the (larger) packet threshold.
  out = ack({{first + 5, first + 5}}, t + 50ms);
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{first}));
  // And it does not come back: nothing spurious, thresholds unchanged.
  out = ack({{first + 1, first + 6}}, t + 60ms);
  EXPECT_TRUE(out.spurious_losses.empty());
  EXPECT_EQ(ld_.packet_threshold(), 5u);
}

TEST_F(ReorderingTest, PacketThresholdIsCapped) {
  ld_ = LossDetection(LossDetectionConfig{.max_packet_threshold = 8, .peer_validated_address = true});
  ld_.on_handshake_confirmed(t0, rtt_);
  for (int i = 0; i < 30; ++i) send(t0);
  auto out = ack({{29, 29}}, t0 + 50ms);
  EXPECT_EQ(out.lost.size(), 27u);  // 0..26
  out = ack({{0, 29}}, t0 + 51ms);
  EXPECT_EQ(out.spurious_losses.size(), 27u);
  EXPECT_EQ(ld_.packet_threshold(), 8u);  // not 30: deeper reordering is the time rule's job
}

TEST_F(ReorderingTest, TimeThresholdWidensToThreeRttsAndDecays) {
  EXPECT_EQ(ld_.time_threshold_num(), 9);
  Instant t = t0;
  for (const std::int64_t expected : {10, 12, 16, 24, 24}) {
    reorder_event(t);
    EXPECT_EQ(ld_.time_threshold_num(), expected);
    t += 100ms;
  }
  EXPECT_EQ(ld_.packet_threshold(), 8u);
  EXPECT_EQ(ld_.loss_delay(rtt_), 150ms);  // 3 x 50 ms
  const Instant last_event = t - 100ms + 51ms;

  // Quiet, in-order traffic afterwards, one packet per 50 ms RTT.
  auto quiet_until = [&](Instant until) {
    for (; t + 50ms <= until; t += 50ms) {
      const std::uint64_t pn = send(t);
      EXPECT_TRUE(ack({{pn, pn}}, t + 50ms).lost.empty());
    }
  };
  const Duration decay_period = LossDetection::kReorderingDecayRtts * 50ms;
  quiet_until(last_event + decay_period - 1ms);
  EXPECT_EQ(ld_.time_threshold_num(), 24);
  EXPECT_EQ(ld_.packet_threshold(), 8u);
  quiet_until(last_event + decay_period + 49ms);  // long enough without a spurious loss: halved
  EXPECT_EQ(ld_.time_threshold_num(), 16);
  EXPECT_EQ(ld_.packet_threshold(), 5u);
  quiet_until(last_event + 2 * decay_period + 49ms);
  EXPECT_EQ(ld_.time_threshold_num(), 12);
  EXPECT_EQ(ld_.packet_threshold(), 4u);
  quiet_until(last_event + 4 * decay_period + 49ms);  // back to the RFC 9002 defaults, and staying
  EXPECT_EQ(ld_.time_threshold_num(), 9);
  EXPECT_EQ(ld_.packet_threshold(), 3u);
  EXPECT_EQ(ld_.loss_delay(rtt_), 56250us);

  // A new spurious loss widens again.
  reorder_event(t);
  EXPECT_EQ(ld_.time_threshold_num(), 10);
  EXPECT_EQ(ld_.packet_threshold(), 4u);
}

TEST_F(ReorderingTest, RealLossIsFoundByTheWidenedTimeThreshold) {
  reorder_event(t0);
  reorder_event(t0 + 100ms);
  ASSERT_EQ(ld_.time_threshold_num(), 12);
  ASSERT_EQ(ld_.packet_threshold(), 5u);

  const Instant t = t0 + 200ms;
  const std::uint64_t a = send(t);
  send(t + 1ms);
  const std::uint64_t c = send(t + 2ms);
  auto out = ack({{c, c}}, t + 52ms);
  EXPECT_TRUE(out.lost.empty());  // 2 behind: below the packet threshold
  // 12/8 x 50 ms = 75 ms after it was sent, not 56.25 ms.
  ASSERT_TRUE(ld_.timeout().has_value());
  EXPECT_EQ(*ld_.timeout(), t + 75ms);
  EXPECT_EQ(fire(t + 74ms).action, TimeoutOutcome::Action::none);
  auto timeout = fire(t + 75ms);
  EXPECT_EQ(timeout.action, TimeoutOutcome::Action::packets_lost);
  EXPECT_EQ(numbers(timeout.lost), (std::vector<std::uint64_t>{a}));
  // A time-threshold loss that turns out spurious widens the time threshold, not the count.
  out = ack({{a, c}}, t + 80ms);
  EXPECT_EQ(out.spurious_losses, (std::vector<std::uint64_t>{a}));
  EXPECT_EQ(ld_.time_threshold_num(), 16);  // 12/8 -> 16/8
  EXPECT_EQ(ld_.packet_threshold(), 5u);
}

TEST_F(ReorderingTest, TailLossIsStillRecoveredByThePto) {
  for (int i = 0; i < 4; ++i) reorder_event(t0 + i * 100ms);
  ASSERT_EQ(ld_.time_threshold_num(), 24);

  const Instant t = t0 + 400ms;
  std::uint64_t last = 0;
  for (int i = 0; i < 5; ++i) last = send(t + i * 1ms);
  auto out = ack({{last - 4, last - 1}}, t + 53ms);
  EXPECT_TRUE(out.lost.empty());
  const Instant pto_at = *ld_.timeout();
  EXPECT_EQ(pto_at, t + 4ms + ld_.pto_period(rtt_));
  auto probe = fire(pto_at);
  ASSERT_EQ(probe.action, TimeoutOutcome::Action::send_probes);
  const std::uint64_t probe_pn = send(pto_at);
  // The probe's ACK: the tail was sent a PTO period plus an RTT ago, more than the widened
  // threshold of 3 RTTs (150 ms), so it is found lost at once.
  EXPECT_GT(pto_at + 50ms - (t + 4ms), ld_.loss_delay(rtt_));
  out = ack({{probe_pn, probe_pn}, {last - 4, last - 1}}, pto_at + 50ms);
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{last}));
  EXPECT_TRUE(out.spurious_losses.empty());
}

TEST_F(ReorderingTest, LateAckOfOnlyLostPacketsIsValidButNoNewAcknowledgement) {
  for (int i = 0; i < 5; ++i) send(t0);
  auto out = ack({{3, 4}}, t0 + 50ms);
  EXPECT_EQ(numbers(out.lost), (std::vector<std::uint64_t>{0, 1}));
  fire(*ld_.timeout());  // 2 goes by the time rule
  ASSERT_EQ(ld_.sent_packets().outstanding().size(), 0u);
  send(t0 + 100ms);  // 5, then a PTO
  fire(*ld_.timeout());
  ASSERT_EQ(ld_.pto_count(), 1u);

  out = ack({{0, 4}}, t0 + 200ms);
  EXPECT_TRUE(out.acked.empty());
  EXPECT_FALSE(out.rtt_sample.has_value());
  EXPECT_EQ(out.spurious_losses, (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(ld_.packet_threshold(), 5u);  // 0 was declared lost when 4 was acknowledged
  EXPECT_EQ(ld_.pto_count(), 1u);        // nothing new acknowledged: the backoff stays
}

TEST_F(ReorderingTest, NeverSentAndSkippedNumbersAreStillViolations) {
  // Enough packets for a deliberate skip (one every 128..256 numbers).
  for (int i = 0; i < 300; ++i) send(t0 + i * 10us);
  ASSERT_FALSE(ld_.sent_packets().skipped().empty());
  const std::uint64_t skipped = ld_.sent_packets().skipped().front();
  const std::uint64_t largest = *ld_.sent_packets().largest_sent();
  auto out = ack({{largest, largest}}, t0 + 50ms);
  ASSERT_EQ(out.lost.size(), 297u);  // 0..largest-3 minus the skipped number

  const auto violation = make_error_code(errc::protocol_violation);
  // Covers a declared-lost number and the skipped one: the whole ACK is refused, nothing learned.
  auto r = ld_.on_ack_received(ack_of({{skipped - 1, skipped + 1}}), t0 + 60ms, rtt_);
  EXPECT_EQ(r.error(), violation);
  r = ld_.on_ack_received(ack_of({{largest + 1, largest + 1}, {skipped + 1, skipped + 1}}), t0 + 60ms, rtt_);
  EXPECT_EQ(r.error(), violation);
  EXPECT_EQ(ld_.spurious_loss_count(), 0u);
  EXPECT_EQ(ld_.packet_threshold(), 3u);
  EXPECT_EQ(ld_.time_threshold_num(), 9);

  // The same declared-lost numbers, acknowledged without the lie, are simply late.
  out = ack({{skipped + 1, skipped + 1}, {skipped - 1, skipped - 1}}, t0 + 70ms);
  EXPECT_EQ(out.spurious_losses, (std::vector<std::uint64_t>{skipped - 1, skipped + 1}));
  // Only the last 256 declared losses are remembered: a late ACK of an older one is accepted
  // but teaches nothing (memory stays bounded).
  out = ack({{0, 0}}, t0 + 80ms);
  EXPECT_TRUE(out.spurious_losses.empty());
  EXPECT_EQ(ld_.spurious_loss_count(), 2u);
}

TEST_F(ReorderingTest, FixedThresholdsWhenAdaptationIsOff) {
  ld_ = LossDetection(LossDetectionConfig{.adaptive_reordering = false, .peer_validated_address = true});
  ld_.on_handshake_confirmed(t0, rtt_);
  for (int i = 0; i < 5; ++i) send(t0);
  EXPECT_EQ(ack({{4, 4}}, t0 + 50ms).lost.size(), 2u);
  auto out = ack({{0, 4}}, t0 + 51ms);
  EXPECT_TRUE(out.spurious_losses.empty());
  EXPECT_EQ(ld_.packet_threshold(), 3u);
  EXPECT_EQ(ld_.time_threshold_num(), 9);
}

}  // namespace
}  // namespace srudp::transport
