#include "transport/rtt_estimator.hpp"

#include <gtest/gtest.h>

namespace srudp::transport {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

const Instant kT0 = Instant{} + std::chrono::seconds(10);

TEST(RttEstimator, DefaultsBeforeAnySample) {
  RttEstimator rtt;
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_EQ(rtt.smoothed(), milliseconds(333));
  EXPECT_EQ(rtt.rttvar(), microseconds(166500));
  // 333 + 4 * 166.5 + 25 ms.
  EXPECT_EQ(rtt.pto_base(milliseconds(25)), milliseconds(1024));

  RttEstimator custom(milliseconds(100));
  EXPECT_EQ(custom.smoothed(), milliseconds(100));
  EXPECT_EQ(custom.rttvar(), milliseconds(50));
}

TEST(RttEstimator, FirstSampleSetsSmoothedAndHalfVariance) {
  RttEstimator rtt;
  // The ack delay is ignored on the first sample.
  rtt.update(milliseconds(100), milliseconds(10), kT0, true);
  EXPECT_TRUE(rtt.has_sample());
  EXPECT_EQ(rtt.smoothed(), milliseconds(100));
  EXPECT_EQ(rtt.rttvar(), milliseconds(50));
  EXPECT_EQ(rtt.min_rtt(), milliseconds(100));
  EXPECT_EQ(rtt.latest(), milliseconds(100));
  EXPECT_EQ(rtt.last_sample_time(), kT0);
}

TEST(RttEstimator, EwmaMatchesHandComputation) {
  RttEstimator rtt;
  rtt.update(milliseconds(100), Duration::zero(), kT0, true);
  // sample 200: rttvar = 3/4*50 + 1/4*|100-200| = 62.5; smoothed = 7/8*100 + 1/8*200 = 112.5
  rtt.update(milliseconds(200), Duration::zero(), kT0 + milliseconds(200), true);
  EXPECT_EQ(rtt.rttvar(), microseconds(62500));
  EXPECT_EQ(rtt.smoothed(), microseconds(112500));
  EXPECT_EQ(rtt.min_rtt(), milliseconds(100));
  // sample 80: rttvar = 3/4*62.5 + 1/4*32.5 = 55; smoothed = 7/8*112.5 + 1/8*80 = 108.4375
  rtt.update(milliseconds(80), Duration::zero(), kT0 + milliseconds(300), true);
  EXPECT_EQ(rtt.rttvar(), milliseconds(55));
  EXPECT_EQ(rtt.smoothed(), Duration(108437500));
  EXPECT_EQ(rtt.min_rtt(), milliseconds(80));
  EXPECT_EQ(rtt.latest(), milliseconds(80));
  // sample 90: rttvar = 3/4*55 + 1/4*18.4375 = 45.859375; smoothed = 7/8*108.4375 + 90/8 = 106.1328125
  rtt.update(milliseconds(90), Duration::zero(), kT0 + milliseconds(400), true);
  EXPECT_EQ(rtt.rttvar(), Duration(45859375));
  EXPECT_EQ(rtt.smoothed(), Duration(106132812));  // 106132812.5 truncated to the nanosecond
}

TEST(RttEstimator, AckDelaySubtractedWhenItStaysAboveMinRtt) {
  RttEstimator rtt;
  rtt.update(milliseconds(100), Duration::zero(), kT0, true);
  // 130 - 20 = 110 >= min_rtt: adjusted = 110. smoothed = (700 + 110) / 8 = 101.25
  rtt.update(milliseconds(130), milliseconds(20), kT0, true);
  EXPECT_EQ(rtt.smoothed(), microseconds(101250));
  // rttvar = 3/4*50 + 1/4*|100-110| = 40
  EXPECT_EQ(rtt.rttvar(), milliseconds(40));
  // min_rtt never has ack delay subtracted.
  EXPECT_EQ(rtt.min_rtt(), milliseconds(100));
}

TEST(RttEstimator, AckDelayIgnoredWhenItWouldGoBelowMinRtt) {
  RttEstimator rtt;
  rtt.update(milliseconds(100), Duration::zero(), kT0, true);
  // 110 - 20 = 90 < min_rtt 100: the delay is not subtracted; adjusted = 110.
  rtt.update(milliseconds(110), milliseconds(20), kT0, true);
  EXPECT_EQ(rtt.smoothed(), microseconds(101250));
  EXPECT_EQ(rtt.min_rtt(), milliseconds(100));
}

TEST(RttEstimator, AckDelayClampedByMaxAckDelayOnlyOnceHandshakeConfirmed) {
  RttEstimator confirmed(RttEstimator::kDefaultInitialRtt, milliseconds(25));
  confirmed.update(milliseconds(100), Duration::zero(), kT0, true);
  // Reported 60 ms is clamped to 25: adjusted = 175; smoothed = (700 + 175) / 8 = 109.375
  confirmed.update(milliseconds(200), milliseconds(60), kT0, true);
  EXPECT_EQ(confirmed.smoothed(), microseconds(109375));

  RttEstimator unconfirmed(RttEstimator::kDefaultInitialRtt, milliseconds(25));
  unconfirmed.update(milliseconds(100), Duration::zero(), kT0, false);
  // Not clamped before confirmation: adjusted = 140; smoothed = (700 + 140) / 8 = 105
  unconfirmed.update(milliseconds(200), milliseconds(60), kT0, false);
  EXPECT_EQ(unconfirmed.smoothed(), milliseconds(105));

  // The max_ack_delay learned later takes effect for the next sample.
  RttEstimator learned(RttEstimator::kDefaultInitialRtt, milliseconds(25));
  learned.set_max_ack_delay(milliseconds(50));
  EXPECT_EQ(learned.max_ack_delay(), milliseconds(50));
  learned.update(milliseconds(100), Duration::zero(), kT0, true);
  // clamp to 50: adjusted = 150; smoothed = (700 + 150) / 8 = 106.25
  learned.update(milliseconds(200), milliseconds(60), kT0, true);
  EXPECT_EQ(learned.smoothed(), microseconds(106250));
}

TEST(RttEstimator, MinRttTracksRawMinimumAndResetsOnPersistentCongestion) {
  RttEstimator rtt;
  rtt.update(milliseconds(50), Duration::zero(), kT0, true);
  rtt.update(milliseconds(40), milliseconds(5), kT0, true);
  rtt.update(milliseconds(70), Duration::zero(), kT0, true);
  EXPECT_EQ(rtt.min_rtt(), milliseconds(40));
  rtt.on_persistent_congestion();
  EXPECT_EQ(rtt.min_rtt(), milliseconds(70));
}

TEST(RttEstimator, PtoBaseUsesGranularityFloor) {
  RttEstimator rtt;
  rtt.update(milliseconds(100), Duration::zero(), kT0, true);
  // 100 + 4 * 50 + 25
  EXPECT_EQ(rtt.pto_base(milliseconds(25)), milliseconds(325));
  EXPECT_EQ(rtt.pto_base(Duration::zero()), milliseconds(300));

  // Identical 1 ms samples shrink rttvar towards zero, so 4 * rttvar falls below kGranularity.
  RttEstimator lan;
  for (int i = 0; i < 20; ++i) lan.update(milliseconds(1), Duration::zero(), kT0, true);
  EXPECT_EQ(lan.smoothed(), milliseconds(1));
  EXPECT_LT(4 * lan.rttvar(), RttEstimator::kGranularity);
  EXPECT_EQ(lan.pto_base(milliseconds(5)), milliseconds(1) + RttEstimator::kGranularity + milliseconds(5));
}

// A sub-millisecond path keeps its real round trip: the pacing rate of a window-based sender is
// cwnd / smoothed RTT, so a 1 ms floor would cap it at a tenth on a 100 us path.
TEST(RttEstimator, SubMillisecondSamplesAreKept) {
  RttEstimator rtt;
  for (int i = 0; i < 50; ++i) rtt.update(std::chrono::microseconds(100), Duration::zero(), kT0, true);
  EXPECT_EQ(rtt.min_rtt(), std::chrono::microseconds(100));
  EXPECT_LT(rtt.smoothed(), std::chrono::microseconds(110));
}

TEST(RttEstimator, HostileInputsStayBounded) {
  RttEstimator rtt;
  rtt.update(Duration::zero(), Duration::zero(), kT0, true);
  EXPECT_EQ(rtt.smoothed(), RttEstimator::kMinSample);
  rtt.update(Duration(-5), Duration(-7), kT0, true);
  EXPECT_GE(rtt.smoothed(), RttEstimator::kMinSample);
  EXPECT_GE(rtt.pto_base(Duration::zero()), RttEstimator::kGranularity);  // timers keep the granularity
  for (int i = 0; i < 100; ++i) rtt.update(Duration::max(), Duration::max(), kT0, true);
  EXPECT_GT(rtt.smoothed(), Duration::zero());
  EXPECT_LE(rtt.smoothed(), std::chrono::hours(1));
  EXPECT_GT(rtt.pto_base(Duration::max()), Duration::zero());
}

}  // namespace
}  // namespace srudp::transport
