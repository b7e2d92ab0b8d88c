#include "transport/loss_detection.hpp"

#include <algorithm>

namespace srudp::transport {

LossDetection::LossDetection(LossDetectionConfig config, std::uint64_t first_packet_number)
    : config_(config), sent_(first_packet_number) {
  config_.packet_threshold = std::max<std::uint64_t>(config_.packet_threshold, 1);
  config_.max_packet_threshold = std::max(config_.max_packet_threshold, config_.packet_threshold);
  config_.max_pto = std::max(config_.max_pto, RttEstimator::kGranularity);
  packet_threshold_ = config_.packet_threshold;
}

std::error_code LossDetection::on_packet_sent(const SentPacket& packet, const RttEstimator& rtt) {
  const Instant now = packet.time_sent;
  const bool ack_eliciting = packet.ack_eliciting;
  const bool in_flight = packet.in_flight;
  if (const auto ec = sent_.on_packet_sent(packet)) return ec;
  if (ack_eliciting) last_ack_eliciting_sent_ = now;
  if (in_flight || ack_eliciting) set_timer(now, rtt);
  return {};
}

Result<AckOutcome> LossDetection::on_ack_received(const wire::Ack& ack, Instant now,
                                                  RttEstimator& rtt) {
  AckOutcome outcome;
  if (const auto ec = on_ack_received(ack, now, rtt, outcome)) return ec;
  return outcome;
}

std::error_code LossDetection::on_ack_received(const wire::Ack& ack, Instant now, RttEstimator& rtt,
                                               AckOutcome& outcome) {
  // The acknowledged packets go into the memory of outcome.acked, which the caller reuses.
  AckResult acked;
  acked.newly_acked.swap(outcome.acked);
  const std::error_code ec = sent_.on_ack_received(ack, now, acked);
  outcome.acked.swap(acked.newly_acked);
  outcome.lost.clear();
  outcome.spurious_losses.clear();
  outcome.persistent_congestion = false;
  outcome.rtt_sample.reset();
  if (ec) return ec;
  outcome.rtt_sample = acked.rtt_sample;
  // Numbers we no longer track because we declared them lost are no violation: the peer did
  // receive them, late. SentPackets ignores them; here they teach us the path's reordering.
  if (config_.adaptive_reordering) outcome.spurious_losses = find_spurious_losses(ack, now);
  // A duplicate or stale ACK acknowledges nothing new: it says nothing about loss and must not
  // reset the backoff (RFC 9002 appendix A.7). (A late ACK of spurious losses only widened the
  // thresholds: the loss timer, if armed, re-evaluates with them when it fires.)
  if (outcome.acked.empty()) return {};

  if (outcome.rtt_sample) {
    rtt.update(*outcome.rtt_sample, acked.ack_delay, now, handshake_confirmed_);
    if (!first_rtt_sample_) first_rtt_sample_ = now;
  }
  decay_reordering_tolerance(now, rtt);

  auto losses = detect_lost_packets(now, rtt);
  outcome.lost = std::move(losses.lost);
  outcome.persistent_congestion = losses.persistent_congestion;

  // A client not yet sure the server validated its address keeps backing off: a server doing
  // expensive handshake work must not be hammered with probes (RFC 9002 section 6.2.1).
  if (config_.peer_validated_address) pto_count_ = 0;
  set_timer(now, rtt);
  return {};
}

TimeoutOutcome LossDetection::on_timeout(Instant now, RttEstimator& rtt) {
  TimeoutOutcome outcome;
  if (!timer_ || now < *timer_) return outcome;

  if (loss_time_) {
    // Time-threshold loss: a packet a little older than an acknowledged one has waited long
    // enough to be reordering no more.
    auto losses = detect_lost_packets(now, rtt);
    outcome.action = TimeoutOutcome::Action::packets_lost;
    outcome.lost = std::move(losses.lost);
    outcome.persistent_congestion = losses.persistent_congestion;
    set_timer(now, rtt);
    return outcome;
  }

  // PTO: no acknowledgement came back for the latest ack-eliciting packet within an RTT plus
  // slack. Probing (rather than declaring anything lost) makes the peer acknowledge, which
  // then lets the thresholds above find the actual losses, the tail included.
  outcome.action = TimeoutOutcome::Action::send_probes;
  if (sent_.ack_eliciting_in_flight() == 0) {
    outcome.probe_packets = 1;  // anti-deadlock: just make the peer answer
  } else {
    // One probe repairs the common single tail loss at the least cost; once a probe has gone
    // unanswered the path looks lossy, and two guard against another doubled wait.
    outcome.probe_packets = pto_count_ == 0 ? 1 : 2;
  }
  pto_count_ = std::min<std::uint32_t>(pto_count_ + 1, 62);
  last_pto_fired_ = now;
  set_timer(now, rtt);
  return outcome;
}

void LossDetection::on_handshake_confirmed(Instant now, const RttEstimator& rtt) {
  handshake_confirmed_ = true;
  config_.peer_validated_address = true;
  set_timer(now, rtt);
}

Duration LossDetection::pto_period(const RttEstimator& rtt) const {
  // Before confirmation the peer may not honour max_ack_delay yet, and handshake packets are
  // acknowledged at once anyway: it is left out (RFC 9002 section 6.2.1).
  return rtt.pto_base(handshake_confirmed_ ? rtt.max_ack_delay() : Duration::zero());
}

Duration LossDetection::persistent_congestion_period(const RttEstimator& rtt) {
  return rtt.pto_base(rtt.max_ack_delay()) * kPersistentCongestionThreshold;
}

Duration LossDetection::loss_delay(const RttEstimator& rtt) const {
  return std::max(std::max(rtt.latest(), rtt.smoothed()) * time_threshold_num_ / kTimeThresholdDen,
                  RttEstimator::kGranularity);
}

std::vector<std::uint64_t> LossDetection::find_spurious_losses(const wire::Ack& ack, Instant now) {
  std::vector<std::uint64_t> spurious;
  if (declared_lost_.empty()) return spurious;
  const auto by_number = [](const DeclaredLoss& d, std::uint64_t pn) {
    return d.packet_number < pn;
  };
  std::uint64_t distance = 0;
  // Ranges are descending (validated); walking them backwards yields ascending numbers. Each
  // range costs one binary search, plus one step per remembered loss it covers.
  for (auto r = ack.ranges.rbegin(); r != ack.ranges.rend(); ++r) {
    if (r->largest < declared_lost_.front().packet_number) continue;
    if (r->smallest > declared_lost_.back().packet_number) break;
    auto it = std::lower_bound(declared_lost_.begin(), declared_lost_.end(), r->smallest, by_number);
    for (; it != declared_lost_.end() && it->packet_number <= r->largest; ++it) {
      spurious.push_back(it->packet_number);
      // The ACK that made us declare it lost acknowledged largest_acked without it: the peer
      // received at least that many newer packets first.
      if (it->largest_acked > it->packet_number) {
        distance = std::max(distance, it->largest_acked - it->packet_number);
      }
    }
  }
  if (spurious.empty()) return spurious;

  // Each is reported once: an ACK frame keeps repeating its ranges.
  declared_lost_.erase(std::remove_if(declared_lost_.begin(), declared_lost_.end(), [&](const DeclaredLoss& d) {
    return std::binary_search(spurious.begin(), spurious.end(), d.packet_number);
  }), declared_lost_.end());
  spurious_loss_count_ += spurious.size();
  // Tolerate this depth from now on: the packet threshold is one more than the distance seen;
  // the time threshold's margin over one RTT doubles per event, 1/8 up to 16/8.
  const std::uint64_t wanted = distance < config_.max_packet_threshold ? distance + 1
                                                                      : config_.max_packet_threshold;
  packet_threshold_ = std::max(packet_threshold_, wanted);
  time_threshold_num_ = std::min(kTimeThresholdDen + 2 * (time_threshold_num_ - kTimeThresholdDen),
                                 kMaxTimeThresholdNum);
  last_reordering_change_ = now;
  return spurious;
}

void LossDetection::decay_reordering_tolerance(Instant now, const RttEstimator& rtt) {
  if (!last_reordering_change_) return;
  if (now - *last_reordering_change_ < kReorderingDecayRtts * rtt.smoothed()) return;
  // One burst of reordering must not slow loss detection down forever: halve the excess.
  packet_threshold_ = config_.packet_threshold + (packet_threshold_ - config_.packet_threshold) / 2;
  time_threshold_num_ =
      kTimeThresholdDen + std::max<std::int64_t>((time_threshold_num_ - kTimeThresholdDen) / 2,
                                                 kTimeThresholdNum - kTimeThresholdDen);
  const bool at_defaults =
      packet_threshold_ == config_.packet_threshold && time_threshold_num_ == kTimeThresholdNum;
  if (at_defaults) {
    last_reordering_change_.reset();
  } else {
    last_reordering_change_ = now;
  }
}

LossDetection::DetectedLosses LossDetection::detect_lost_packets(Instant now, RttEstimator& rtt) {
  DetectedLosses result;
  loss_time_.reset();
  const auto largest_acked = sent_.largest_acked();
  if (!largest_acked) return result;

  // loss_delay = 9/8 (or more, adapted) * max(latest_rtt, smoothed_rtt), at least the timer
  // granularity.
  const Duration loss_delay = this->loss_delay(rtt);
  const Instant lost_send_time = now - loss_delay;
  const Duration congestion_period = persistent_congestion_period(rtt);

  // Persistent congestion (RFC 9002 section 7.6.2): two ack-eliciting packets lost, sent more
  // than the congestion period apart, none of the packets between them acknowledged, both sent
  // after the first RTT sample. `run_start` is the send time of the first such packet of the
  // current run; a packet between that was acknowledged earlier (a hole in the outstanding
  // numbers not explained by a deliberate skip) or that is not lost ends the run.
  std::optional<Instant> run_start;
  std::optional<std::uint64_t> previous_pn;
  std::vector<std::uint64_t> lost_pns;

  const auto& outstanding = sent_.outstanding();
  for (const auto& [pn, p] : outstanding) {
    if (pn > *largest_acked) break;
    if (!previous_pn || !sent_.only_skipped_between(*previous_pn, p.packet_number)) {
      run_start.reset();
    }
    previous_pn = p.packet_number;

    const bool lost = p.time_sent <= lost_send_time ||
                      *largest_acked - p.packet_number >= packet_threshold_;
    if (!lost) {
      const Instant when = p.time_sent + loss_delay;
      loss_time_ = loss_time_ ? std::min(*loss_time_, when) : when;
      run_start.reset();
      continue;
    }
    lost_pns.push_back(p.packet_number);
    if (p.ack_eliciting && first_rtt_sample_ && p.time_sent > *first_rtt_sample_) {
      if (!run_start) {
        run_start = p.time_sent;
      } else if (p.time_sent - *run_start > congestion_period) {
        result.persistent_congestion = true;
      }
    }
  }

  result.lost.reserve(lost_pns.size());
  for (const std::uint64_t pn : lost_pns) {
    if (auto p = sent_.remove(pn)) result.lost.push_back(std::move(*p));
  }
  if (config_.adaptive_reordering) remember_declared_losses(lost_pns, *largest_acked);
  if (result.persistent_congestion) rtt.on_persistent_congestion();
  return result;
}

void LossDetection::remember_declared_losses(const std::vector<std::uint64_t>& lost_pns,
                                             std::uint64_t largest_acked) {
  for (const std::uint64_t pn : lost_pns) {
    // The lost packets of one call are a prefix of the outstanding ones (both rules are monotone
    // in the number), so numbers arrive ascending; inserting in place keeps that regardless.
    if (declared_lost_.empty() || declared_lost_.back().packet_number < pn) {
      declared_lost_.push_back({pn, largest_acked});
    } else {
      const auto at = std::lower_bound(
          declared_lost_.begin(), declared_lost_.end(), pn,
          [](const DeclaredLoss& d, std::uint64_t n) { return d.packet_number < n; });
      if (at != declared_lost_.end() && at->packet_number == pn) continue;
      declared_lost_.insert(at, {pn, largest_acked});
    }
    if (declared_lost_.size() > kMaxRememberedLosses) declared_lost_.pop_front();
  }
}

void LossDetection::set_timer(Instant now, const RttEstimator& rtt) {
  if (loss_time_) {
    timer_ = loss_time_;
    return;
  }
  const bool nothing_to_probe = sent_.ack_eliciting_in_flight() == 0;
  if (nothing_to_probe && config_.peer_validated_address) {
    timer_.reset();
    return;
  }

  // PTO = period * 2^pto_count, capped (pto_count itself is capped at 62, so the shift is safe).
  Duration pto = pto_period(rtt);
  for (std::uint32_t i = 0; i < pto_count_ && pto < config_.max_pto; ++i) pto *= 2;
  pto = std::min(pto, config_.max_pto);

  Instant anchor = now;  // anti-deadlock: nothing in flight, probe from now
  if (!nothing_to_probe) {
    anchor = *last_ack_eliciting_sent_;
    // After a PTO fired without a probe being sent, count from the firing: the next expiry is
    // then always in the future and the timer never spins.
    if (last_pto_fired_ && *last_pto_fired_ > anchor) anchor = *last_pto_fired_;
  }
  timer_ = anchor + pto;
}

}  // namespace srudp::transport
