#include "transport/received_packets.hpp"

#include <algorithm>
#include <iterator>
#include <limits>

namespace srudp::transport {

namespace {

// The first range starting above pn: the range that could hold pn, if any, is the one before it.
template <class Iter>
Iter first_range_above(Iter begin, Iter end, std::uint64_t pn) {
  return std::upper_bound(begin, end, pn,
                          [](std::uint64_t v, const AckRange& r) { return v < r.smallest; });
}

}  // namespace

ReceivedPackets::ReceivedPackets(ReceivedPacketsConfig config) : config_(config) {
  config_.max_ranges = std::max<std::size_t>(config_.max_ranges, 1);
  config_.ack_eliciting_threshold = std::max<std::uint32_t>(config_.ack_eliciting_threshold, 1);
}

bool ReceivedPackets::is_duplicate(std::uint64_t pn) const {
  if (!ranges_.empty() && pn > ranges_.back().largest) return false;  // the common case: newest
  if (pn < floor_) return true;
  const auto above = first_range_above(ranges_.begin(), ranges_.end(), pn);
  return above != ranges_.begin() && std::prev(above)->largest >= pn;
}

ReceivedPackets::Outcome ReceivedPackets::on_packet_received(std::uint64_t pn, bool ack_eliciting,
                                                            Instant now) {
  if (is_duplicate(pn)) return Outcome::duplicate;

  const bool new_largest = ranges_.empty() || pn > ranges_.back().largest;
  if (new_largest) largest_received_time_ = now;

  std::uint64_t run_start = pn;  // smallest number of the contiguous run now holding pn
  if (new_largest && !ranges_.empty() && ranges_.back().largest + 1 == pn) {
    // In order, the common case: the newest range grows by one.
    ranges_.back().largest = pn;
    run_start = ranges_.back().smallest;
  } else {
    run_start = insert(pn);
  }
  // A late packet below what the peer already knows: report its range again, or the peer would
  // never learn it arrived (and could not tell its loss was spurious).
  if (pn < report_floor_) report_floor_ = std::max(run_start, floor_);

  unreported_ = true;
  if (!ack_eliciting) return Outcome::fresh;  // never triggers an ACK on its own (RFC 9000 13.2.1)

  // Out of order (RFC 9000 section 13.2.1): either older than an ack-eliciting packet already
  // seen (it fills or lands in a gap), or newer with missing numbers between the largest
  // ack-eliciting packet and this one (a gap just opened). Either way the sender's loss detection
  // benefits from hearing about it at once.
  bool out_of_order = false;
  if (largest_ack_eliciting_) {
    const std::uint64_t prev = *largest_ack_eliciting_;
    out_of_order = pn < prev || run_start > prev + 1;
  }
  if (!largest_ack_eliciting_ || pn > *largest_ack_eliciting_) largest_ack_eliciting_ = pn;

  ++ack_eliciting_since_ack_;
  if (!first_unacked_ack_eliciting_) first_unacked_ack_eliciting_ = now;
  if ((out_of_order || ack_eliciting_since_ack_ >= config_.ack_eliciting_threshold) &&
      !immediate_ack_since_) {
    immediate_ack_since_ = now;
  }
  return Outcome::fresh;
}

std::uint64_t ReceivedPackets::insert(std::uint64_t pn) {
  // Only the two neighbours are looked at, so a jump of 2^62 costs the same as a step of 1: one
  // new range at most.
  auto above = first_range_above(ranges_.begin(), ranges_.end(), pn);
  const bool joins_below = above != ranges_.begin() && std::prev(above)->largest + 1 == pn;
  const bool joins_above = above != ranges_.end() && pn != std::numeric_limits<std::uint64_t>::max() &&
                           above->smallest == pn + 1;
  if (joins_below && joins_above) {
    auto below = std::prev(above);
    below->largest = above->largest;
    ranges_.erase(above);
    return below->smallest;
  }
  if (joins_below) {
    auto below = std::prev(above);
    below->largest = pn;
    return below->smallest;
  }
  if (joins_above) {
    above->smallest = pn;
    return pn;
  }
  ranges_.insert(above, AckRange{pn, pn});
  if (ranges_.size() > config_.max_ranges) {
    const std::size_t keep_from = ranges_.size() - config_.max_ranges;
    fold_ranges_below(keep_from, ranges_[keep_from].smallest);
  }
  return pn;
}

std::optional<Instant> ReceivedPackets::ack_deadline() const {
  if (immediate_ack_since_) return immediate_ack_since_;
  if (first_unacked_ack_eliciting_) return *first_unacked_ack_eliciting_ + config_.max_ack_delay;
  return std::nullopt;
}

bool ReceivedPackets::ack_due(Instant now) const {
  const auto deadline = ack_deadline();
  return deadline && now >= *deadline;
}

std::optional<wire::Ack> ReceivedPackets::build_ack(Instant now, std::size_t max_ranges) const {
  if (ranges_.empty()) return std::nullopt;
  max_ranges = std::clamp<std::size_t>(max_ranges, 1, kMaxAckRanges);

  wire::Ack ack;
  const Duration delay = std::max(now - largest_received_time_, Duration::zero());
  ack.ack_delay_us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(delay).count());
  // The newest range always, then the newer ranges the peer has not yet seen acknowledged.
  const auto known = std::lower_bound(
      ranges_.begin(), std::prev(ranges_.end()), report_floor_,
      [](const AckRange& r, std::uint64_t v) { return r.largest < v; });
  const auto unknown = static_cast<std::size_t>(ranges_.end() - known);
  const std::size_t count = std::min(max_ranges, unknown);
  ack.ranges.reserve(count);
  std::copy_n(ranges_.rbegin(), count, std::back_inserter(ack.ranges));
  return ack;
}

