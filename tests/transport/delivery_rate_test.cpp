#include "transport/delivery_rate.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace srudp::transport {
namespace {

using std::chrono::milliseconds;

constexpr std::uint64_t kSize = 1200;
const Instant t0 = Instant{} + std::chrono::seconds(100);

struct Packet {
  Instant sent;
  DeliverySnapshot snapshot;
};

// The estimator plus the bytes in flight the caller (SentPackets) tracks for it.
struct Sender {
  DeliveryRateEstimator estimator;
  std::uint64_t in_flight = 0;

  Packet send(Instant now) {
    Packet p{now, estimator.on_packet_sent(now, in_flight)};
    in_flight += kSize;
    return p;
  }
  std::optional<RateSample> ack(Instant now, const Packet& p) {
    in_flight -= kSize;
    return estimator.on_packet_acked(now, p.snapshot, p.sent, kSize);
  }
};

TEST(DeliveryRate, FirstPacketMeasuresItsOwnRoundTrip) {
  Sender s;
  const Packet p = s.send(t0);
  EXPECT_EQ(p.snapshot.delivered, 0u);
  EXPECT_EQ(p.snapshot.delivered_time, t0);
  EXPECT_EQ(p.snapshot.first_sent_time, t0);
  EXPECT_FALSE(p.snapshot.is_app_limited);

  const auto rs = s.ack(t0 + milliseconds(20), p);
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->delivered_bytes, kSize);
  EXPECT_EQ(rs->prior_delivered, 0u);
  EXPECT_EQ(rs->delivered, kSize);
  EXPECT_EQ(rs->send_elapsed, Duration::zero());
  EXPECT_EQ(rs->ack_elapsed, milliseconds(20));
  EXPECT_EQ(rs->interval, milliseconds(20));
  EXPECT_EQ(rs->bytes_per_second(), 60'000u);  // 1200 bytes per 20 ms
  EXPECT_EQ(s.estimator.delivered(), kSize);
}

// ACKs bunched together on the way back (ACK compression) would suggest a rate the packets were
// never sent at: the send interval bounds the sample instead.
TEST(DeliveryRate, CompressedAcksAreBoundedByTheSendInterval) {
  Sender s;
  std::deque<Packet> packets;
  // Ten packets 2 ms apart; the first is acknowledged at 20 ms, the other nine together at 40 ms.
  for (int i = 0; i < 10; ++i) packets.push_back(s.send(t0 + milliseconds(2 * i)));
  ASSERT_TRUE(s.ack(t0 + milliseconds(20), packets[0]));
  std::optional<RateSample> last;
  for (int i = 1; i < 10; ++i) last = s.ack(t0 + milliseconds(40), packets[static_cast<std::size_t>(i)]);
  ASSERT_TRUE(last);
  // Packet 9 was sent at 18 ms with nothing acknowledged yet: 10 packets over max(18, 40) ms.
  EXPECT_EQ(last->send_elapsed, milliseconds(18));
  EXPECT_EQ(last->ack_elapsed, milliseconds(40));
  EXPECT_EQ(last->interval, milliseconds(40));
  EXPECT_EQ(last->delivered_bytes, 10 * kSize);
}

// A packet sent long after the ACK that stamped its snapshot: the send interval is the longer one
// (the sender, not the path, was slow), and it bounds the sample.
TEST(DeliveryRate, SlowSendingIsMeasuredOverTheSendInterval) {
  Sender s;
  const Packet p0 = s.send(t0);
  const Packet p1 = s.send(t0 + milliseconds(1));
  ASSERT_TRUE(s.ack(t0 + milliseconds(10), p0));  // delivered 1200 at 10 ms; first_sent = 0 ms
  const Packet p2 = s.send(t0 + milliseconds(10));
  ASSERT_TRUE(s.ack(t0 + milliseconds(11), p1));  // delivered 2400 at 11 ms; first_sent = 1 ms
  const Packet p3 = s.send(t0 + milliseconds(40));
  EXPECT_EQ(p3.snapshot.delivered, 2 * kSize);
  EXPECT_EQ(p3.snapshot.delivered_time, t0 + milliseconds(11));
  EXPECT_EQ(p3.snapshot.first_sent_time, t0 + milliseconds(1));
  ASSERT_TRUE(s.ack(t0 + milliseconds(20), p2));
  const auto rs = s.ack(t0 + milliseconds(41), p3);
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->delivered_bytes, 2 * kSize);  // p2 and p3
  EXPECT_EQ(rs->send_elapsed, milliseconds(39));
  EXPECT_EQ(rs->ack_elapsed, milliseconds(30));
  EXPECT_EQ(rs->interval, milliseconds(39));
}

