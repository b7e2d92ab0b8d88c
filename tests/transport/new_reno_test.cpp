#include "transport/new_reno.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace srudp::transport {
namespace {

using std::chrono::milliseconds;

constexpr std::uint64_t kMss = 1200;
constexpr Duration kRtt = milliseconds(100);

RttEstimator steady_rtt() {
  RttEstimator rtt;
  rtt.update(kRtt, Duration::zero(), Instant{} + kRtt, true);
  return rtt;
}

// Sends one window of full-size datagrams at `start` and acknowledges all of them one RTT later,
// as one round trip of an ACK-clocked sender. Returns the time of the last ACK.
Instant run_round(CongestionController& cc, const RttEstimator& rtt, Instant start,
                  std::uint64_t& next_pn, bool app_limited = false) {
  const std::uint64_t packets = cc.congestion_window() / kMss;
  const std::uint64_t first = next_pn;
  for (std::uint64_t i = 0; i < packets; ++i) cc.on_packet_sent(start, (i + 1) * kMss, kMss, true);
  next_pn += packets;
  const Instant ack_time = start + kRtt;
  for (std::uint64_t i = 0; i < packets; ++i) {
    cc.on_ack(ack_time, AckedPacket{first + i, start, kMss, std::nullopt}, rtt,
              (packets - i - 1) * kMss, app_limited);
  }
  return ack_time;
}

TEST(NewReno, InitialAndMinimumWindowsFollowRfc9002) {
  EXPECT_EQ(CongestionController::initial_window(1200), 12000u);
  EXPECT_EQ(CongestionController::initial_window(1472), 14720u);
  EXPECT_EQ(CongestionController::initial_window(1500), 14720u);
  EXPECT_EQ(CongestionController::initial_window(9000), 18000u);
  EXPECT_EQ(CongestionController::minimum_window(1200), 2400u);

  NewReno cc(kMss);
  EXPECT_EQ(cc.congestion_window(), 12000u);
  EXPECT_EQ(cc.ssthresh(), UINT64_MAX);
  EXPECT_TRUE(cc.in_slow_start());
  EXPECT_EQ(cc.name(), "new_reno");
  EXPECT_EQ(cc.max_datagram_size(), kMss);
}

TEST(NewReno, SlowStartDoublesEveryRoundTrip) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  std::uint64_t pn = 0;
  Instant now = Instant{} + std::chrono::seconds(1);
  std::uint64_t expected = 12000;
  for (int round = 0; round < 6; ++round) {
    now = run_round(cc, rtt, now, pn);
    expected *= 2;
    EXPECT_EQ(cc.congestion_window(), expected) << "round " << round;
    EXPECT_TRUE(cc.in_slow_start());
  }
  EXPECT_EQ(cc.congestion_window(), 768000u);
}

TEST(NewReno, LossHalvesWindowAndEntersCongestionAvoidance) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  std::uint64_t pn = 0;
  const Instant start = Instant{} + std::chrono::seconds(1);
  Instant now = run_round(cc, rtt, start, pn);
  now = run_round(cc, rtt, now, pn);
  ASSERT_EQ(cc.congestion_window(), 48000u);

  // A packet of the third flight is lost and detected one RTT later.
  const Instant third_flight = now;
  const Instant detection = third_flight + kRtt;
  cc.on_congestion_event(detection, third_flight, false, rtt);
  EXPECT_EQ(cc.congestion_window(), 24000u);
  EXPECT_EQ(cc.ssthresh(), 24000u);
  EXPECT_FALSE(cc.in_slow_start());
  EXPECT_TRUE(cc.in_recovery(third_flight));
  EXPECT_TRUE(cc.in_recovery(detection));
  EXPECT_FALSE(cc.in_recovery(detection + Duration(1)));

  // ACKs for the rest of that flight (sent before recovery began) do not grow the window.
  for (std::uint64_t i = 0; i < 39; ++i) {
    cc.on_ack(detection + milliseconds(1), AckedPacket{pn + i, third_flight, kMss, std::nullopt},
              rtt, 0, false);
  }
  EXPECT_EQ(cc.congestion_window(), 24000u);
}