void ReceivedPackets::on_ack_sent() {
  ack_eliciting_since_ack_ = 0;
  first_unacked_ack_eliciting_.reset();
  immediate_ack_since_.reset();
  unreported_ = false;
}

void ReceivedPackets::on_ack_frame_acked(std::uint64_t largest) {
  if (ranges_.empty() || largest < floor_) return;
  const auto first_ending_at_or_above = [this](std::uint64_t v) {
    return static_cast<std::size_t>(
        std::lower_bound(ranges_.begin(), ranges_.end(), v,
                         [](const AckRange& r, std::uint64_t x) { return r.largest < x; }) -
        ranges_.begin());
  };
  // The range holding `largest` (or the first one above it) and everything newer stay reported;
  // the peer has seen the rest. If `largest` is beyond everything we hold the call is bogus: keep
  // reporting the newest range so the next ACK still says something.
  const std::size_t reported_from = std::min(first_ending_at_or_above(largest), ranges_.size() - 1);
  report_floor_ = std::max(report_floor_, ranges_[reported_from].smallest);

  // Forget only what is both known to the peer and older than the reordering window.
  const std::uint64_t newest = ranges_.back().largest;
  const std::uint64_t window_floor =
      newest > config_.reordering_window ? newest - config_.reordering_window : 0;
  const std::uint64_t limit = std::min(report_floor_, window_floor);
  const std::size_t keep_from = std::min(first_ending_at_or_above(limit), ranges_.size() - 1);
  // Folded ranges all end below `limit`, so numbers from there up (the gaps inside the window)
  // stay acceptable.
  fold_ranges_below(keep_from, std::min(limit, ranges_[keep_from].smallest));
}

void ReceivedPackets::fold_ranges_below(std::size_t keep_from, std::uint64_t new_floor) {
  if (keep_from == 0 || keep_from >= ranges_.size()) return;
  ranges_.erase(ranges_.begin(), ranges_.begin() + static_cast<std::ptrdiff_t>(keep_from));
  floor_ = std::max(floor_, new_floor);
  report_floor_ = std::max(report_floor_, floor_);
}

std::optional<std::uint64_t> ReceivedPackets::largest() const {
  if (ranges_.empty()) return std::nullopt;
  return ranges_.back().largest;
}

}  // namespace srudp::transport
