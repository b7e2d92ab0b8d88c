#include "transport/cubic.hpp"

#include <algorithm>
#include <cmath>

namespace srudp::transport {

namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// Doubles from the curve are clamped into the window's range before conversion.
std::uint64_t to_window(double bytes) {
  return static_cast<std::uint64_t>(
      std::clamp(bytes, 0.0, static_cast<double>(CongestionController::kMaximumWindow)));
}

}  // namespace

Cubic::Cubic(std::uint64_t max_datagram_size)
    : mss_(sanitize_max_datagram_size(max_datagram_size)), cwnd_(initial_window(mss_)) {}

bool Cubic::in_recovery(Instant sent_time) const {
  return recovery_start_.has_value() && sent_time <= *recovery_start_;
}

void Cubic::on_packet_sent(Instant now, std::uint64_t bytes_in_flight_after, std::uint64_t bytes,
                           bool ack_eliciting) {
  if (!ack_eliciting) return;
  // Sending with nothing in flight ends an idle period: shift the curve by its length so the
  // window does not leap to wherever the curve got to meanwhile (Linux does the same).
  if (bytes_in_flight_after <= bytes && epoch_.has_value()) {
    Instant idle_since = *epoch_;
    if (last_ack_time_) idle_since = std::max(idle_since, *last_ack_time_);
    if (last_sent_time_) idle_since = std::max(idle_since, *last_sent_time_);
    if (now > idle_since) epoch_ = std::min(*epoch_ + (now - idle_since), now);
  }
  last_sent_time_ = now;
}

void Cubic::start_epoch(Instant now) {
  epoch_ = now;
  const double cwnd_epoch = static_cast<double>(cwnd_);
  if (w_max_ > cwnd_epoch) {
    // K = cbrt((W_max - cwnd_epoch) / C), with C converted from segments to bytes.
    k_ = std::cbrt((w_max_ - cwnd_epoch) / (kC * static_cast<double>(mss_)));
    origin_ = w_max_;
  } else {
    // Already at or above the old maximum (e.g. after slow start): probe convexly from here.
    k_ = 0.0;
    origin_ = cwnd_epoch;
  }
  w_est_ = cwnd_epoch;
  cwnd_fraction_ = 0.0;
}

double Cubic::cubic_window(Duration t) const {
  const double offset = seconds(t) - k_;
  return kC * static_cast<double>(mss_) * offset * offset * offset + origin_;
}

void Cubic::on_ack(Instant now, const AckedPacket& acked, const RttEstimator& rtt, std::uint64_t,
                   bool app_limited) {
  const std::optional<Instant> previous_ack = last_ack_time_;
  last_ack_time_ = now;
  if (in_recovery(acked.sent_time)) return;
  if (app_limited) {
    // The window is not being used: no growth, and the curve's clock stops meanwhile.
    if (epoch_ && previous_ack && now > *previous_ack) {
      epoch_ = std::min(*epoch_ + (now - *previous_ack), now);
    }
    return;
  }

  if (in_slow_start()) {
    cwnd_ = grow_window(cwnd_, acked.bytes);
    return;
  }

  if (!epoch_) start_epoch(now);
  const double cwnd = static_cast<double>(cwnd_);
  const double mss = static_cast<double>(mss_);
  const double acked_bytes = static_cast<double>(std::min(acked.bytes, kMaximumWindow));
  const Duration t = now - *epoch_;

  // Reno-friendly estimate (RFC 9438 section 4.3): alpha_cubic per round trip until it catches up
  // with the window before the reduction, then Reno's 1 segment per round trip.
  const double alpha = w_est_ >= cwnd_prior_ ? 1.0 : kAlphaCubic;
  w_est_ += alpha * mss * acked_bytes / cwnd;

  double next;
  if (cubic_window(t) < w_est_) {
    // Reno-friendly region: CUBIC would be slower than Reno here, so behave like Reno.
    next = std::max(w_est_, cwnd + cwnd_fraction_);
  } else {
    // Concave or convex region (section 4.4/4.5): aim for where the curve will be one RTT from now,
    // bounded so the window grows by at most half per round trip (RFC 9438 section 4.2).
    const double target = std::clamp(cubic_window(t + rtt.smoothed()), cwnd, 1.5 * cwnd);
    next = cwnd + cwnd_fraction_ + (target - cwnd) * acked_bytes / cwnd;
  }
  const std::uint64_t whole = std::max(to_window(next), cwnd_);
  cwnd_fraction_ = whole == kMaximumWindow ? 0.0 : std::clamp(next - static_cast<double>(whole), 0.0, 1.0);
  cwnd_ = whole;
}

void Cubic::on_congestion_event(Instant now, Instant sent_time_of_lost, bool persistent,
                                const RttEstimator&) {
  if (!in_recovery(sent_time_of_lost)) {
    before_reduction_ = Saved{cwnd_,  ssthresh_, recovery_start_, cwnd_fraction_, w_max_, cwnd_prior_,
                              epoch_, k_,   origin_,   w_est_};
    recovery_start_ = now;
    const double cwnd = static_cast<double>(cwnd_);
    cwnd_prior_ = cwnd;
    // Fast convergence (section 4.7): a loss before regaining the previous maximum suggests a new
    // flow is competing, so release some bandwidth by remembering a lower maximum.
    w_max_ = cwnd < w_max_ ? cwnd * (1.0 + kBeta) / 2.0 : cwnd;
    // cwnd * beta in exact integer arithmetic, so reductions are reproducible (cwnd <= 2^40).
    ssthresh_ = std::max(cwnd_ * kBetaNumerator / kBetaDenominator, minimum_window(mss_));
    cwnd_ = ssthresh_;
    cwnd_fraction_ = 0.0;
    // The next congestion-avoidance ACK starts a new epoch (time origin at the start of CA).
    epoch_.reset();
  }
  if (persistent) {
    cwnd_ = minimum_window(mss_);
    cwnd_fraction_ = 0.0;
    recovery_start_.reset();
    epoch_.reset();
    before_reduction_.reset();
  }
}

void Cubic::on_spurious_congestion(Instant) {
  if (!before_reduction_) return;
  const Saved saved = *before_reduction_;
  before_reduction_.reset();
  ssthresh_ = std::max(ssthresh_, saved.ssthresh);
  recovery_start_ = saved.recovery_start;
  // The window may have regrown past the saved one in the meantime: keep the larger, with the
  // curve that produced it, but forget the lowered maximum the spurious event left behind.
  if (cwnd_ >= saved.cwnd) {
    w_max_ = std::max(w_max_, saved.w_max);
    cwnd_prior_ = std::max(cwnd_prior_, saved.cwnd_prior);
    return;
  }
  cwnd_ = saved.cwnd;
  cwnd_fraction_ = saved.cwnd_fraction;
  w_max_ = saved.w_max;
  cwnd_prior_ = saved.cwnd_prior;
  // The saved epoch continues where it was: the curve stands where it would have without the
  // reduction (the time since counts as time in congestion avoidance at the restored window).
  epoch_ = saved.epoch;
  k_ = saved.k;
  origin_ = saved.origin;
  w_est_ = saved.w_est;
}

void Cubic::on_max_datagram_size_changed(std::uint64_t max_datagram_size) {
  mss_ = sanitize_max_datagram_size(max_datagram_size);
  cwnd_ = std::max(cwnd_, minimum_window(mss_));
}

}  // namespace srudp::transport
