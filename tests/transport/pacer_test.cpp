#include "transport/pacer.hpp"

#include <gtest/gtest.h>

#include <cstdint>

#include "transport/new_reno.hpp"

namespace srudp::transport {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uint64_t kMss = 1200;
constexpr std::uint64_t kLargeWindow = 100'000'000;
const Instant kT0 = Instant{} + seconds(50);

TEST(Pacer, BurstThenExactSpacingOverAMillionPackets) {
  Pacer pacer(kMss);
  // 12,345,679 bytes/s: one datagram every 97200.0007 ns, never a whole number of nanoseconds.
  constexpr std::uint64_t kRate = 12'345'679;
  constexpr std::uint64_t kPackets = 1'000'000;
  // The burst is what the rate earns in 2 ms: 24691 bytes, i.e. 20 datagrams.
  Instant t = kT0;
  ASSERT_EQ(pacer.next_send_time(t, kMss, kRate, kLargeWindow), t);
  const std::uint64_t capacity = pacer.capacity_bytes();
  ASSERT_EQ(capacity, 24691u);
  const std::uint64_t burst_packets = capacity / kMss;

  Instant previous = t;
  std::uint64_t short_gaps = 0;
  for (std::uint64_t i = 0; i < kPackets; ++i) {
    t = pacer.next_send_time(t, kMss, kRate, kLargeWindow);
    // Ideal schedule: packet i may leave once capacity + elapsed * rate covers (i + 1) datagrams,
    // i.e. at ceil(((i + 1) * 1200e9 - capacity * 1e9) / rate) ns, never earlier and never later.
    if (i < burst_packets) {
      ASSERT_EQ(t, kT0) << i;
    } else {
      const std::uint64_t units = (i + 1) * kMss * 1'000'000'000 - capacity * 1'000'000'000;
      const auto expected = static_cast<std::int64_t>((units + kRate - 1) / kRate);
      ASSERT_EQ((t - kT0).count(), expected) << "packet " << i;
      if (i > burst_packets) {
        const std::int64_t gap = (t - previous).count();
        ASSERT_TRUE(gap == 97200 || gap == 97201) << gap;
        if (gap == 97200) ++short_gaps;
      }
    }
    pacer.on_sent(t, kMss);
    previous = t;
  }
  // No drift: the millionth datagram leaves at exactly ceil((10^6 * 1200 - 24691) bytes / rate),
  // computed independently: 1199975309 * 10^9 / 12345679 = 97198000126.09 -> 97198000127 ns.
  EXPECT_EQ((t - kT0).count(), 97'198'000'127);
  EXPECT_GT(short_gaps, kPackets / 2);  // the rounding alternates rather than always rounding up
}

TEST(Pacer, IdlePeriodsEarnAtMostOneBurst) {
  Pacer pacer(kMss);
  constexpr std::uint64_t kRate = 1'000'000;  // 2 ms earns 2000 bytes: the 10-datagram floor applies
  Instant t = kT0;
  for (int i = 0; i < 50; ++i) {
    t = pacer.next_send_time(t, kMss, kRate, kLargeWindow);
    pacer.on_sent(t, kMss);
  }
  EXPECT_EQ(pacer.capacity_bytes(), 10 * kMss);
  // After ten idle seconds (10 MB worth of rate), still only ten datagrams go at once.
  const Instant resume = t + seconds(10);
  int immediate = 0;
  Instant s = resume;
  for (int i = 0; i < 30; ++i) {
    s = pacer.next_send_time(s, kMss, kRate, kLargeWindow);
    if (s == resume) ++immediate;
    pacer.on_sent(s, kMss);
  }
  EXPECT_EQ(immediate, 10);
  EXPECT_EQ(pacer.credit_bytes(), 0);
  // The eleventh waited one full datagram time: 1200 bytes at 1 MB/s = 1.2 ms.
  EXPECT_EQ(pacer.next_send_time(s, kMss, kRate, kLargeWindow), s + Duration(1'200'000));
}

TEST(Pacer, BurstCapacityFollowsRateWithinBoundsAndWindow) {
  Pacer pacer(kMss);
  pacer.next_send_time(kT0, kMss, 100'000, kLargeWindow);
  EXPECT_EQ(pacer.capacity_bytes(), 10 * kMss);  // floor
  // The same rate and window with larger datagrams: the floor is counted in the new size.
  pacer.on_max_datagram_size_changed(1452);
  pacer.next_send_time(kT0, 1452, 100'000, kLargeWindow);
  EXPECT_EQ(pacer.capacity_bytes(), 10u * 1452);
  pacer.on_max_datagram_size_changed(kMss);
  pacer.next_send_time(kT0, kMss, 50'000'000, kLargeWindow);
  EXPECT_EQ(pacer.capacity_bytes(), 100'000u);  // 2 ms at 50 MB/s
  pacer.next_send_time(kT0, kMss, 10'000'000'000, kLargeWindow);
  EXPECT_EQ(pacer.capacity_bytes(), 256 * kMss);  // ceiling
  pacer.next_send_time(kT0, kMss, 50'000'000, 2 * kMss);
  EXPECT_EQ(pacer.capacity_bytes(), 2 * kMss);  // never more than the window
  EXPECT_LE(pacer.credit_bytes(), static_cast<std::int64_t>(2 * kMss));
  pacer.next_send_time(kT0, kMss, 50'000'000, 0);
  EXPECT_EQ(pacer.capacity_bytes(), kMss);  // but always room for one datagram
}

TEST(Pacer, ZeroRateDisablesPacing) {
  Pacer pacer(kMss);
  Instant t = kT0;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(pacer.next_send_time(t, kMss, 0, kLargeWindow), t);
    pacer.on_sent(t, kMss);
  }
}

TEST(Pacer, SendingWithoutCreditLeavesABoundedDebt) {
  Pacer pacer(kMss);
  constexpr std::uint64_t kRate = 1'200'000;  // one datagram per ms
  ASSERT_EQ(pacer.next_send_time(kT0, kMss, kRate, kLargeWindow), kT0);
  for (int i = 0; i < 12; ++i) pacer.on_sent(kT0, kMss);  // burst of 10 plus 2 unpaced
  EXPECT_EQ(pacer.credit_bytes(), -2 * static_cast<std::int64_t>(kMss));
  // The next datagram waits for the debt and its own credit: 3 ms.
  EXPECT_EQ(pacer.next_send_time(kT0, kMss, kRate, kLargeWindow), kT0 + milliseconds(3));
  // A runaway sender cannot dig a hole deeper than one burst.
  for (int i = 0; i < 1000; ++i) pacer.on_sent(kT0, kMss);
  EXPECT_EQ(pacer.credit_bytes(), -static_cast<std::int64_t>(pacer.capacity_bytes()));
  EXPECT_EQ(pacer.next_send_time(kT0, kMss, kRate, kLargeWindow), kT0 + milliseconds(11));
}

TEST(Pacer, RateChangesApplyFromTheCallOn) {
  Pacer pacer(kMss);
  ASSERT_EQ(pacer.next_send_time(kT0, kMss, 1'200'000, kLargeWindow), kT0);
  for (int i = 0; i < 10; ++i) pacer.on_sent(kT0, kMss);
  ASSERT_EQ(pacer.credit_bytes(), 0);
  // 0.5 ms at the old rate earns 600 bytes; the remaining 600 at 12 MB/s take 50 us.
  EXPECT_EQ(pacer.next_send_time(kT0 + Duration(500'000), kMss, 12'000'000, kLargeWindow),
            kT0 + Duration(550'000));
}

TEST(Pacer, OversizedDatagramsAndBackwardsTimeDoNotHang) {
  Pacer pacer(kMss);
  constexpr std::uint64_t kRate = 1'200'000;
  Instant t = kT0;
  // 5000-byte datagrams against a 2400-byte bucket: each waits for a full bucket, then for the
  // debt; the long-run rate still holds (about 5000 bytes per 4.17 ms).
  for (int i = 0; i < 100; ++i) {
    t = pacer.next_send_time(t, 5000, kRate, 2 * kMss);
    pacer.on_sent(t, 5000);
  }
  EXPECT_GT(t - kT0, milliseconds(300));
  EXPECT_LT(t - kT0, milliseconds(500));
  // A clock reading from the past earns nothing and breaks nothing.
  const Instant before = pacer.next_send_time(t - seconds(1), kMss, kRate, 2 * kMss);
  EXPECT_GE(before, t - seconds(1));
  pacer.on_sent(t - seconds(2), kMss);
  EXPECT_GE(pacer.credit_bytes(), -static_cast<std::int64_t>(pacer.capacity_bytes()));
}

// A held-back sender wakes for a batch: what the rate earns in 1 ms, 1 to 10 datagrams. Slow
// flows still wake for each datagram, exactly when it may go.
TEST(Pacer, WakesUpForABatchAtHighRatesAndForEachDatagramAtLowRates) {
  struct Case {
    std::uint64_t rate;
    Duration next, wakeup;
  };
  for (const Case& c : {Case{12'000'000, Duration(100'000), milliseconds(1)},   // 10 datagrams per ms
                        Case{120'000'000, Duration(10'000), Duration(100'000)},  // capped at 10 datagrams
                        Case{6'000'000, Duration(200'000), milliseconds(1)},     // 5 per ms
                        Case{1'200'000, milliseconds(1), milliseconds(1)},       // 1 per ms
                        Case{75'000, milliseconds(16), milliseconds(16)}}) {
    SCOPED_TRACE(c.rate);
    Pacer pacer(kMss);
    ASSERT_EQ(pacer.next_send_time(kT0, kMss, c.rate, kLargeWindow), kT0);
    while (pacer.credit_bytes() >= static_cast<std::int64_t>(kMss)) pacer.on_sent(kT0, kMss);
    pacer.on_sent(kT0, static_cast<std::uint64_t>(pacer.credit_bytes()));  // the bucket exactly empty
    ASSERT_EQ(pacer.credit_bytes(), 0);
    EXPECT_EQ(pacer.next_send_time(kT0, kMss, c.rate, kLargeWindow), kT0 + c.next);
    EXPECT_EQ(pacer.wakeup_time(kT0, kMss), kT0 + c.wakeup);
  }
  // With credit for the batch already there, now.
  Pacer pacer(kMss);
  ASSERT_EQ(pacer.next_send_time(kT0, kMss, 12'000'000, kLargeWindow), kT0);
  EXPECT_EQ(pacer.wakeup_time(kT0, kMss), kT0);
  // Unpaced: now.
  ASSERT_EQ(pacer.next_send_time(kT0, kMss, 0, kLargeWindow), kT0);
  EXPECT_EQ(pacer.wakeup_time(kT0, kMss), kT0);
}

TEST(Pacer, SpreadsTheCongestionWindowOverTheRoundTrip) {
  NewReno cc(kMss);
  RttEstimator rtt;
  rtt.update(milliseconds(100), Duration::zero(), kT0, true);
  cc.on_congestion_event(kT0, kT0 - milliseconds(1), false, rtt);
  // Congestion avoidance at 6000 bytes: 1.25 * 6000 / 0.1 s = 75000 bytes/s.
  const std::uint64_t rate = cc.pacing_rate_bytes_per_sec(rtt);
  ASSERT_EQ(rate, 75'000u);
  Pacer pacer(kMss);
  Instant t = kT0;
  for (int i = 0; i < 200; ++i) {
    t = pacer.next_send_time(t, kMss, rate, cc.congestion_window());
    pacer.on_sent(t, kMss);
  }
  // Beyond a burst of one window (5 datagrams), 195 datagrams at 16 ms each.
  EXPECT_EQ(t - kT0, 195 * milliseconds(16));
}

}  // namespace
}  // namespace srudp::transport