TEST(NewReno, OneReductionPerRecoveryPeriod) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  const Instant t0 = Instant{} + std::chrono::seconds(1);
  cc.on_congestion_event(t0 + kRtt, t0, false, rtt);
  EXPECT_EQ(cc.congestion_window(), 6000u);
  // More losses from the same flight, detected later: same congestion event.
  cc.on_congestion_event(t0 + kRtt + milliseconds(5), t0 + milliseconds(3), false, rtt);
  cc.on_congestion_event(t0 + 2 * kRtt, t0 + kRtt, false, rtt);
  EXPECT_EQ(cc.congestion_window(), 6000u);
  EXPECT_EQ(cc.ssthresh(), 6000u);
  // A loss of a packet sent after recovery started is a new event.
  cc.on_congestion_event(t0 + 3 * kRtt, t0 + kRtt + Duration(1), false, rtt);
  EXPECT_EQ(cc.congestion_window(), 3000u);
  EXPECT_EQ(cc.ssthresh(), 3000u);
  // Never below the minimum window, though ssthresh keeps halving.
  cc.on_congestion_event(t0 + 5 * kRtt, t0 + 4 * kRtt, false, rtt);
  EXPECT_EQ(cc.congestion_window(), 2400u);
  EXPECT_EQ(cc.ssthresh(), 1500u);
  cc.on_congestion_event(t0 + 7 * kRtt, t0 + 6 * kRtt, false, rtt);
  EXPECT_EQ(cc.congestion_window(), 2400u);
}

TEST(NewReno, CongestionAvoidanceAddsOneDatagramPerWindowAcknowledged) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  const Instant t0 = Instant{} + std::chrono::seconds(1);
  cc.on_packet_sent(t0, kMss, kMss, true);
  cc.on_congestion_event(t0 + kRtt, t0, false, rtt);
  ASSERT_EQ(cc.congestion_window(), 6000u);

  // Packets sent after the reduction: 5 ACKs of 1200 bytes make exactly one window.
  const Instant sent = t0 + kRtt + milliseconds(1);
  const Instant acked_at = sent + kRtt;
  std::uint64_t pn = 100;
  for (int i = 0; i < 4; ++i) cc.on_ack(acked_at, AckedPacket{pn++, sent, kMss, {}}, rtt, 0, false);
  EXPECT_EQ(cc.congestion_window(), 6000u);
  cc.on_ack(acked_at, AckedPacket{pn++, sent, kMss, {}}, rtt, 0, false);
  EXPECT_EQ(cc.congestion_window(), 7200u);

  // Byte counting is exact: partial packets accumulate without rounding loss.
  for (int i = 0; i < 7199; ++i) cc.on_ack(acked_at, AckedPacket{pn++, sent, 1, {}}, rtt, 0, false);
  EXPECT_EQ(cc.congestion_window(), 7200u);
  cc.on_ack(acked_at, AckedPacket{pn++, sent, 1, {}}, rtt, 0, false);
  EXPECT_EQ(cc.congestion_window(), 8400u);

  // Ten more full rounds: ten more datagrams, linearly.
  Instant now = acked_at;
  for (int round = 0; round < 10; ++round) now = run_round(cc, rtt, now, pn);
  EXPECT_EQ(cc.congestion_window(), 8400u + 10 * kMss);
  EXPECT_FALSE(cc.in_slow_start());
}

TEST(NewReno, PersistentCongestionCollapsesToMinimumWindow) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  std::uint64_t pn = 0;
  Instant now = Instant{} + std::chrono::seconds(1);
  for (int round = 0; round < 3; ++round) now = run_round(cc, rtt, now, pn);
  ASSERT_EQ(cc.congestion_window(), 96000u);

  cc.on_congestion_event(now + 3 * kRtt, now, true, rtt);
  EXPECT_EQ(cc.congestion_window(), 2400u);
  EXPECT_EQ(cc.ssthresh(), 48000u);
  EXPECT_TRUE(cc.in_slow_start());
  // The recovery period is forgotten: the next ACK regrows the window in slow start.
  cc.on_ack(now + 3 * kRtt, AckedPacket{pn, now + kRtt, kMss, {}}, rtt, 0, false);
  EXPECT_EQ(cc.congestion_window(), 3600u);
}

