// Round-trip time estimation per RFC 9002 section 5: latest, minimum and smoothed RTT plus the
// RTT variation, from which the probe timeout (PTO) is derived.
#pragma once

#include "common/time.hpp"

namespace srudp::transport {

class RttEstimator {
 public:
  // Timer granularity assumed by RFC 9002 (kGranularity): the smallest meaningful timer.
  static constexpr Duration kGranularity = std::chrono::milliseconds(1);
  // The smallest RTT sample kept: a zero sample is raised to it, so the estimate is never zero.
  // Samples are not floored at kGranularity (RFC 9002 applies that to timers only): on a path of
  // 100 us, a 1 ms floor would cap every window-based sender's pacing rate at cwnd / 1 ms.
  static constexpr Duration kMinSample = std::chrono::microseconds(1);
  // RFC 9002 section 6.2.2: the RTT assumed before the first sample.
  static constexpr Duration kDefaultInitialRtt = std::chrono::milliseconds(333);
  // RFC 9000 section 18.2 default for the peer's max_ack_delay transport parameter.
  static constexpr Duration kDefaultMaxAckDelay = std::chrono::milliseconds(25);

  explicit RttEstimator(Duration initial_rtt = kDefaultInitialRtt,
                        Duration max_ack_delay = kDefaultMaxAckDelay);

  // The peer's max_ack_delay, used to clamp reported ack delays once the handshake is confirmed.
  void set_max_ack_delay(Duration max_ack_delay);
  Duration max_ack_delay() const { return max_ack_delay_; }

  // Feeds one RTT sample: latest_rtt = now - send time of the largest newly acknowledged
  // ack-eliciting packet, ack_delay as reported by the peer. Before the handshake is confirmed the
  // reported delay is not clamped by max_ack_delay (RFC 9002 section 5.3). Negative inputs are
  // treated as zero; latest_rtt is raised to kMinSample so the estimate is never zero.
  void update(Duration latest_rtt, Duration ack_delay, Instant now, bool handshake_confirmed);

  // RFC 9002 section 5.2: after persistent congestion, min_rtt restarts from the latest sample.
  void on_persistent_congestion();

  bool has_sample() const { return has_sample_; }
  // Before the first sample: smoothed = initial RTT, rttvar = initial / 2, min = latest = initial.
  Duration smoothed() const { return smoothed_; }
  Duration rttvar() const { return rttvar_; }
  Duration min_rtt() const { return min_rtt_; }
  Duration latest() const { return latest_; }
  // When the last sample was taken (the epoch if none yet).
  Instant last_sample_time() const { return last_sample_time_; }

  // smoothed + max(4 * rttvar, kGranularity) + max_ack_delay: the PTO period before backoff.
  Duration pto_base(Duration max_ack_delay) const;

 private:
  Duration initial_rtt_;
  Duration max_ack_delay_;
  Duration smoothed_;
  Duration rttvar_;
  Duration min_rtt_;
  Duration latest_;
  Instant last_sample_time_{};
  bool has_sample_ = false;
};

}  // namespace srudp::transport
