#include "sim/link.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <vector>

#include "sim/epoch.hpp"

namespace srudp::sim {
namespace {

using namespace std::chrono_literals;

const SocketAddress kFrom = SocketAddress::v4(10, 0, 0, 1, 1000);
const SocketAddress kTo = SocketAddress::v4(10, 0, 0, 2, 2000);

Datagram datagram(std::size_t size, std::uint8_t fill = 0xa5) {
  return Datagram{kFrom, kTo, std::vector<std::uint8_t>(size, fill)};
}

Link::Result send(Link& link, Instant at, std::size_t size = 100) {
  return link.transmit(at, datagram(size));
}

constexpr int kPackets = 100000;

TEST(Link, IdealLinkPassesEverythingAtOnce) {
  Link link(LinkConfig{}, Rng(1));
  EXPECT_TRUE(link.config().is_ideal());
  const auto r = send(link, kEpoch);
  ASSERT_EQ(r.departures.size(), 1u);
  EXPECT_EQ(r.departures[0].at, kEpoch);
  EXPECT_EQ(r.departures[0].datagram, datagram(100));
  EXPECT_FALSE(r.dropped);
}

TEST(Link, RandomLossDropsAboutTheConfiguredFraction) {
  Link link(LinkConfig{.loss = 0.10}, Rng(2));
  int lost = 0;
  for (int i = 0; i < kPackets; ++i) lost += send(link, kEpoch).dropped ? 1 : 0;
  EXPECT_NEAR(lost, 10000, 500);  // ~5 standard deviations
  EXPECT_EQ(link.counters().dropped[DropCause::loss], static_cast<std::uint64_t>(lost));
  EXPECT_EQ(link.counters().sent, static_cast<std::uint64_t>(kPackets));
  EXPECT_EQ(link.counters().delivered, static_cast<std::uint64_t>(kPackets - lost));
}

// Mean length of runs of consecutive losses, and the overall loss rate.
struct LossRuns {
  double mean_run = 0;
  double rate = 0;
};
LossRuns measure_runs(Link& link) {
  int lost = 0, runs = 0, current = 0;
  for (int i = 0; i < kPackets; ++i) {
    if (send(link, kEpoch).dropped) {
      ++lost;
      ++current;
    } else if (current > 0) {
      ++runs;
      current = 0;
    }
  }
  if (current > 0) ++runs;
  return {runs > 0 ? static_cast<double>(lost) / runs : 0.0, static_cast<double>(lost) / kPackets};
}

TEST(Link, GilbertElliottLosesInBurstsOfTheExpectedLength) {
  // Mean bad-state sojourn 1/0.25 = 4 datagrams; stationary loss 0.01/(0.01+0.25) = 3.85%.
  Link bursty(LinkConfig{.burst = {.p_good_to_bad = 0.01, .p_bad_to_good = 0.25}}, Rng(3));
  const LossRuns b = measure_runs(bursty);
  EXPECT_NEAR(b.mean_run, 4.0, 0.4);
  EXPECT_NEAR(b.rate, 0.0385, 0.005);
  EXPECT_EQ(bursty.counters().dropped[DropCause::loss], 0u);
  EXPECT_GT(bursty.counters().dropped[DropCause::burst_loss], 0u);

  // The same average loss without memory gives runs barely longer than one.
  Link flat(LinkConfig{.loss = 0.0385}, Rng(3));
  const LossRuns f = measure_runs(flat);
  EXPECT_NEAR(f.rate, 0.0385, 0.005);
  EXPECT_LT(f.mean_run, 1.1);
}

TEST(Link, DuplicatesAboutTheConfiguredFraction) {
  Link link(LinkConfig{.duplicate = 0.05}, Rng(4));
  int copies = 0;
  for (int i = 0; i < kPackets; ++i) {
    const auto r = send(link, kEpoch);
    for (const auto& d : r.departures) EXPECT_EQ(d.datagram, datagram(100));
    copies += static_cast<int>(r.departures.size());
  }
  EXPECT_NEAR(copies - kPackets, 5000, 350);
  EXPECT_EQ(link.counters().duplicated, static_cast<std::uint64_t>(copies - kPackets));
}

TEST(Link, JitterStaysInRangeAndReorders) {
  Link link(LinkConfig{.delay = 10ms, .jitter = 5ms}, Rng(5));
  std::vector<Instant> arrivals;
  for (int i = 0; i < 1000; ++i) {
    const Instant sent = kEpoch + i * 1ms;
    const auto r = send(link, sent);
    ASSERT_EQ(r.departures.size(), 1u);
    EXPECT_GE(r.departures[0].at - sent, 10ms);
    EXPECT_LE(r.departures[0].at - sent, 15ms);
    arrivals.push_back(r.departures[0].at);
  }
  int overtaken = 0;
  for (std::size_t i = 1; i < arrivals.size(); ++i) overtaken += arrivals[i] < arrivals[i - 1];
  EXPECT_GT(overtaken, 100);  // ~40% of neighbours swap with 5 ms of jitter and 1 ms spacing

  Link steady(LinkConfig{.delay = 10ms}, Rng(5));
  Instant last{};
  for (int i = 0; i < 1000; ++i) {
    const Instant at = send(steady, kEpoch + i * 1ms).departures.at(0).at;
    EXPECT_GT(at, last);
    last = at;
  }
}

TEST(Link, ExplicitReorderingHoldsBackTheConfiguredFraction) {
  Link link(LinkConfig{.delay = 1ms, .reorder = 0.1, .reorder_delay = 7ms}, Rng(6));
  int held = 0;
  for (int i = 0; i < 10000; ++i) {
    const Duration d = send(link, kEpoch).departures.at(0).at - kEpoch;
    ASSERT_TRUE(d == 1ms || d == 8ms);
    held += d == 8ms;
  }
  EXPECT_NEAR(held, 1000, 150);
  EXPECT_EQ(link.counters().reordered, static_cast<std::uint64_t>(held));
}

TEST(Link, CorruptionFlipsExactlyOneBit) {
  Link always(LinkConfig{.corrupt = 1.0}, Rng(7));
  for (int i = 0; i < 2000; ++i) {
    const auto r = send(always, kEpoch, 1 + static_cast<std::size_t>(i % 50));
    const Datagram original = datagram(r.departures.at(0).datagram.bytes.size());
    int flipped = 0;
    for (std::size_t b = 0; b < original.bytes.size(); ++b) {
      flipped += std::popcount(
          static_cast<unsigned>(original.bytes[b] ^ r.departures[0].datagram.bytes[b]));
    }
    ASSERT_EQ(flipped, 1);
  }
  EXPECT_TRUE(send(always, kEpoch, 0).departures.at(0).datagram.bytes.empty());  // nothing to flip

  Link sometimes(LinkConfig{.corrupt = 0.1}, Rng(7));
  int corrupted = 0;
  for (int i = 0; i < 10000; ++i)
    corrupted += send(sometimes, kEpoch).departures.at(0).datagram != datagram(100);
  EXPECT_NEAR(corrupted, 1000, 150);
  EXPECT_EQ(sometimes.counters().corrupted, static_cast<std::uint64_t>(corrupted));
}

TEST(Link, RateLimitSpacesDatagramsBySerializationTime) {
  Link link(LinkConfig{.rate_bps = 10'000'000}, Rng(8));
  // 1200 payload + 28 header bytes = 9824 bits at 10 Mbit/s = 982.4 us each.
  for (int i = 1; i <= 20; ++i) {
    const auto r = send(link, kEpoch, 1200);
    ASSERT_EQ(r.departures.size(), 1u);
    EXPECT_EQ(r.departures[0].at - kEpoch, i * 982'400ns);
  }
  // An idle link starts serializing at once.
  EXPECT_EQ(send(link, kEpoch + 1s, 1200).departures.at(0).at, kEpoch + 1s + 982'400ns);
}

TEST(Link, FullQueueDropsTheTail) {
  Link link(LinkConfig{.delay = 5ms, .rate_bps = 10'000'000, .queue_bytes = 10 * 1228}, Rng(9));
  int accepted = 0;
  for (int i = 0; i < 30; ++i) accepted += send(link, kEpoch, 1200).dropped ? 0 : 1;
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(link.counters().dropped[DropCause::queue_overflow], 20u);
  // Once two have left the queue, two more fit.
  EXPECT_FALSE(send(link, kEpoch + 2 * 982'400ns, 1200).dropped);
  EXPECT_FALSE(send(link, kEpoch + 2 * 982'400ns, 1200).dropped);
  EXPECT_EQ(send(link, kEpoch + 2 * 982'400ns, 1200).dropped, DropCause::queue_overflow);
}

TEST(Link, MtuIsASilentBlackHoleAboveAndPassesAtTheLimit) {
  Link link(LinkConfig{.mtu = 1280}, Rng(10));
  EXPECT_FALSE(send(link, kEpoch, 1252).dropped);  // 1252 + 28 == 1280
  EXPECT_EQ(send(link, kEpoch, 1253).dropped, DropCause::too_big);
  Datagram v6 = datagram(1232);
  v6.to = *SocketAddress::parse("[2001:db8::2]:2000");
  EXPECT_FALSE(link.transmit(kEpoch, Datagram(v6)).dropped);  // 1232 + 48 == 1280
  v6.bytes.push_back(0);
  EXPECT_EQ(link.transmit(kEpoch, Datagram(v6)).dropped, DropCause::too_big);
  EXPECT_EQ(link.counters().dropped[DropCause::too_big], 2u);
}

TEST(Link, BlackoutScheduleAndOutagesDropWhileDown) {
  // Down for 2 s out of every 5 s, starting at the epoch.
  Link link(LinkConfig{.blackout = {.period = 5s, .down = 2s}}, Rng(11));
  const auto down = [&](Duration at) { return send(link, kEpoch + at).dropped.has_value(); };
  EXPECT_TRUE(down(0s));
  EXPECT_TRUE(down(1999ms));
  EXPECT_FALSE(down(2s));
  EXPECT_FALSE(down(4999ms));
  EXPECT_TRUE(down(5s));
  EXPECT_TRUE(down(6500ms));
  EXPECT_FALSE(down(7500ms));
  EXPECT_TRUE(down(100s));
  EXPECT_EQ(link.counters().dropped[DropCause::blackout], 5u);

  Link windows(LinkConfig{.outages = {{kEpoch + 1s, kEpoch + 2s}}}, Rng(12));
  EXPECT_FALSE(send(windows, kEpoch + 999ms).dropped);
  EXPECT_TRUE(send(windows, kEpoch + 1s).dropped);
  EXPECT_FALSE(send(windows, kEpoch + 2s).dropped);
  windows.config().up = false;
  EXPECT_EQ(send(windows, kEpoch + 3s).dropped, DropCause::blackout);
}

}  // namespace
}  // namespace srudp::sim