// A steady paced flow through a fixed-delay path measures exactly its sending rate.
TEST(DeliveryRate, SteadyFlowMeasuresItsRate) {
  Sender s;
  std::deque<Packet> flight;
  const Duration spacing = std::chrono::microseconds(500);  // 1200 bytes / 0.5 ms = 2.4 MB/s
  const Duration rtt = milliseconds(30);
  Instant now = t0;
  std::uint64_t samples = 0;
  for (int i = 0; i < 400; ++i) {
    now = t0 + i * spacing;
    while (!flight.empty() && flight.front().sent + rtt <= now) {
      const auto rs = s.ack(flight.front().sent + rtt, flight.front());
      flight.pop_front();
      ASSERT_TRUE(rs);
      if (rs->prior_delivered > 0) {
        EXPECT_NEAR(static_cast<double>(rs->bytes_per_second()), 2.4e6, 2.4e6 * 0.01) << i;
        ++samples;
      }
    }
    flight.push_back(s.send(now));
  }
  EXPECT_GT(samples, 250u);  // all but those sent before the first ACK (prior_delivered 0)
}

// The draft's rule: marked from the moment the sender runs dry until more than what was delivered
// or in flight then has been delivered, i.e. until the first packet sent app-limited arrives.
TEST(DeliveryRate, AppLimitedMarksUntilTheBubbleIsDelivered) {
  Sender s;
  const Packet first = s.send(t0);
  const Packet second = s.send(t0 + milliseconds(1));
  s.estimator.on_app_limited(s.in_flight);
  EXPECT_TRUE(s.estimator.is_app_limited());
  const Packet marked = s.send(t0 + milliseconds(2));
  EXPECT_TRUE(marked.snapshot.is_app_limited);

  auto rs = s.ack(t0 + milliseconds(20), first);
  ASSERT_TRUE(rs);
  EXPECT_FALSE(rs->is_app_limited);  // sent before the sender ran dry
  rs = s.ack(t0 + milliseconds(21), second);
  ASSERT_TRUE(rs);
  EXPECT_FALSE(rs->is_app_limited);
  EXPECT_TRUE(s.estimator.is_app_limited());  // the bubble is still in the network
  const Packet also_marked = s.send(t0 + milliseconds(21));
  EXPECT_TRUE(also_marked.snapshot.is_app_limited);

  rs = s.ack(t0 + milliseconds(22), marked);
  ASSERT_TRUE(rs);
  EXPECT_TRUE(rs->is_app_limited);
  EXPECT_FALSE(s.estimator.is_app_limited());  // gone
  const Packet unmarked = s.send(t0 + milliseconds(22));
  EXPECT_FALSE(unmarked.snapshot.is_app_limited);

  rs = s.ack(t0 + milliseconds(41), also_marked);
  ASSERT_TRUE(rs);
  EXPECT_TRUE(rs->is_app_limited);
  rs = s.ack(t0 + milliseconds(42), unmarked);
  ASSERT_TRUE(rs);
  EXPECT_FALSE(rs->is_app_limited);
}

TEST(DeliveryRate, AppLimitedWithNothingInFlightMarksTheNextPacket) {
  Sender s;
  s.estimator.on_app_limited(0);
  const Packet p = s.send(t0);
  EXPECT_TRUE(p.snapshot.is_app_limited);
  const auto rs = s.ack(t0 + milliseconds(10), p);
  ASSERT_TRUE(rs);
  EXPECT_TRUE(rs->is_app_limited);
  EXPECT_FALSE(s.estimator.is_app_limited());
}

// After an idle period the intervals restart at the first send: the idle time is not counted as
// delivery time (which would understate the rate).
TEST(DeliveryRate, IdleRestartsTheIntervals) {
  Sender s;
  ASSERT_TRUE(s.ack(t0 + milliseconds(20), s.send(t0)));
  const Instant later = t0 + std::chrono::seconds(5);
  const Packet p = s.send(later);
  EXPECT_EQ(p.snapshot.delivered_time, later);
  EXPECT_EQ(p.snapshot.first_sent_time, later);
  const auto rs = s.ack(later + milliseconds(20), p);
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->interval, milliseconds(20));
  EXPECT_EQ(rs->delivered_bytes, kSize);
}

TEST(DeliveryRate, ZeroIntervalGivesNoSample) {
  Sender s;
  const Packet p = s.send(t0);
  EXPECT_FALSE(s.ack(t0, p));
  EXPECT_EQ(s.estimator.delivered(), kSize);  // delivered all the same
}

TEST(DeliveryRate, EmptySampleHasNoRate) {
  EXPECT_EQ(RateSample{}.bytes_per_second(), 0u);
  RateSample huge;
  huge.delivered_bytes = ~std::uint64_t{0};
  huge.interval = Duration(1);
  EXPECT_EQ(huge.bytes_per_second(), ~std::uint64_t{0});  // saturates
}

}  // namespace
}  // namespace srudp::transport
