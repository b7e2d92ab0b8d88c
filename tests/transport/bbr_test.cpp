#include "transport/bbr.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <set>
#include <vector>

#include "common/random.hpp"
#include "transport/delivery_rate.hpp"

namespace srudp::transport {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uint64_t kMss = 1200;
const Instant t0 = Instant{} + seconds(100);

// ---------------------------------------------------------------------------------------------
// Driving Bbr directly with made-up rate samples.

// An ACK of a packet sent 20 ms earlier whose sample shows `rate` bytes/s over 100 ms; delivered
// counters as given (a sample whose prior_delivered reaches the round's end starts a new round).
AckedPacket acked_at(Instant now, std::uint64_t prior_delivered, std::uint64_t delivered, std::uint64_t rate,
                     bool app_limited = false) {
  RateSample rs;
  rs.interval = milliseconds(100);
  rs.delivered_bytes = rate / 10;
  rs.prior_delivered = prior_delivered;
  rs.delivered = delivered;
  rs.is_app_limited = app_limited;
  return AckedPacket{0, now - milliseconds(20), kMss, rs};
}

// Feeds one ACK per round (each ACK's packet was sent after the previous round ended).
class RoundFeeder {
 public:
  explicit RoundFeeder(Bbr& bbr) : bbr_(bbr) {}
  void round(std::uint64_t rate, std::uint64_t bytes_in_flight, bool app_limited = false) {
    now_ += milliseconds(20);
    const std::uint64_t prior = delivered_;
    delivered_ += kMss;
    bbr_.on_ack(now_, acked_at(now_, prior, delivered_, rate, app_limited), rtt_, bytes_in_flight, false);
  }
  Instant now() const { return now_; }
  RttEstimator& rtt() { return rtt_; }

