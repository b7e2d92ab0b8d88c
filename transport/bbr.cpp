#include "transport/bbr.hpp"

#include <algorithm>
#include <cmath>

namespace srudp::transport {

namespace {

__extension__ using uint128 = unsigned __int128;

constexpr std::uint64_t kNanosPerSecond = 1'000'000'000;

std::uint64_t saturate(double value, std::uint64_t max) {
  return static_cast<std::uint64_t>(std::clamp(value, 0.0, static_cast<double>(max)));
}

// A pacing rate: saturated, and never 0 (which would mean "unpaced" to the pacer).
std::uint64_t to_rate(double bytes_per_sec) {
  return std::max<std::uint64_t>(saturate(bytes_per_sec, std::numeric_limits<std::uint64_t>::max()), 1);
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

}  // namespace

void Bbr::WindowedMax::update(std::uint64_t value, std::uint64_t time, std::uint64_t window) {
  const Sample sample{value, time};
  // A new maximum, or nothing left in the window: it is the best, second and third best alike.
  if (value >= samples_[0].value || time - samples_[2].time > window) {
    samples_.fill(sample);
    return;
  }
  if (value >= samples_[1].value) {
    samples_[2] = samples_[1] = sample;
  } else if (value >= samples_[2].value) {
    samples_[2] = sample;
  }
  // Age the window: the best expires, or keep the runners-up spread over its quarters and halves.
  const std::uint64_t age = time - samples_[0].time;
  if (age > window) {
    samples_[0] = samples_[1];
    samples_[1] = samples_[2];
    samples_[2] = sample;
    if (time - samples_[0].time > window) {
      samples_[0] = samples_[1];
      samples_[1] = samples_[2];
      samples_[2] = sample;
    }
  } else if (samples_[1].time == samples_[0].time && age > window / 4) {
    samples_[2] = samples_[1] = sample;
  } else if (samples_[2].time == samples_[1].time && age > window / 2) {
    samples_[2] = sample;
  }
}

Bbr::Bbr(std::uint64_t max_datagram_size)
    : mss_(sanitize_max_datagram_size(max_datagram_size)), cwnd_(initial_window(mss_)) {}

bool Bbr::in_recovery(Instant sent_time) const {
  return recovery_start_.has_value() && sent_time <= *recovery_start_;
}

std::uint64_t Bbr::target_inflight(double gain) const {
  const std::uint64_t bandwidth = max_bandwidth_.best();
  if (bandwidth == 0 || !min_rtt_) return initial_window(mss_);
  const uint128 bdp = uint128{bandwidth} * static_cast<std::uint64_t>(min_rtt_->count()) / kNanosPerSecond;
  const double bdp_bytes = static_cast<double>(std::min<uint128>(bdp, kMaximumWindow));
  return saturate(gain * bdp_bytes, kMaximumWindow) + kSendQuanta * send_quantum();
}

std::uint64_t Bbr::send_quantum() const {
  const uint128 per_quantum = uint128{pacing_rate_} * static_cast<std::uint64_t>(kSendQuantumTime.count()) / kNanosPerSecond;
  const std::uint64_t bytes = static_cast<std::uint64_t>(std::min<uint128>(per_quantum, kMaxSendQuantumBytes));
  return std::max<std::uint64_t>(bytes / mss_, 1) * mss_;
}

std::uint64_t Bbr::pacing_rate_bytes_per_sec(const RttEstimator& rtt) const {
  if (pacing_rate_ != 0) return pacing_rate_;
  const double seconds = std::chrono::duration<double>(std::max(rtt.smoothed(), RttEstimator::kGranularity)).count();
  return to_rate(kStartupPacingGain * static_cast<double>(cwnd_) / seconds);
}

std::uint64_t Bbr::save_cwnd() const {
  // In probe_rtt the window is deliberately small: remember the one from before.
  return mode_ == Mode::probe_rtt ? std::max(prior_cwnd_, cwnd_) : cwnd_;
}

void Bbr::on_packet_sent(Instant now, std::uint64_t bytes_in_flight_after, std::uint64_t bytes, bool ack_eliciting) {
  if (!ack_eliciting || bytes_in_flight_after > bytes) return;
  // Restarting from idle: no reason to probe or drain a queue that has had time to empty.
  idle_restart_ = true;
  if (mode_ == Mode::probe_bw && max_bandwidth_.best() != 0) {
    pacing_rate_ = to_rate(static_cast<double>(max_bandwidth_.best()) * kPacingMargin);
  } else if (mode_ == Mode::probe_rtt) {
    check_probe_rtt_done(now);
  }
}

void Bbr::on_ack(Instant now, const AckedPacket& acked, const RttEstimator& rtt, std::uint64_t bytes_in_flight,
                 bool app_limited) {
  on_acks(now, std::span(&acked, 1), rtt, bytes_in_flight, app_limited);
}

void Bbr::on_acks(Instant now, std::span<const AckedPacket> acked, const RttEstimator& rtt,
                  std::uint64_t bytes_in_flight, bool) {
  if (acked.empty()) return;
  round_start_ = false;
  std::uint64_t acked_bytes = 0;
  const RateSample* rs = nullptr;
  for (const AckedPacket& a : acked) {
    acked_bytes += a.bytes;
    if (a.rate_sample) rs = &*a.rate_sample;  // in send order: the last is the newest
  }
  // The estimator's count when there is a sample (rounds are measured in it), else our own.
  delivered_ = rs ? std::max(delivered_, rs->delivered) : delivered_ + acked_bytes;
  if (rs) {
    update_round(*rs);
    update_bandwidth(*rs);
  }
  update_cycle_phase(now, bytes_in_flight + acked_bytes);
  check_full_bandwidth(rs);
  check_drain(now, bytes_in_flight);
  update_min_rtt(now, std::max(now - acked.back().sent_time, Duration::zero()), bytes_in_flight);
  if (rs && rs->delivered_bytes > 0) idle_restart_ = false;
  update_ack_aggregation(now, acked_bytes);
  update_pacing_rate(rtt);
  update_cwnd(acked_bytes);
}

void Bbr::update_ack_aggregation(Instant now, std::uint64_t acked_bytes) {
  const std::uint64_t bandwidth = max_bandwidth_.best();
  if (bandwidth == 0 || acked_bytes == 0) return;
  if (round_start_ && ++extra_acked_bucket_rounds_ >= kAckAggregationBucketRounds) {
    extra_acked_bucket_rounds_ = 0;
    extra_acked_bucket_ ^= 1;
    extra_acked_[extra_acked_bucket_] = 0;
  }
  const auto elapsed = static_cast<std::uint64_t>(std::max(now - ack_epoch_start_, Duration::zero()).count());
  std::uint64_t expected = saturate(
      static_cast<double>(bandwidth) * static_cast<double>(elapsed) / static_cast<double>(kNanosPerSecond),
      kMaximumWindow);
  // ACKs at or below the estimated rate, or an epoch so old it says little: start a new one here.
  if (ack_epoch_acked_ <= expected || ack_epoch_acked_ + acked_bytes >= kAckEpochResetPackets * mss_) {
    ack_epoch_acked_ = 0;
    ack_epoch_start_ = now;
    expected = 0;
  }
  ack_epoch_acked_ += acked_bytes;
  const std::uint64_t extra = std::min(ack_epoch_acked_ - expected, cwnd_);
  extra_acked_[extra_acked_bucket_] = std::max(extra_acked_[extra_acked_bucket_], extra);
}

std::uint64_t Bbr::ack_aggregation_allowance() const {
  if (!full_bandwidth_reached_) return 0;
  const std::uint64_t bound = saturate(static_cast<double>(max_bandwidth_.best()) *
                                           std::chrono::duration<double>(kMaxAckAggregation).count(),
                                       kMaximumWindow);
  return std::min(std::max(extra_acked_[0], extra_acked_[1]), bound);
}

void Bbr::update_round(const RateSample& rs) {
  if (probe_rtt_bubble_until_ != 0 && delivered_ > probe_rtt_bubble_until_) probe_rtt_bubble_until_ = 0;
  if (rs.prior_delivered >= next_round_delivered_) {
    next_round_delivered_ = rs.delivered;
    ++round_count_;
    round_start_ = true;
  }
}

void Bbr::update_bandwidth(const RateSample& rs) {
  // Shorter than the path's RTT: a spuriously retransmitted or reordered packet; the rate is wrong.
  if (min_rtt_ && rs.interval < *min_rtt_) return;
  const bool app_limited =
      rs.is_app_limited || (probe_rtt_bubble_until_ != 0 && rs.prior_delivered <= probe_rtt_bubble_until_);
  const std::uint64_t bandwidth = rs.bytes_per_second();
  // An app-limited sample shows what was offered, not what the path carries: it may only raise it.
  if (!app_limited || bandwidth >= max_bandwidth_.best()) {
    max_bandwidth_.update(bandwidth, round_count_, kBandwidthWindowRounds);
  }
}

void Bbr::update_cycle_phase(Instant now, std::uint64_t prior_in_flight) {
  if (mode_ != Mode::probe_bw || !min_rtt_) return;
  const bool full_length = now - cycle_stamp_ > *min_rtt_;
  bool next;
  if (pacing_gain_ > 1.0) {
    // Probe until the extra is in flight, or loss says there is no room for it.
    next = full_length && (lost_in_phase_ || prior_in_flight >= target_inflight(pacing_gain_));
  } else if (pacing_gain_ < 1.0) {
    // Drain the probe's queue: done early once in flight is down to one BDP.
    next = full_length || prior_in_flight <= target_inflight(1.0);
  } else {
    next = full_length;
  }
  if (next) advance_cycle_phase(now);
}

void Bbr::advance_cycle_phase(Instant now) {
  cycle_index_ = (cycle_index_ + 1) % kProbeBwGains.size();
  cycle_stamp_ = now;
  lost_in_phase_ = false;
  pacing_gain_ = kProbeBwGains[cycle_index_];
}

void Bbr::enter_probe_bw(Instant now) {
  mode_ = Mode::probe_bw;
  cwnd_gain_ = kCwndGain;
  // Start at a random phase other than the 0.75 one (index 1), as Linux does: index 2..7 or 0
  // after the advance. Mixing in the time keeps flows started at different moments apart.
  random_state_ ^= static_cast<std::uint64_t>(now.time_since_epoch().count());
  const std::uint64_t draw = splitmix64(random_state_) % (kProbeBwGains.size() - 1);
  cycle_index_ = kProbeBwGains.size() - 1 - static_cast<std::size_t>(draw);
  advance_cycle_phase(now);
}

void Bbr::check_full_bandwidth(const RateSample* rs) {
  if (full_bandwidth_reached_ || !round_start_ || !rs || rs->is_app_limited) return;
  const std::uint64_t bandwidth = max_bandwidth_.best();
  if (static_cast<double>(bandwidth) >= static_cast<double>(full_bandwidth_) * kFullBandwidthGrowth) {
    full_bandwidth_ = bandwidth;
    full_bandwidth_count_ = 0;
    return;
  }
  full_bandwidth_reached_ = ++full_bandwidth_count_ >= kFullBandwidthRounds;
}

void Bbr::check_drain(Instant now, std::uint64_t bytes_in_flight) {
  if (mode_ == Mode::startup && full_bandwidth_reached_) {
    mode_ = Mode::drain;
    pacing_gain_ = kDrainPacingGain;
    ssthresh_ = target_inflight(1.0);
  }
  if (mode_ == Mode::drain && bytes_in_flight <= target_inflight(1.0)) enter_probe_bw(now);
}

void Bbr::update_min_rtt(Instant now, Duration rtt_sample, std::uint64_t bytes_in_flight) {
  const bool expired = min_rtt_ && now > min_rtt_stamp_ + kMinRttWindow;
  if (!min_rtt_ || rtt_sample < *min_rtt_ || expired) {
    min_rtt_ = std::max(rtt_sample, Duration(1));
    min_rtt_stamp_ = now;
  }
  if (expired && !idle_restart_ && mode_ != Mode::probe_rtt) {
    prior_cwnd_ = save_cwnd();
    mode_ = Mode::probe_rtt;
    pacing_gain_ = 1.0;
    cwnd_gain_ = 1.0;
    probe_rtt_done_stamp_.reset();
  }
  if (mode_ != Mode::probe_rtt) return;
  probe_rtt_bubble_until_ = std::max<std::uint64_t>(delivered_ + bytes_in_flight, 1);
  if (!probe_rtt_done_stamp_ && bytes_in_flight <= min_pipe_cwnd()) {
    // The queue we keep is down to a few packets: hold it there for 200 ms and a round trip.
    probe_rtt_done_stamp_ = now + kProbeRttDuration;
    probe_rtt_round_done_ = false;
    next_round_delivered_ = delivered_;
  } else if (probe_rtt_done_stamp_) {
    if (round_start_) probe_rtt_round_done_ = true;
    if (probe_rtt_round_done_) check_probe_rtt_done(now);
  }
}

void Bbr::check_probe_rtt_done(Instant now) {
  if (!probe_rtt_done_stamp_ || now <= *probe_rtt_done_stamp_) return;
  min_rtt_stamp_ = now;  // the estimate is fresh again (Linux does the same)
  cwnd_ = std::max(cwnd_, prior_cwnd_);
  probe_rtt_done_stamp_.reset();
  if (full_bandwidth_reached_) {
    enter_probe_bw(now);
  } else {
    mode_ = Mode::startup;
    pacing_gain_ = kStartupPacingGain;
    cwnd_gain_ = kCwndGain;
  }
}

void Bbr::update_pacing_rate(const RttEstimator& rtt) {
  // Once an RTT is known: the startup gain over the window, until the model says more. The first
  // rate samples (the handshake's, app-limited) are far below what the window allows.
  if (pacing_rate_ == 0 && rtt.has_sample()) pacing_rate_ = pacing_rate_bytes_per_sec(rtt);
  const std::uint64_t bandwidth = max_bandwidth_.best();
  if (bandwidth == 0) return;
  const std::uint64_t rate = to_rate(pacing_gain_ * static_cast<double>(bandwidth) * kPacingMargin);
  // In startup only upwards: an early low sample must not slow the doubling down.
  if (full_bandwidth_reached_ || rate > pacing_rate_) pacing_rate_ = rate;
}

void Bbr::update_cwnd(std::uint64_t acked_bytes) {
  std::uint64_t target = std::min(target_inflight(cwnd_gain_) + ack_aggregation_allowance(), kMaximumWindow);
  if (mode_ == Mode::probe_bw && cycle_index_ == 0) target += 2 * mss_;  // room for the probe's burst
  if (full_bandwidth_reached_) {
    cwnd_ = std::min(grow_window(cwnd_, acked_bytes), std::max(target, min_pipe_cwnd()));
  } else if (cwnd_ < target || delivered_ < initial_window(mss_)) {
    cwnd_ = grow_window(cwnd_, acked_bytes);
  }
  cwnd_ = std::max(cwnd_, min_pipe_cwnd());
  if (mode_ == Mode::probe_rtt) cwnd_ = std::min(cwnd_, min_pipe_cwnd());
}

void Bbr::on_congestion_event(Instant now, Instant sent_time_of_lost, bool persistent, const RttEstimator&) {
  if (!in_recovery(sent_time_of_lost)) {
    recovery_start_before_event_ = recovery_start_;
    recovery_start_ = now;
  }
  lost_in_phase_ = true;
  if (persistent) {
    // Nothing got through for several RTOs: start over from a small window (the model is kept, and
    // the window grows back by what is acknowledged).
    cwnd_ = min_pipe_cwnd();
    recovery_start_before_event_.reset();
  }
}

void Bbr::on_spurious_congestion(Instant) {
  if (!recovery_start_before_event_) return;
  recovery_start_ = *recovery_start_before_event_;
  recovery_start_before_event_.reset();
}

void Bbr::on_max_datagram_size_changed(std::uint64_t max_datagram_size) {
  mss_ = sanitize_max_datagram_size(max_datagram_size);
  cwnd_ = std::max(cwnd_, min_pipe_cwnd());
}

}  // namespace srudp::transport
