#include "transport/sent_packets.hpp"

#include <algorithm>

#include "wire/packet.hpp"

namespace srudp::transport {

namespace {

// Ack delays beyond this are nonsense from the peer; saturating keeps the conversion to
// nanoseconds from overflowing (the RTT estimator bounds its inputs to an hour as well).
constexpr std::uint64_t kMaxAckDelayUs = 3'600'000'000;

}  // namespace

SentPackets::SentPackets(std::uint64_t first_packet_number)
    : first_pn_(first_packet_number), next_pn_(first_packet_number) {}

Result<std::uint64_t> SentPackets::next_packet_number(RandomSource& rng) {
  if (next_pn_allocated_) return next_pn_;

  if (until_skip_ == 0) {
    until_skip_ = kMinSkipInterval + skip_draws_.uniform(rng, kMaxSkipInterval - kMinSkipInterval + 1);
  }
  if (--until_skip_ == 0 && next_pn_ < wire::kMaxPacketNumber) {
    // Never sent, so a peer acknowledging it acknowledges something it cannot have received.
    skipped_.push_back(next_pn_);
    if (skipped_.size() > kMaxRememberedSkips) skipped_.pop_front();
    ++next_pn_;
  }
  if (next_pn_ > wire::kMaxPacketNumber) return errc::key_limit_reached;
  next_pn_allocated_ = true;
  return next_pn_;
}

std::error_code SentPackets::on_packet_sent(const SentPacket& packet) {
  if (!next_pn_allocated_ || packet.packet_number != next_pn_) return errc::invalid_argument;
  next_pn_allocated_ = false;
  ++next_pn_;
  largest_sent_ = packet.packet_number;

  SentPacket& recorded = outstanding_.push_back(packet);  // the one copy a sent packet costs
  if (recorded.in_flight) {
    recorded.delivery = delivery_rate_.on_packet_sent(recorded.time_sent, bytes_in_flight_);
    bytes_in_flight_ += recorded.size;
  }
  if (recorded.ack_eliciting) ++ack_eliciting_in_flight_;
  const bool ack_only = !recorded.ack_eliciting && !recorded.in_flight;
  const std::uint64_t pn = recorded.packet_number;
  if (ack_only) {
    ack_only_.push_back(pn);
    forget_old_ack_only_packets();
  }
  return {};
}

void SentPackets::forget_old_ack_only_packets() {
  // ack_only_ may name packets already acknowledged or declared lost; it is trimmed only when it
  // grows past twice the budget, and then every number dropped from it is at least
  // kMaxAckOnlyPackets ACK-only packets old. So both the deque and the ACK-only packets still
  // outstanding stay below 2 * kMaxAckOnlyPackets.
  if (ack_only_.size() <= 2 * kMaxAckOnlyPackets) return;
  while (ack_only_.size() > kMaxAckOnlyPackets) {
    outstanding_.erase(ack_only_.front());  // never in flight nor ack-eliciting: no counter changes
    ack_only_.pop_front();
  }
}

std::error_code SentPackets::validate(const wire::Ack& ack) const {
  if (ack.ranges.empty()) return errc::malformed;
  for (std::size_t i = 0; i < ack.ranges.size(); ++i) {
    const auto& r = ack.ranges[i];
    if (r.smallest > r.largest) return errc::malformed;
    if (i > 0 && r.largest >= ack.ranges[i - 1].smallest) return errc::malformed;
  }
  // Ranges are descending: the first holds the largest number, the last the smallest.
  if (!largest_sent_ || ack.ranges.front().largest > *largest_sent_) {
    return errc::protocol_violation;
  }
  if (ack.ranges.back().smallest < first_pn_) return errc::protocol_violation;
  // Both lists are sorted (ranges descending, skips ascending): one merge walk, O(ranges + skips).
  auto skip = skipped_.rbegin();
  for (const auto& r : ack.ranges) {
    while (skip != skipped_.rend() && *skip > r.largest) ++skip;
    if (skip != skipped_.rend() && *skip >= r.smallest) return errc::protocol_violation;
  }
  return {};
}

void SentPackets::uncount(const SentPacket& p) {
  if (p.in_flight) bytes_in_flight_ -= p.size;
  if (p.ack_eliciting) --ack_eliciting_in_flight_;
}

std::optional<SentPacket> SentPackets::remove(std::uint64_t pn) {
  std::optional<SentPacket> p = outstanding_.take(pn);
  if (p) uncount(*p);
  return p;
}

Result<AckResult> SentPackets::on_ack_received(const wire::Ack& ack, Instant now) {
  AckResult result;
  if (const auto ec = on_ack_received(ack, now, result)) return ec;
  return result;
}

std::error_code SentPackets::on_ack_received(const wire::Ack& ack, Instant now, AckResult& result) {
  result.newly_acked.clear();
  result.rtt_sample.reset();
  result.ack_delay = {};
  if (const auto ec = validate(ack)) return ec;

  const std::uint64_t largest = ack.ranges.front().largest;
  largest_acked_ = std::max(largest_acked_.value_or(0), largest);

  result.ack_delay = std::chrono::microseconds(std::min(ack.ack_delay_us, kMaxAckDelayUs));

  // At most one allocation per ACK (none when `result` has room from earlier ACKs): room for
  // every outstanding number the ranges cover.
  std::size_t covered = 0;
  if (!outstanding_.empty()) {
    for (const auto& r : ack.ranges) {
      const std::uint64_t lo = std::max(r.smallest, outstanding_.first_number());
      const std::uint64_t hi = std::min(r.largest, outstanding_.last_number());
      if (lo <= hi) covered += static_cast<std::size_t>(std::min<std::uint64_t>(hi - lo + 1, outstanding_.size()));
    }
  }
  if (covered > 0) result.newly_acked.reserve(std::min(covered, outstanding_.size()));

  std::optional<Instant> largest_time_sent;
  bool any_ack_eliciting = false;
  // Ranges are newest first; walk them oldest first so newly_acked comes out ascending. Each
  // range costs one step per outstanding number it overlaps.
  for (auto r = ack.ranges.rbegin(); r != ack.ranges.rend(); ++r) {
    if (outstanding_.empty()) break;
    // Ranges an ACK keeps repeating mostly lie below everything still outstanding.
    if (r->largest < outstanding_.first_number()) continue;
    const std::uint64_t last = std::min(r->largest, outstanding_.last_number());
    for (std::uint64_t pn = std::max(r->smallest, outstanding_.first_number()); pn <= last; ++pn) {
      const SentPacket* p = outstanding_.find(pn);
      if (p == nullptr) continue;
      if (pn == largest) largest_time_sent = p->time_sent;
      any_ack_eliciting = any_ack_eliciting || p->ack_eliciting;
      uncount(*p);
      result.newly_acked.push_back(*p);
      outstanding_.erase(pn);
      if (outstanding_.empty()) break;
    }
  }
  // In send order, as the estimator expects.
  for (SentPacket& p : result.newly_acked) {
    if (p.in_flight) p.rate_sample = delivery_rate_.on_packet_acked(now, p.delivery, p.time_sent, p.size);
  }
  if (largest_time_sent && any_ack_eliciting) {
    result.rtt_sample = std::max(now - *largest_time_sent, Duration::zero());
  }
  return {};
}

bool SentPackets::was_skipped(std::uint64_t pn) const {
  return std::binary_search(skipped_.begin(), skipped_.end(), pn);
}

bool SentPackets::only_skipped_between(std::uint64_t a, std::uint64_t b) const {
  if (b <= a) return false;
  const std::uint64_t between = b - a - 1;
  if (between == 0) return true;
  if (between > skipped_.size()) return false;
  const auto lo = std::upper_bound(skipped_.begin(), skipped_.end(), a);
  const auto hi = std::lower_bound(skipped_.begin(), skipped_.end(), b);
  return static_cast<std::uint64_t>(hi - lo) == between;
}

}  // namespace srudp::transport
