#include "transport/new_reno.hpp"

#include <algorithm>

namespace srudp::transport {

NewReno::NewReno(std::uint64_t max_datagram_size)
    : mss_(sanitize_max_datagram_size(max_datagram_size)), cwnd_(initial_window(mss_)) {}

void NewReno::on_packet_sent(Instant, std::uint64_t, std::uint64_t, bool) {
  // NewReno keeps no per-send state; recovery is tracked by send times carried in the ACKs.
}

bool NewReno::in_recovery(Instant sent_time) const {
  return recovery_start_.has_value() && sent_time <= *recovery_start_;
}

void NewReno::on_ack(Instant, const AckedPacket& acked, const RttEstimator&, std::uint64_t,
                     bool app_limited) {
  // Packets sent before the reduction were sent with the old, too large window: their ACKs must
  // not grow the reduced one (RFC 9002 section 7.3.2).
  if (in_recovery(acked.sent_time)) return;
  // An under-used window has not been validated by the network (RFC 9002 section 7.8).
  if (app_limited) return;

  if (in_slow_start()) {
    // Slow start: one byte per byte acknowledged, i.e. doubling per round trip. ssthresh is not a
    // cap here: RFC 9002 leaves the overshoot to the next loss, and the next ACK leaves slow start.
    cwnd_ = grow_window(cwnd_, acked.bytes);
    return;
  }
  // Congestion avoidance: one datagram per window's worth of bytes acknowledged. Counting bytes
  // exactly (instead of mss * bytes / cwnd per ACK) loses no growth to rounding.
  bytes_acked_ += std::min(acked.bytes, kMaximumWindow);
  if (bytes_acked_ >= cwnd_) {
    bytes_acked_ -= cwnd_;
    cwnd_ = grow_window(cwnd_, mss_);
  }
}

void NewReno::on_congestion_event(Instant now, Instant sent_time_of_lost, bool persistent,
                                  const RttEstimator&) {
  if (!in_recovery(sent_time_of_lost)) {
    before_reduction_ = Saved{cwnd_, ssthresh_, bytes_acked_, recovery_start_};
    recovery_start_ = now;
    ssthresh_ = cwnd_ / 2;  // kLossReductionFactor = 0.5
    cwnd_ = std::max(ssthresh_, minimum_window(mss_));
    bytes_acked_ = 0;
  }
  if (persistent) {
    // RFC 9002 Appendix B.8: collapse and forget the recovery period so the window regrows
    // (in slow start up to ssthresh) from the next acknowledgment on.
    cwnd_ = minimum_window(mss_);
    recovery_start_.reset();
    bytes_acked_ = 0;
    before_reduction_.reset();
  }
}

void NewReno::on_spurious_congestion(Instant) {
  if (!before_reduction_) return;
  const Saved saved = *before_reduction_;
  before_reduction_.reset();
  if (cwnd_ < saved.cwnd) {
    cwnd_ = saved.cwnd;
    bytes_acked_ = saved.bytes_acked;
  }
  ssthresh_ = std::max(ssthresh_, saved.ssthresh);
  // Back to the recovery period (if any) that was current before: ACKs of packets sent since
  // grow the window again.
  recovery_start_ = saved.recovery_start;
}

void NewReno::on_max_datagram_size_changed(std::uint64_t max_datagram_size) {
  mss_ = sanitize_max_datagram_size(max_datagram_size);
  cwnd_ = std::max(cwnd_, minimum_window(mss_));
}

}  // namespace srudp::transport
