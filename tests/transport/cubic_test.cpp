#include "transport/cubic.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <vector>

namespace srudp::transport {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uint64_t kMss = 1200;
const Instant kStart = Instant{} + seconds(100);

RttEstimator steady_rtt(Duration rtt_value) {
  RttEstimator rtt;
  rtt.update(rtt_value, Duration::zero(), kStart, true);
  return rtt;
}

// An ACK-clocked bulk sender: a window of full-size datagrams is acknowledged per round trip, the
// ACKs evenly spaced, each for a packet sent exactly one RTT earlier.
class AckClock {
 public:
  AckClock(Cubic& cc, Duration rtt_value, Instant now)
      : cc_(cc), rtt_value_(rtt_value), rtt_(steady_rtt(rtt_value)), now_(now) {}

  void ack_one(bool app_limited = false) {
    const std::uint64_t packets = std::max<std::uint64_t>(cc_.congestion_window() / kMss, 1);
    now_ += rtt_value_ / static_cast<std::int64_t>(packets);
    cc_.on_ack(now_, AckedPacket{pn_++, now_ - rtt_value_, kMss, {}}, rtt_, 0, app_limited);
  }
  void run_until(Instant end, bool app_limited = false) {
    while (now_ < end) ack_one(app_limited);
  }
  void lose_now() { cc_.on_congestion_event(now_, now_ - rtt_value_ / 2, false, rtt_); }
  // After a loss, skip the round trip whose ACKs belong to the recovery period.
  void skip_recovery() { now_ += rtt_value_; }

  Instant now() const { return now_; }
  const RttEstimator& rtt() const { return rtt_; }