 private:
  Bbr& bbr_;
  Instant now_ = t0;
  std::uint64_t delivered_ = 0;
  RttEstimator rtt_;
};

TEST(Bbr, StartsInStartupWithTheInitialWindowAndHighPacing) {
  const auto cc = make_congestion_controller(CongestionAlgorithm::bbr, kMss);
  EXPECT_EQ(cc->name(), "bbr");
  Bbr bbr(kMss);
  EXPECT_EQ(bbr.mode(), Bbr::Mode::startup);
  EXPECT_EQ(bbr.congestion_window(), CongestionController::initial_window(kMss));
  EXPECT_EQ(bbr.ssthresh(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_TRUE(bbr.in_slow_start());
  EXPECT_FALSE(bbr.in_recovery(t0));
  EXPECT_EQ(bbr.bandwidth(), 0u);
  EXPECT_FALSE(bbr.min_rtt());
  // 2.77 * 12000 bytes per 333 ms (the RTT assumed before a sample).
  RttEstimator rtt;
  EXPECT_NEAR(static_cast<double>(bbr.pacing_rate_bytes_per_sec(rtt)), 2.77 * 12000 / 0.333, 1.0);
}

TEST(Bbr, StartupEndsAfterThreeRoundsWithoutGrowthThenDrainsToOneBdp) {
  Bbr bbr(kMss);
  RoundFeeder feed(bbr);
  // Doubling every round: startup continues.
  for (std::uint64_t rate : {100'000u, 200'000u, 400'000u, 800'000u, 1'000'000u}) {
    feed.round(rate, 10'000);
    EXPECT_EQ(bbr.mode(), Bbr::Mode::startup) << rate;
  }
  EXPECT_EQ(bbr.bandwidth(), 1'000'000u);
  // 1.0 MB/s is less than 25% above 0.8 MB/s: the first of three rounds without growth.
  feed.round(1'100'000, 10'000);
  EXPECT_EQ(bbr.mode(), Bbr::Mode::startup);
  // App-limited rounds do not count (the sender, not the path, held the rate).
  feed.round(1'000'000, 10'000, true);
  feed.round(1'000'000, 10'000, true);
  EXPECT_EQ(bbr.mode(), Bbr::Mode::startup);
  feed.round(1'100'000, 10'000);
  EXPECT_EQ(bbr.mode(), Bbr::Mode::startup);
  EXPECT_FALSE(bbr.full_bandwidth_reached());
  // Third round: the pipe is full. In flight (100 kB) is above one BDP (1.1 MB/s * 20 ms + 3
  // packets = 25.6 kB), so the queue drains first at the low gain.
  feed.round(1'100'000, 100'000);
  EXPECT_TRUE(bbr.full_bandwidth_reached());
  EXPECT_EQ(bbr.mode(), Bbr::Mode::drain);
  EXPECT_FALSE(bbr.in_slow_start());
  EXPECT_DOUBLE_EQ(bbr.pacing_gain(), Bbr::kDrainPacingGain);
  EXPECT_EQ(bbr.ssthresh(), bbr.target_inflight(1.0));
  EXPECT_EQ(bbr.target_inflight(1.0), 1'100'000u * 20 / 1000 + 3 * kMss);
  feed.round(1'100'000, 30'000);
  EXPECT_EQ(bbr.mode(), Bbr::Mode::drain);
  // Down to one BDP: probe_bw, in any phase but the draining one.
  feed.round(1'100'000, 20'000);
  EXPECT_EQ(bbr.mode(), Bbr::Mode::probe_bw);
  EXPECT_NE(bbr.cycle_index(), 1u);
  EXPECT_DOUBLE_EQ(bbr.pacing_gain(), Bbr::kProbeBwGains[bbr.cycle_index()]);
  EXPECT_EQ(bbr.pacing_rate_bytes_per_sec(feed.rtt()),
            static_cast<std::uint64_t>(bbr.pacing_gain() * 1'100'000 * Bbr::kPacingMargin));
}

TEST(Bbr, BandwidthIsTheMaximumOfTheLastTenRounds) {
  Bbr bbr(kMss);
  RoundFeeder feed(bbr);
  feed.round(1'000'000, 10'000);
  for (int i = 0; i < 9; ++i) feed.round(400'000, 10'000);
  EXPECT_EQ(bbr.bandwidth(), 1'000'000u);  // round 1 is still within the 10-round window
  feed.round(400'000, 10'000);
  feed.round(400'000, 10'000);
  EXPECT_EQ(bbr.bandwidth(), 400'000u);  // expired
  // A higher sample takes over at once.
  feed.round(500'000, 10'000);
  EXPECT_EQ(bbr.bandwidth(), 500'000u);
}

TEST(Bbr, AppLimitedSamplesOnlyRaiseTheEstimate) {
  Bbr bbr(kMss);
  RoundFeeder feed(bbr);
  feed.round(1'000'000, 10'000);
  for (int i = 0; i < 20; ++i) feed.round(100'000, 10'000, true);
  EXPECT_EQ(bbr.bandwidth(), 1'000'000u);
  feed.round(1'200'000, 10'000, true);
  EXPECT_EQ(bbr.bandwidth(), 1'200'000u);
}

TEST(Bbr, SamplesShorterThanTheMinRttAreIgnored) {
  Bbr bbr(kMss);
  RoundFeeder feed(bbr);
  feed.round(1'000'000, 10'000);  // min_rtt 20 ms
  AckedPacket acked = acked_at(feed.now() + milliseconds(1), kMss, 2 * kMss, 0);
  acked.rate_sample->interval = milliseconds(10);
  acked.rate_sample->delivered_bytes = 100'000;  // 10 MB/s over 10 ms: a reordering artefact
  bbr.on_ack(feed.now() + milliseconds(1), acked, feed.rtt(), 10'000, false);
  EXPECT_EQ(bbr.bandwidth(), 1'000'000u);
}

// One ACK frame acknowledging several packets moves the model once, as Linux's per-ACK update
// does: on the rate sample of the most recently sent of them (an older packet's sample, here a
// higher one, does not count), the RTT of that packet, and the bytes all of them delivered.
TEST(Bbr, AnAckOfManyPacketsMovesTheModelOnceOnTheNewestSample) {
  Bbr bbr(kMss);
  RoundFeeder feed(bbr);
  feed.round(1'000'000, 10'000);
  const std::uint64_t window = bbr.congestion_window();
  const Instant now = feed.now() + milliseconds(20);
  std::vector<AckedPacket> acked;
  acked.push_back(acked_at(now, kMss, 2 * kMss, 3'000'000));  // sent first, the highest rate
  acked.push_back(acked_at(now, kMss, 3 * kMss, 1'500'000));
  acked.push_back(acked_at(now, kMss, 4 * kMss, 1'200'000));  // sent last: the one sample used
  acked.back().sent_time = now - milliseconds(15);
  bbr.on_acks(now, acked, feed.rtt(), 10'000, false);
  EXPECT_EQ(bbr.bandwidth(), 1'200'000u);
  EXPECT_EQ(bbr.min_rtt(), milliseconds(15));
  // Startup: the window grows by everything acknowledged.
  EXPECT_EQ(bbr.congestion_window(), window + 3 * kMss);
}

// Like Linux: the first window's worth of ACKs grows the window as slow start would, then the
// window waits for a model that never comes.
TEST(Bbr, WithoutRateSamplesTheWindowStopsAfterTheFirstFlight) {
  Bbr bbr(kMss);
  RttEstimator rtt;
  Instant now = t0;
  std::uint64_t after_first_flight = 0;
  for (int i = 0; i < 100; ++i) {
    now += milliseconds(1);
    bbr.on_ack(now, AckedPacket{0, now - milliseconds(20), kMss, std::nullopt}, rtt, 0, false);
    if (i == 9) after_first_flight = bbr.congestion_window();
  }
  EXPECT_EQ(bbr.bandwidth(), 0u);
  EXPECT_LT(after_first_flight, 2 * CongestionController::initial_window(kMss));
  EXPECT_EQ(bbr.congestion_window(), after_first_flight);
  EXPECT_GE(bbr.pacing_rate_bytes_per_sec(rtt), 1u);
}

TEST(Bbr, LossDoesNotReduceButPersistentCongestionCollapses) {
  Bbr bbr(kMss);
  RoundFeeder feed(bbr);
  for (int i = 0; i < 10; ++i) feed.round(1'000'000, 10'000);
  const std::uint64_t cwnd = bbr.congestion_window();
  const std::uint64_t pacing = bbr.pacing_rate_bytes_per_sec(feed.rtt());
  const Instant now = feed.now();
  bbr.on_congestion_event(now, now - milliseconds(5), false, feed.rtt());
  EXPECT_EQ(bbr.congestion_window(), cwnd);
  EXPECT_EQ(bbr.pacing_rate_bytes_per_sec(feed.rtt()), pacing);
  // A recovery period is still kept, for callers counting congestion events.
  EXPECT_TRUE(bbr.in_recovery(now - milliseconds(5)));
  EXPECT_TRUE(bbr.in_recovery(now));
  EXPECT_FALSE(bbr.in_recovery(now + milliseconds(1)));
  bbr.on_spurious_congestion(now);
  EXPECT_FALSE(bbr.in_recovery(now));

  bbr.on_congestion_event(now, now - milliseconds(5), true, feed.rtt());
  EXPECT_EQ(bbr.congestion_window(), Bbr::kMinPipeCwndPackets * kMss);
  EXPECT_EQ(bbr.bandwidth(), 1'000'000u);  // the model is kept
  // And the window grows back by what is acknowledged.
  feed.round(1'000'000, 0);
  EXPECT_EQ(bbr.congestion_window(), (Bbr::kMinPipeCwndPackets + 1) * kMss);
}

TEST(Bbr, LargerDatagramsRaiseTheMinimumWindow) {
  Bbr bbr(kMss);
  bbr.on_congestion_event(t0, t0, true, RttEstimator{});
  EXPECT_EQ(bbr.congestion_window(), 4 * kMss);
  bbr.on_max_datagram_size_changed(1452);
  EXPECT_EQ(bbr.max_datagram_size(), 1452u);
  EXPECT_EQ(bbr.congestion_window(), 4 * 1452u);
}

// ---------------------------------------------------------------------------------------------
// A paced sender with real rate samples over a modelled bottleneck: rate limit, tail-drop queue,
// then random loss, then a fixed propagation delay; every packet acknowledged on arrival. Losses
// are noticed when the ACK of the packet behind would arrive.

struct PathConfig {
  std::uint64_t rate_bytes_per_sec = 1'250'000;  // 10 Mbit/s
  Duration rtt = milliseconds(20);
  std::uint64_t queue_bytes = 1 << 30;  // effectively unlimited
  std::uint32_t loss_per_100k = 0;
  std::uint64_t app_bytes_per_sec = 0;  // 0: always has data
  // Non-zero: the receiver holds its ACKs and releases them together at multiples of this period
  // (delayed ACKs, batched processing), so they arrive in bursts.
  Duration ack_aggregation{};
};

class PathModel {
 public:
  explicit PathModel(PathConfig config) : config_(config), random_(7) {}

  // Runs until `end`, calling observe() after every ACK.
  template <class Observe>
  void run_until(Instant end, Observe observe) {
    while (now_ < end) {
      const std::optional<Instant> send_at = next_send_time();
      const std::optional<Instant> ack_at = flight_.empty() ? std::nullopt : std::optional(flight_.front().ack_at);
      if (!send_at && !ack_at) return;
      if (ack_at && (!send_at || *ack_at <= *send_at)) {
        now_ = *ack_at;
        on_ack();
        observe();
      } else {
        now_ = std::max(now_, *send_at);
        send();
      }
    }
  }
  void run_until(Instant end) {
    run_until(end, [] {});
  }

  Bbr& bbr() { return bbr_; }
  Instant now() const { return now_; }
  std::uint64_t delivered() const { return delivered_; }
  std::uint64_t in_flight() const { return in_flight_; }
  const RttEstimator& rtt() const { return rtt_; }
  Duration latest_rtt() const { return latest_rtt_; }
  void set_rate(std::uint64_t rate) { config_.rate_bytes_per_sec = rate; }
  void set_app_rate(std::uint64_t rate) {
    config_.app_bytes_per_sec = rate;
    app_origin_ = now_;
    app_base_ = app_sent_;
  }

 private:
  struct Packet {
    Instant sent;
    Instant ack_at;
    DeliverySnapshot snapshot;
    bool lost;
  };

  std::optional<Instant> next_send_time() {
    if (in_flight_ + kMss > bbr_.congestion_window()) return std::nullopt;
    if (config_.app_bytes_per_sec != 0) {
      // The application produces data at its own rate from app_origin_ on: send when a packet's
      // worth is available, and until then the sender is app-limited.
      const double rate = static_cast<double>(config_.app_bytes_per_sec);
      const double needed = static_cast<double>(app_sent_ - app_base_ + kMss);
      const Instant available =
          app_origin_ + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(needed / rate));
      if (available > now_) {
        estimator_.on_app_limited(in_flight_);
        return std::max(available, pacer_next_);
      }
    }
    return std::max(now_, pacer_next_);
  }

  void send() {
    const Duration serialization = Duration(kMss * 1'000'000'000 / config_.rate_bytes_per_sec);
    const Instant start = std::max(now_, link_free_);
    const std::uint64_t queued =
        static_cast<std::uint64_t>((start - now_).count()) * config_.rate_bytes_per_sec / 1'000'000'000;
    const bool tail_drop = queued + kMss > config_.queue_bytes;
    if (!tail_drop) link_free_ = start + serialization;
    const bool random_loss = random_.uniform(100'000) < config_.loss_per_100k;
    Instant ack_at = std::max(now_, link_free_) + config_.rtt;  // FIFO: losses surface in order
    if (config_.ack_aggregation != Duration::zero()) {
      const Duration period = config_.ack_aggregation;
      ack_at = t0 + ((ack_at - t0) + period - Duration(1)) / period * period;
    }
    flight_.push_back(Packet{now_, ack_at, estimator_.on_packet_sent(now_, in_flight_), tail_drop || random_loss});
    in_flight_ += kMss;
    app_sent_ += kMss;
    bbr_.on_packet_sent(now_, in_flight_, kMss, true);
    const std::uint64_t rate = bbr_.pacing_rate_bytes_per_sec(rtt_);
    pacer_next_ = std::max(pacer_next_, now_) + Duration(kMss * 1'000'000'000 / rate);
  }

  void on_ack() {
    const Packet p = flight_.front();
    flight_.pop_front();
    in_flight_ -= kMss;
    if (p.lost) {
      bbr_.on_congestion_event(now_, p.sent, false, rtt_);
      return;
    }
    latest_rtt_ = now_ - p.sent;
    rtt_.update(latest_rtt_, Duration::zero(), now_, true);
    const auto rs = estimator_.on_packet_acked(now_, p.snapshot, p.sent, kMss);
    bbr_.on_ack(now_, AckedPacket{0, p.sent, kMss, rs}, rtt_, in_flight_, false);
    delivered_ += kMss;
  }

  PathConfig config_;
  SeededRandom random_;
  Bbr bbr_{kMss};
  DeliveryRateEstimator estimator_;
  RttEstimator rtt_;
  std::deque<Packet> flight_;
  Instant now_ = t0;
  Instant pacer_next_ = t0;
  Instant link_free_ = t0;
  std::uint64_t in_flight_ = 0;
  std::uint64_t app_sent_ = 0;
  Instant app_origin_ = t0;
  std::uint64_t app_base_ = 0;
  std::uint64_t delivered_ = 0;
  Duration latest_rtt_{};
};

TEST(Bbr, FindsTheBottleneckAndSettlesInProbeBw) {
  PathModel path(PathConfig{});
  std::optional<std::uint64_t> exit_round;
  path.run_until(t0 + seconds(3), [&] {
    if (!exit_round && path.bbr().mode() != Bbr::Mode::startup) exit_round = path.bbr().round_count();
  });
  Bbr& bbr = path.bbr();
  EXPECT_EQ(bbr.mode(), Bbr::Mode::probe_bw);
  EXPECT_NEAR(static_cast<double>(bbr.bandwidth()), 1.25e6, 0.02 * 1.25e6);
  ASSERT_TRUE(bbr.min_rtt());
  EXPECT_GE(*bbr.min_rtt(), milliseconds(20));
  EXPECT_LE(*bbr.min_rtt(), milliseconds(21));
  // 12 kB to a 25 kB BDP: a few doubling rounds, then three to notice the plateau.
  ASSERT_TRUE(exit_round);
  EXPECT_LE(*exit_round, 12u);
  // The window is two BDPs (plus the allowance), as the model computes it.
  const std::uint64_t extra = (bbr.cycle_index() == 0 ? 2 * kMss : 0) + bbr.ack_aggregation_allowance();
  EXPECT_EQ(bbr.congestion_window(), bbr.target_inflight(Bbr::kCwndGain) + extra);
  EXPECT_NEAR(static_cast<double>(bbr.target_inflight(Bbr::kCwndGain)), 2 * 1.25e6 * 0.020 + 3 * kMss, 0.05 * 50'000);
  // Goodput over the 3 s, startup included.
  EXPECT_GT(static_cast<double>(path.delivered()) / 3, 0.9 * 1.25e6);
}

// The window's allowance for batching follows the pacing rate: 3 datagrams on a slow link, 3
// quanta of 64 KiB (what one GSO send carries) where the rate is a gigabyte per second and the
// sender and receiver work in batches, not packet by packet.
TEST(Bbr, BatchingAllowanceGrowsWithThePacingRate) {
  for (const auto& [rate, quantum] : {std::pair<std::uint64_t, std::uint64_t>{1'250'000, kMss},
                                      std::pair<std::uint64_t, std::uint64_t>{1'000'000'000, 65536 / kMss * kMss}}) {
    SCOPED_TRACE(rate);
    Bbr bbr(kMss);
    RoundFeeder feed(bbr);
    for (int i = 0; i < 20 && bbr.mode() != Bbr::Mode::probe_bw; ++i) feed.round(rate, 0);
    ASSERT_EQ(bbr.mode(), Bbr::Mode::probe_bw);
    EXPECT_EQ(bbr.send_quantum(), quantum);
    EXPECT_EQ(bbr.target_inflight(1.0), rate * 20 / 1000 + Bbr::kSendQuanta * quantum);  // min RTT 20 ms
  }
}

TEST(Bbr, ProbeBwCyclesThroughItsGainsOncePerMinRtt) {
  PathModel path(PathConfig{});
  path.run_until(t0 + seconds(2));
  ASSERT_EQ(path.bbr().mode(), Bbr::Mode::probe_bw);
  std::set<std::size_t> phases;
  std::uint64_t phase_changes = 0;
  std::size_t last = path.bbr().cycle_index();
  const Instant start = path.now();
  path.run_until(start + seconds(1), [&] {
    const Bbr& bbr = path.bbr();
    EXPECT_DOUBLE_EQ(bbr.pacing_gain(), Bbr::kProbeBwGains[bbr.cycle_index()]);
    phases.insert(bbr.cycle_index());
    if (bbr.cycle_index() != last) {
      EXPECT_EQ(bbr.cycle_index(), (last + 1) % Bbr::kProbeBwGains.size());
      last = bbr.cycle_index();
      ++phase_changes;
    }
  });
  EXPECT_EQ(phases.size(), Bbr::kProbeBwGains.size());
  // One phase per min_rtt (20 ms) or a little more: about 45 in a second.
  EXPECT_GE(phase_changes, 35u);
  EXPECT_LE(phase_changes, 50u);
}

TEST(Bbr, ProbeRttEveryTenSecondsHoldsFourPacketsFor200Ms) {
  PathModel path(PathConfig{});
  std::optional<Instant> entered, left;
  std::uint64_t cwnd_before = 0, max_cwnd_inside = 0;
  std::uint64_t cwnd_seen = 0;
  path.run_until(t0 + seconds(13), [&] {
    const Bbr& bbr = path.bbr();
    if (bbr.mode() == Bbr::Mode::probe_rtt) {
      if (!entered) {
        entered = path.now();
        cwnd_before = cwnd_seen;
      }
      max_cwnd_inside = std::max(max_cwnd_inside, bbr.congestion_window());
    } else if (entered && !left) {
      left = path.now();
      EXPECT_GE(bbr.congestion_window(), cwnd_before);  // restored
    }
    cwnd_seen = bbr.congestion_window();
  });
  ASSERT_TRUE(entered);
  ASSERT_TRUE(left);
  // The min_rtt sample that never got beaten was taken during startup, about 0.1 s in.
  EXPECT_GE(*entered - t0, seconds(10));
  EXPECT_LE(*entered - t0, seconds(11));
  EXPECT_EQ(max_cwnd_inside, Bbr::kMinPipeCwndPackets * kMss);
  // 200 ms from when in flight is down to 4 packets, and at least a round trip.
  EXPECT_GE(*left - *entered, Bbr::kProbeRttDuration);
  EXPECT_LE(*left - *entered, milliseconds(300));
  EXPECT_EQ(path.bbr().mode(), Bbr::Mode::probe_bw);
}

TEST(Bbr, OnePercentRandomLossDoesNotCutTheRate) {
  PathConfig config;
  config.loss_per_100k = 1000;
  PathModel path(config);
  path.run_until(t0 + seconds(1));
  const std::uint64_t delivered_before = path.delivered();
  path.run_until(t0 + seconds(6));
  const double goodput = static_cast<double>(path.delivered() - delivered_before) / 5;
  EXPECT_GT(goodput, 0.95 * 0.99 * 1.25e6);
  EXPECT_GT(static_cast<double>(path.bbr().bandwidth()), 0.95 * 0.99 * 1.25e6);
}

// A 100 Mbit/s path with a 1 ms RTT whose ACKs arrive in bursts every 4 ms: a window of 2 BDP
// (25 kB) would deliver at most 25 kB per burst, about 60% of the link. The allowance measures
// the bursts and adds them to the window.
TEST(Bbr, BurstsOfAcksWidenTheWindowToKeepTheLinkBusy) {
  PathConfig config;
  config.rate_bytes_per_sec = 12'500'000;
  config.rtt = milliseconds(1);
  config.ack_aggregation = milliseconds(4);
  PathModel path(config);
  path.run_until(t0 + seconds(1));
  const std::uint64_t delivered_before = path.delivered();
  path.run_until(t0 + seconds(3));
  const Bbr& bbr = path.bbr();
  ASSERT_EQ(bbr.mode(), Bbr::Mode::probe_bw);
  ASSERT_TRUE(bbr.min_rtt());
  EXPECT_LE(*bbr.min_rtt(), milliseconds(2));
  // A burst is 4 ms of the link, 50 kB; the window holds it on top of the model's target.
  EXPECT_GE(bbr.ack_aggregation_allowance(), 40'000u);
  EXPECT_LE(bbr.ack_aggregation_allowance(), bbr.congestion_window());
  const double goodput = static_cast<double>(path.delivered() - delivered_before) / 2;
  EXPECT_GT(goodput, 0.9 * 12.5e6);
}

// Without bursts there is nothing to allow for beyond a packet or two of jitter.
TEST(Bbr, SteadyAcksNeedNoAggregationAllowance) {
  PathModel path(PathConfig{});
  path.run_until(t0 + seconds(3));
  EXPECT_EQ(path.bbr().mode(), Bbr::Mode::probe_bw);
  EXPECT_LE(path.bbr().ack_aggregation_allowance(), 2 * kMss);
}

TEST(Bbr, KeepsTheQueueShortInADeepBuffer) {
  PathModel path(PathConfig{});  // unlimited queue
  path.run_until(t0 + seconds(1));
  double rtt_sum_ms = 0;
  std::uint64_t samples = 0;
  path.run_until(t0 + seconds(9), [&] {
    rtt_sum_ms += std::chrono::duration<double, std::milli>(path.latest_rtt()).count();
    ++samples;
  });
  ASSERT_GT(samples, 0u);
  // probe_bw keeps about one BDP in flight: the queue is what a 1.25 phase adds, briefly.
  EXPECT_LT(rtt_sum_ms / static_cast<double>(samples), 1.25 * 21.0);
}

TEST(Bbr, FollowsABandwidthDropWithinTheFilterWindow) {
  PathModel path(PathConfig{});
  path.run_until(t0 + seconds(2));
  ASSERT_NEAR(static_cast<double>(path.bbr().bandwidth()), 1.25e6, 0.02 * 1.25e6);
  path.set_rate(625'000);
  // Ten rounds at the inflated RTT a full queue briefly gives, then the estimate is the new rate.
  path.run_until(t0 + seconds(3));
  EXPECT_NEAR(static_cast<double>(path.bbr().bandwidth()), 625'000, 0.05 * 625'000);
}

// An application that slows down to a quarter of the link: its samples are app-limited and show
// what it offers, not what the path carries, so the estimate outlives the filter window.
TEST(Bbr, AppLimitedPeriodsKeepTheEstimate) {
  PathModel path(PathConfig{});
  path.run_until(t0 + seconds(2));
  const std::uint64_t link_estimate = path.bbr().bandwidth();
  ASSERT_NEAR(static_cast<double>(link_estimate), 1.25e6, 0.02 * 1.25e6);
  path.set_app_rate(300'000);
  const std::uint64_t rounds_before = path.bbr().round_count();
  const std::uint64_t delivered_before = path.delivered();
  path.run_until(t0 + seconds(4));
  EXPECT_GT(path.bbr().round_count(), rounds_before + 50);  // far beyond the 10-round window
  EXPECT_NEAR(static_cast<double>(path.delivered() - delivered_before) / 2, 300'000, 0.05 * 300'000);
  EXPECT_GE(path.bbr().bandwidth(), link_estimate * 95 / 100);
  // The window still has room for the full rate when the application speeds up again.
  EXPECT_GE(path.bbr().congestion_window(), 2 * 1'200'000 * 20 / 1000);
}

}  // namespace
}  // namespace srudp::transport