TEST(NewReno, AppLimitedAcksDoNotGrowTheWindow) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  std::uint64_t pn = 0;
  Instant now = Instant{} + std::chrono::seconds(1);
  now = run_round(cc, rtt, now, pn, /*app_limited=*/true);
  EXPECT_EQ(cc.congestion_window(), 12000u);  // slow start, but unused

  cc.on_congestion_event(now + kRtt, now, false, rtt);
  now += 2 * kRtt;
  ASSERT_EQ(cc.congestion_window(), 6000u);
  for (int round = 0; round < 5; ++round) now = run_round(cc, rtt, now, pn, true);
  EXPECT_EQ(cc.congestion_window(), 6000u);  // congestion avoidance, unused
  now = run_round(cc, rtt, now, pn, false);
  EXPECT_EQ(cc.congestion_window(), 7200u);
}

TEST(NewReno, PacingRateIsTwiceWindowPerRttInSlowStartThenOneAndAQuarter) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  // 2 * 12000 bytes / 0.1 s
  EXPECT_EQ(cc.pacing_rate_bytes_per_sec(rtt), 240000u);
  const Instant t0 = Instant{} + std::chrono::seconds(1);
  cc.on_congestion_event(t0 + kRtt, t0, false, rtt);
  // 1.25 * 6000 bytes / 0.1 s
  EXPECT_EQ(cc.pacing_rate_bytes_per_sec(rtt), 75000u);
  // Before any RTT sample the initial 333 ms is used: 1.25 * 6000 / 0.333 = 22522.5
  EXPECT_EQ(cc.pacing_rate_bytes_per_sec(RttEstimator{}), 22522u);
}

TEST(NewReno, DatagramSizeChangeKeepsTheMinimumWindow) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  const Instant t0 = Instant{} + std::chrono::seconds(1);
  for (int i = 0; i < 4; ++i) {
    cc.on_congestion_event(t0 + (2 * i + 1) * kRtt, t0 + 2 * i * kRtt, false, rtt);
  }
  ASSERT_EQ(cc.congestion_window(), 2400u);
  cc.on_max_datagram_size_changed(1452);
  EXPECT_EQ(cc.max_datagram_size(), 1452u);
  EXPECT_EQ(cc.congestion_window(), 2904u);
  // Absurd sizes are clamped rather than allowed to break the arithmetic.
  NewReno tiny(0);
  EXPECT_EQ(tiny.max_datagram_size(), 1u);
  EXPECT_EQ(tiny.congestion_window(), 10u);
  NewReno huge(UINT64_MAX);
  EXPECT_EQ(huge.max_datagram_size(), CongestionController::kMaxDatagramSizeLimit);
}

TEST(NewReno, WindowSaturatesInsteadOfOverflowing) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  const Instant t0 = Instant{} + std::chrono::seconds(1);
  for (int i = 0; i < 4; ++i) cc.on_ack(t0, AckedPacket{0, t0, UINT64_MAX, {}}, rtt, 0, false);
  EXPECT_EQ(cc.congestion_window(), CongestionController::kMaximumWindow);
  EXPECT_GT(cc.pacing_rate_bytes_per_sec(rtt), 0u);
}

TEST(NewReno, SpuriousReductionInSlowStartIsUndone) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  std::uint64_t pn = 0;
  Instant now = Instant{} + std::chrono::seconds(1);
  now = run_round(cc, rtt, now, pn);
  now = run_round(cc, rtt, now, pn);
  ASSERT_EQ(cc.congestion_window(), 48000u);
  const Instant flight = now;
  cc.on_congestion_event(flight + kRtt, flight, false, rtt);
  ASSERT_EQ(cc.congestion_window(), 24000u);

  cc.on_spurious_congestion(flight + kRtt + milliseconds(10));
  EXPECT_EQ(cc.congestion_window(), 48000u);
  EXPECT_EQ(cc.ssthresh(), UINT64_MAX);
  EXPECT_TRUE(cc.in_slow_start());
  EXPECT_FALSE(cc.in_recovery(flight));
  // ACKs of the flight sent before the (undone) reduction grow the window again.
  cc.on_ack(flight + kRtt + milliseconds(11), AckedPacket{pn, flight, kMss, {}}, rtt, 0, false);
  EXPECT_EQ(cc.congestion_window(), 49200u);
  // Undone once only: a second call changes nothing.
  cc.on_spurious_congestion(flight + kRtt + milliseconds(12));
  EXPECT_EQ(cc.congestion_window(), 49200u);
}