 private:
  Cubic& cc_;
  Duration rtt_value_;
  RttEstimator rtt_;
  Instant now_;
  std::uint64_t pn_ = 0;
};

// Grows a fresh controller in slow start to exactly `packets` datagrams, then loses one.
void grow_then_lose(Cubic& cc, std::uint64_t packets, Duration rtt_value, Instant at) {
  const RttEstimator rtt = steady_rtt(rtt_value);
  const std::uint64_t initial_packets = cc.congestion_window() / kMss;
  for (std::uint64_t i = initial_packets; i < packets; ++i) {
    cc.on_ack(at - milliseconds(1), AckedPacket{i, at - rtt_value, kMss, {}}, rtt, 0, false);
  }
  ASSERT_EQ(cc.congestion_window(), packets * kMss);
  cc.on_congestion_event(at, at - milliseconds(1), false, rtt);
}

double seconds_between(Instant from, Instant to) {
  return std::chrono::duration<double>(to - from).count();
}

double cwnd_of(const Cubic& cc) { return static_cast<double>(cc.congestion_window()); }

// W_cubic(t) = C * (t - K)^3 + W_max in bytes, computed independently of the implementation.
double expected_cubic(double w_max_bytes, double k, double t) {
  return 0.4 * kMss * std::pow(t - k, 3) + w_max_bytes;
}

TEST(Cubic, StartsInSlowStartAndDoublesPerRoundTrip) {
  Cubic cc(kMss);
  EXPECT_EQ(cc.name(), "cubic");
  EXPECT_EQ(cc.congestion_window(), 12000u);
  EXPECT_TRUE(cc.in_slow_start());
  const RttEstimator rtt = steady_rtt(milliseconds(50));
  std::uint64_t pn = 0;
  for (int round = 0; round < 3; ++round) {
    const std::uint64_t packets = cc.congestion_window() / kMss;
    for (std::uint64_t i = 0; i < packets; ++i) {
      cc.on_ack(kStart + round * milliseconds(50), AckedPacket{pn++, kStart, kMss, {}}, rtt, 0, false);
    }
  }
  EXPECT_EQ(cc.congestion_window(), 96000u);
  EXPECT_FALSE(cc.epoch_start().has_value());
}

TEST(Cubic, ReductionIsBetaSevenTenthsDownToTheMinimumWindow) {
  Cubic cc(kMss);
  grow_then_lose(cc, 1000, milliseconds(100), kStart);
  EXPECT_EQ(cc.congestion_window(), 840000u);
  EXPECT_EQ(cc.ssthresh(), 840000u);
  EXPECT_DOUBLE_EQ(cc.w_max(), 1200000.0);
  EXPECT_FALSE(cc.in_slow_start());

  Cubic small(kMss);
  const RttEstimator rtt = steady_rtt(milliseconds(100));
  const std::vector<std::uint64_t> expected = {8400, 5880, 4116, 2881, 2400, 2400};
  Instant t = kStart;
  for (std::uint64_t window : expected) {
    small.on_congestion_event(t + milliseconds(100), t, false, rtt);
    EXPECT_EQ(small.congestion_window(), window);
    t += seconds(1);
  }
}

TEST(Cubic, OneReductionPerRecoveryPeriod) {
  Cubic cc(kMss);
  const RttEstimator rtt = steady_rtt(milliseconds(100));
  cc.on_congestion_event(kStart + milliseconds(100), kStart, false, rtt);
  ASSERT_EQ(cc.congestion_window(), 8400u);
  cc.on_congestion_event(kStart + milliseconds(150), kStart + milliseconds(100), false, rtt);
  EXPECT_EQ(cc.congestion_window(), 8400u);
  // ACKs of packets sent before the reduction neither grow the window nor start an epoch.
  cc.on_ack(kStart + milliseconds(160), AckedPacket{1, kStart + milliseconds(50), kMss, {}}, rtt, 0, false);
  EXPECT_EQ(cc.congestion_window(), 8400u);
  EXPECT_FALSE(cc.epoch_start().has_value());
  EXPECT_TRUE(cc.in_recovery(kStart + milliseconds(100)));
  EXPECT_FALSE(cc.in_recovery(kStart + milliseconds(101)));
}

TEST(Cubic, WindowFollowsTheCubicCurveAfterALoss) {
  Cubic cc(kMss);
  const Duration rtt = milliseconds(100);
  grow_then_lose(cc, 1000, rtt, kStart);
  AckClock flow(cc, rtt, kStart + rtt);
  EXPECT_FALSE(cc.epoch_start().has_value());
  flow.ack_one();
  // The time origin is the first ACK of congestion avoidance, i.e. the end of the recovery period.
  ASSERT_TRUE(cc.epoch_start().has_value());
  const Instant epoch = *cc.epoch_start();
  EXPECT_EQ(epoch, flow.now());

  // K = cbrt(W_max * (1 - beta) / C) in segments: cbrt(1000 * 0.3 / 0.4) = cbrt(750) s.
  const double k = std::cbrt(750.0);
  EXPECT_NEAR(cc.k_seconds(), k, 1e-9);

  for (int s = 1; s <= 15; ++s) {
    flow.run_until(epoch + seconds(s));
    const double t = seconds_between(epoch, flow.now());
    // Aiming at W_cubic(t + RTT) and closing the gap over one window of ACKs keeps the window
    // within a fraction of a datagram of the curve (measured: < 0.1 MSS).
    EXPECT_NEAR(cwnd_of(cc), expected_cubic(1.2e6, k, t), 0.25 * kMss) << "t=" << t;
    EXPECT_NEAR(cc.cubic_window(flow.now() - epoch), expected_cubic(1.2e6, k, t), 1e-3);
    // Far from the Reno-friendly region here: W_est grows alpha_cubic datagrams per RTT.
    EXPECT_LT(cc.reno_estimate(), cwnd_of(cc) - 50 * kMss);
    const double rounds = t / 0.1;
    EXPECT_NEAR(cc.reno_estimate() - 840000.0, rounds * Cubic::kAlphaCubic * kMss,
                0.01 * rounds * Cubic::kAlphaCubic * kMss);
  }
}

TEST(Cubic, GrowthIsConcaveBeforeKThenConvex) {
  Cubic cc(kMss);
  const Duration rtt = milliseconds(100);
  grow_then_lose(cc, 1000, rtt, kStart);
  AckClock flow(cc, rtt, kStart + rtt);
  flow.ack_one();
  const Instant epoch = *cc.epoch_start();
  std::vector<double> window_at_second;
  for (int s = 0; s <= 16; ++s) {
    flow.run_until(epoch + seconds(s));
    window_at_second.push_back(cwnd_of(cc));
  }
  // K = 9.09 s: per-second growth shrinks up to t = 9 s and grows from t = 10 s on.
  for (std::size_t s = 1; s < 9; ++s) {
    const double before = window_at_second[s] - window_at_second[s - 1];
    const double after = window_at_second[s + 1] - window_at_second[s];
    EXPECT_GT(before, after) << "concave at " << s;
  }
  for (std::size_t s = 11; s < 16; ++s) {
    const double before = window_at_second[s] - window_at_second[s - 1];
    const double after = window_at_second[s + 1] - window_at_second[s];
    EXPECT_LT(before, after) << "convex at " << s;
  }
  // The plateau sits at the old maximum.
  EXPECT_NEAR(window_at_second[9], 1.2e6, 0.01 * 1.2e6);
  EXPECT_GT(window_at_second[16], 1.2e6);
}

TEST(Cubic, FastConvergenceLowersWmaxWhenLossComesBeforeThePreviousMaximum) {
  Cubic cc(kMss);
  const Duration rtt = milliseconds(100);
  grow_then_lose(cc, 1000, rtt, kStart);
  AckClock flow(cc, rtt, kStart + rtt);
  flow.ack_one();
  flow.run_until(*cc.epoch_start() + seconds(3));
  const std::uint64_t before = cc.congestion_window();
  ASSERT_LT(before, 1200000u);

  flow.lose_now();
  EXPECT_DOUBLE_EQ(cc.w_max(), static_cast<double>(before) * (1.0 + 0.7) / 2.0);
  EXPECT_EQ(cc.congestion_window(), before * 7 / 10);

  // The new epoch's K uses the lowered maximum: cbrt((0.85 - 0.7) * W / C) in segments.
  flow.skip_recovery();
  flow.ack_one();
  const double w = static_cast<double>(before) / kMss;
  const double cwnd_epoch = static_cast<double>(before * 7 / 10) / kMss;
  EXPECT_NEAR(cc.k_seconds(), std::cbrt((0.85 * w - cwnd_epoch) / 0.4), 1e-9);

  // A loss beyond the previous maximum keeps W_max at the window (no fast convergence).
  Cubic other(kMss);
  grow_then_lose(other, 100, rtt, kStart);
  AckClock other_flow(other, rtt, kStart + rtt);
  other_flow.ack_one();
  other_flow.run_until(*other.epoch_start() + seconds(8));  // K = cbrt(75) = 4.2 s
  const std::uint64_t above = other.congestion_window();
  ASSERT_GT(above, 120000u);
  other_flow.lose_now();
  EXPECT_DOUBLE_EQ(other.w_max(), static_cast<double>(above));
}

TEST(Cubic, RenoFriendlyRegionDominatesAtSmallBandwidthDelayProduct) {
  Cubic cc(kMss);
  const Duration rtt = milliseconds(1);
  grow_then_lose(cc, 20, rtt, kStart);
  ASSERT_EQ(cc.congestion_window(), 16800u);
  AckClock flow(cc, rtt, kStart + rtt);
  flow.ack_one();
  const Instant epoch = *cc.epoch_start();
  EXPECT_NEAR(cc.k_seconds(), std::cbrt(15.0), 1e-9);  // 20 * 0.3 / 0.4 segments

  // 20 round trips: W_est first gains alpha_cubic per RTT, then 1 per RTT once above the old window.
  flow.run_until(epoch + milliseconds(20));
  EXPECT_NEAR(cwnd_of(cc), cc.reno_estimate(), 1.0);
  EXPECT_GT(cc.reno_estimate(), 24000.0);
  EXPECT_GT(cwnd_of(cc), cc.cubic_window(flow.now() - epoch) + 5 * kMss);

  // Half a second (500 RTTs) later, still well short of K, the curve has barely moved while the
  // Reno-friendly window gained about a datagram per round trip.
  flow.run_until(epoch + milliseconds(500));
  const double cubic_now = cc.cubic_window(flow.now() - epoch);
  EXPECT_LT(cubic_now, 24000.0);
  EXPECT_NEAR(cwnd_of(cc), cc.reno_estimate(), 1.0);
  EXPECT_GT(cwnd_of(cc), 10 * cubic_now);
}

TEST(Cubic, GrowthPerAckIsBoundedByHalfTheAckedBytes) {
  // A 10 s RTT puts W_cubic(t + RTT) far above the window, so the 1.5 * cwnd target clamp decides.
  Cubic cc(kMss);
  const Duration rtt = seconds(10);
  grow_then_lose(cc, 10, rtt, kStart);
  ASSERT_EQ(cc.congestion_window(), 8400u);
  AckClock flow(cc, rtt, kStart + rtt);
  flow.ack_one();  // at t = 0 the Reno-friendly estimate is marginally ahead of the curve
  std::uint64_t previous = cc.congestion_window();
  for (int i = 0; i < 6; ++i) {
    flow.ack_one();
    const std::uint64_t now_window = cc.congestion_window();
    EXPECT_NEAR(static_cast<double>(now_window - previous), 0.5 * kMss, 1.0) << "ack " << i;
    previous = now_window;
  }
}

TEST(Cubic, PersistentCongestionCollapsesToTheMinimumWindow) {
  Cubic cc(kMss);
  const Duration rtt = milliseconds(100);
  grow_then_lose(cc, 100, rtt, kStart);
  AckClock flow(cc, rtt, kStart + rtt);
  flow.run_until(kStart + seconds(2));
  ASSERT_TRUE(cc.epoch_start().has_value());
  cc.on_congestion_event(flow.now(), flow.now() - milliseconds(10), true, flow.rtt());
  EXPECT_EQ(cc.congestion_window(), 2400u);
  EXPECT_TRUE(cc.in_slow_start());
  EXPECT_FALSE(cc.epoch_start().has_value());
  flow.ack_one();
  EXPECT_EQ(cc.congestion_window(), 3600u);
}

TEST(Cubic, AppLimitedAcksFreezeGrowthAndShiftTheCurve) {
  Cubic cc(kMss);
  const Duration rtt = milliseconds(100);
  grow_then_lose(cc, 1000, rtt, kStart);
  AckClock flow(cc, rtt, kStart + rtt);
  flow.ack_one();
  const Instant epoch = *cc.epoch_start();
  flow.run_until(epoch + seconds(2));
  const std::uint64_t frozen = cc.congestion_window();
  const Instant frozen_at = flow.now();

  flow.run_until(frozen_at + seconds(5), /*app_limited=*/true);
  EXPECT_EQ(cc.congestion_window(), frozen);
  const Duration paused = flow.now() - frozen_at;
  EXPECT_EQ(*cc.epoch_start() - epoch, paused);

  // Growth resumes on the same curve, just later: at 3 s of unpaused time it is at W_cubic(3).
  flow.run_until(*cc.epoch_start() + seconds(3));
  const double t = seconds_between(*cc.epoch_start(), flow.now());
  EXPECT_NEAR(cwnd_of(cc), expected_cubic(1.2e6, std::cbrt(750.0), t), 0.25 * kMss);
}

TEST(Cubic, IdlePeriodShiftsTheCurve) {
  Cubic cc(kMss);
  const Duration rtt = milliseconds(100);
  grow_then_lose(cc, 1000, rtt, kStart);
  AckClock flow(cc, rtt, kStart + rtt);
  flow.ack_one();
  const Instant epoch = *cc.epoch_start();
  flow.run_until(epoch + seconds(2));
  const Instant last_ack = flow.now();

  // A pure ACK sent while idle changes nothing; the first data packet after 10 s idle does.
  cc.on_packet_sent(last_ack + seconds(4), 0, 40, false);
  EXPECT_EQ(*cc.epoch_start(), epoch);
  cc.on_packet_sent(last_ack + seconds(10), kMss, kMss, true);
  EXPECT_EQ(*cc.epoch_start(), epoch + seconds(10));
  // Sends with data already in flight are not idle restarts.
  cc.on_packet_sent(last_ack + seconds(11), 2 * kMss, kMss, true);
  EXPECT_EQ(*cc.epoch_start(), epoch + seconds(10));
}

TEST(Cubic, FactoryAndPacingRate) {
  const auto cubic = make_congestion_controller(CongestionAlgorithm::cubic, kMss);
  const auto reno = make_congestion_controller(CongestionAlgorithm::new_reno, kMss);
  EXPECT_EQ(cubic->name(), "cubic");
  EXPECT_EQ(reno->name(), "new_reno");
  EXPECT_EQ(cubic->congestion_window(), 12000u);

  Cubic cc(kMss);
  const RttEstimator rtt = steady_rtt(milliseconds(100));
  EXPECT_EQ(cc.pacing_rate_bytes_per_sec(rtt), 240000u);  // 2 * 12000 / 0.1
  cc.on_congestion_event(kStart + milliseconds(100), kStart, false, rtt);
  EXPECT_EQ(cc.pacing_rate_bytes_per_sec(rtt), 105000u);  // 1.25 * 8400 / 0.1
}

// Grows `cc` to 100 datagrams, loses, and runs 3 s of congestion avoidance: mid-curve.
AckClock in_congestion_avoidance(Cubic& cc) {
  grow_then_lose(cc, 100, milliseconds(100), kStart);
  AckClock clock(cc, milliseconds(100), kStart);
  clock.skip_recovery();
  clock.run_until(kStart + seconds(3));
  return clock;
}

TEST(Cubic, SpuriousReductionRestoresWindowSsthreshAndTheCurve) {
  Cubic cc(kMss);
  AckClock clock = in_congestion_avoidance(cc);
  const std::uint64_t cwnd = cc.congestion_window();
  const std::uint64_t ssthresh = cc.ssthresh();
  const double w_max = cc.w_max();
  const double k = cc.k_seconds();
  const std::optional<Instant> epoch = cc.epoch_start();
  ASSERT_TRUE(epoch.has_value());
  ASSERT_LT(cwnd, 120000u);  // still below W_max: the loss would also apply fast convergence

  clock.lose_now();
  ASSERT_LT(cc.congestion_window(), cwnd);
  ASSERT_LT(cc.w_max(), w_max);
  cc.on_spurious_congestion(clock.now() + milliseconds(100));
  EXPECT_EQ(cc.congestion_window(), cwnd);
  EXPECT_EQ(cc.ssthresh(), ssthresh);
  EXPECT_DOUBLE_EQ(cc.w_max(), w_max);
  EXPECT_DOUBLE_EQ(cc.k_seconds(), k);
  EXPECT_EQ(cc.epoch_start(), epoch);
  EXPECT_FALSE(cc.in_recovery(clock.now()));

  // It continues as a twin that never saw the loss.
  Cubic twin(kMss);
  AckClock twin_clock = in_congestion_avoidance(twin);
  ASSERT_EQ(twin.congestion_window(), cwnd);
  clock.run_until(kStart + seconds(6));
  twin_clock.run_until(kStart + seconds(6));
  EXPECT_EQ(cc.congestion_window(), twin.congestion_window());
  EXPECT_DOUBLE_EQ(cc.w_max(), twin.w_max());
}

TEST(Cubic, SpuriousReductionInSlowStartReturnsToSlowStart) {
  Cubic cc(kMss);
  const RttEstimator rtt = steady_rtt(milliseconds(100));
  grow_then_lose(cc, 50, milliseconds(100), kStart);
  ASSERT_EQ(cc.congestion_window(), 42000u);
  cc.on_spurious_congestion(kStart + milliseconds(20));
  EXPECT_EQ(cc.congestion_window(), 60000u);
  EXPECT_TRUE(cc.in_slow_start());
  EXPECT_DOUBLE_EQ(cc.w_max(), 0.0);
  EXPECT_FALSE(cc.in_recovery(kStart - milliseconds(1)));
  cc.on_ack(kStart + milliseconds(30), AckedPacket{99, kStart - milliseconds(1), kMss, {}}, rtt, 0, false);
  EXPECT_EQ(cc.congestion_window(), 61200u);
  // Once only.
  cc.on_spurious_congestion(kStart + milliseconds(40));
  EXPECT_EQ(cc.congestion_window(), 61200u);
}

TEST(Cubic, NothingToUndoWithoutAReductionOrAfterPersistentCongestion) {
  Cubic fresh(kMss);
  fresh.on_spurious_congestion(kStart);
  EXPECT_EQ(fresh.congestion_window(), 12000u);
  EXPECT_EQ(fresh.ssthresh(), UINT64_MAX);

  Cubic cc(kMss);
  const RttEstimator rtt = steady_rtt(milliseconds(100));
  cc.on_congestion_event(kStart + seconds(1), kStart, true, rtt);
  ASSERT_EQ(cc.congestion_window(), 2400u);
  cc.on_spurious_congestion(kStart + seconds(2));
  EXPECT_EQ(cc.congestion_window(), 2400u);
  EXPECT_EQ(cc.ssthresh(), 8400u);
}

}  // namespace
}  // namespace srudp::transport
