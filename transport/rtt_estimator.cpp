#include "transport/rtt_estimator.hpp"

#include <algorithm>

namespace srudp::transport {

namespace {

// Bounds every input so the integer EWMA below cannot overflow whatever a peer reports or a caller
// passes; no real path has a round trip anywhere near an hour.
constexpr Duration kMaxSample = std::chrono::hours(1);

Duration clamp_input(Duration d) { return std::clamp(d, Duration::zero(), kMaxSample); }

}  // namespace

RttEstimator::RttEstimator(Duration initial_rtt, Duration max_ack_delay)
    : initial_rtt_(std::clamp(clamp_input(initial_rtt), kGranularity, kMaxSample)),
      max_ack_delay_(clamp_input(max_ack_delay)),
      smoothed_(initial_rtt_),
      rttvar_(initial_rtt_ / 2),
      min_rtt_(initial_rtt_),
      latest_(initial_rtt_) {}

void RttEstimator::set_max_ack_delay(Duration max_ack_delay) {
  max_ack_delay_ = clamp_input(max_ack_delay);
}

void RttEstimator::update(Duration latest_rtt, Duration ack_delay, Instant now,
                          bool handshake_confirmed) {
  latest_rtt = std::max(clamp_input(latest_rtt), kMinSample);
  ack_delay = clamp_input(ack_delay);
  latest_ = latest_rtt;
  last_sample_time_ = now;

  if (!has_sample_) {
    has_sample_ = true;
    min_rtt_ = latest_rtt;
    smoothed_ = latest_rtt;
    rttvar_ = latest_rtt / 2;
    return;
  }

  // min_rtt is the raw minimum: ack delay is never subtracted from it (RFC 9002 section 5.2).
  min_rtt_ = std::min(min_rtt_, latest_rtt);

  // Until the handshake is confirmed the peer may not yet honour its max_ack_delay, so the
  // reported delay is used as is (section 5.3).
  if (handshake_confirmed) ack_delay = std::min(ack_delay, max_ack_delay_);

  // Subtracting the delay must not make the sample smaller than min_rtt: that would mean the peer
  // over-reported its delay, and trusting it would shrink the estimate below anything observed.
  Duration adjusted = latest_rtt;
  if (latest_rtt >= min_rtt_ + ack_delay) adjusted = latest_rtt - ack_delay;

  const Duration rttvar_sample = smoothed_ > adjusted ? smoothed_ - adjusted : adjusted - smoothed_;
  // Integer nanosecond EWMAs (truncating): rttvar = 3/4 rttvar + 1/4 sample,
  // smoothed = 7/8 smoothed + 1/8 adjusted.
  rttvar_ = (3 * rttvar_ + rttvar_sample) / 4;
  smoothed_ = (7 * smoothed_ + adjusted) / 8;
}

void RttEstimator::on_persistent_congestion() {
  if (has_sample_) min_rtt_ = latest_;
}

Duration RttEstimator::pto_base(Duration max_ack_delay) const {
  return smoothed_ + std::max(4 * rttvar_, kGranularity) + clamp_input(max_ack_delay);
}

}  // namespace srudp::transport