TEST(NewReno, UndoInCongestionAvoidanceRestoresThePreviousRecoveryPeriod) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  const Instant t0 = Instant{} + std::chrono::seconds(1);
  cc.on_congestion_event(t0 + kRtt, t0, false, rtt);  // a real loss: 12000 -> 6000
  std::uint64_t pn = 100;
  Instant now = t0 + kRtt + milliseconds(1);
  for (int round = 0; round < 3; ++round) now = run_round(cc, rtt, now, pn);
  ASSERT_EQ(cc.congestion_window(), 9600u);
  ASSERT_EQ(cc.ssthresh(), 6000u);
  // Some bytes towards the next datagram of growth, then a spurious reduction.
  cc.on_ack(now, AckedPacket{pn++, now - kRtt, kMss, {}}, rtt, 0, false);
  cc.on_congestion_event(now + kRtt, now, false, rtt);
  ASSERT_EQ(cc.congestion_window(), 4800u);
  ASSERT_EQ(cc.ssthresh(), 4800u);

  cc.on_spurious_congestion(now + kRtt + milliseconds(5));
  EXPECT_EQ(cc.congestion_window(), 9600u);
  EXPECT_EQ(cc.ssthresh(), 6000u);
  EXPECT_FALSE(cc.in_slow_start());
  EXPECT_TRUE(cc.in_recovery(t0 + kRtt));  // the real loss's period is back
  EXPECT_FALSE(cc.in_recovery(now));
  // The partial credit was restored too: 7 more ACKs complete the 9600-byte window.
  for (int i = 0; i < 6; ++i) cc.on_ack(now + kRtt, AckedPacket{pn++, now, kMss, {}}, rtt, 0, false);
  EXPECT_EQ(cc.congestion_window(), 9600u);
  cc.on_ack(now + kRtt, AckedPacket{pn++, now, kMss, {}}, rtt, 0, false);
  EXPECT_EQ(cc.congestion_window(), 10800u);
}

TEST(NewReno, NothingToUndoWithoutAReductionOrAfterPersistentCongestion) {
  NewReno fresh(kMss);
  fresh.on_spurious_congestion(Instant{} + std::chrono::seconds(1));
  EXPECT_EQ(fresh.congestion_window(), 12000u);
  EXPECT_EQ(fresh.ssthresh(), UINT64_MAX);

  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  const Instant t0 = Instant{} + std::chrono::seconds(1);
  cc.on_congestion_event(t0 + 4 * kRtt, t0, true, rtt);
  ASSERT_EQ(cc.congestion_window(), 2400u);
  cc.on_spurious_congestion(t0 + 5 * kRtt);
  EXPECT_EQ(cc.congestion_window(), 2400u);
  EXPECT_EQ(cc.ssthresh(), 6000u);
}

TEST(NewReno, UndoKeepsAWindowThatAlreadyRegrewBeyondTheSavedOne) {
  NewReno cc(kMss);
  const RttEstimator rtt = steady_rtt();
  const Instant t0 = Instant{} + std::chrono::seconds(1);
  cc.on_congestion_event(t0 + kRtt, t0, false, rtt);
  ASSERT_EQ(cc.congestion_window(), 6000u);
  // Congestion avoidance from 6000 until past the 12000 saved before the reduction.
  std::uint64_t pn = 0;
  Instant now = t0 + kRtt + milliseconds(1);
  while (cc.congestion_window() <= 12000u) now = run_round(cc, rtt, now, pn);
  const std::uint64_t grown = cc.congestion_window();
  cc.on_spurious_congestion(now);
  EXPECT_EQ(cc.congestion_window(), grown);
  EXPECT_EQ(cc.ssthresh(), UINT64_MAX);
}

}  // namespace
}  // namespace srudp::transport
