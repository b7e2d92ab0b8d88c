// What we received in one packet-number space: duplicate detection, the ranges reported in
// selective ACK frames, and the delayed-ACK policy deciding when an ACK must go out
// (RFC 9000 sections 13.2.1, 13.2.2 and 13.2.4, adapted to srudp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/deque.hpp"
#include "common/time.hpp"
#include "wire/frame.hpp"

namespace srudp::transport {

using wire::AckRange;
using wire::kMaxAckRanges;

struct ReceivedPacketsConfig {
  // Our max_ack_delay: the longest we hold back an ACK for an ack-eliciting packet.
  Duration max_ack_delay = std::chrono::milliseconds(25);
  // ACK at once when this many ack-eliciting packets arrived since the last ACK we sent.
  std::uint32_t ack_eliciting_threshold = 2;
  // Ranges kept in memory. Older ones are folded away: every number below the oldest kept range
  // then counts as a duplicate, which is safe because the AEAD replay window rejects them anyway.
  std::size_t max_ranges = kMaxAckRanges;
  // Reordering margin: an ACK of our ACK never folds away ranges reaching into the last
  // `reordering_window` numbers below the largest received, so a late packet inside it is still
  // accepted (on a jittery path dropping it would force a needless retransmission). max_ranges
  // still bounds memory. Must stay below the AEAD replay window (4096), which rejects true replays.
  std::uint64_t reordering_window = 1024;
};

class ReceivedPackets {
 public:
  enum class Outcome {
    fresh,      // first time seen: process the packet
    duplicate,  // seen before, or older than everything remembered: drop the packet
  };

  explicit ReceivedPackets(ReceivedPacketsConfig config = {});

  // Whether `pn` would be reported as a duplicate; does not record it.
  bool is_duplicate(std::uint64_t pn) const;

  // Records an authenticated packet. Costs O(log ranges) time and at most one more range of
  // memory, whatever the distance to the previous packet number.
  Outcome on_packet_received(std::uint64_t pn, bool ack_eliciting, Instant now);

  // True when an ACK must be sent without waiting for the delayed-ACK timer: enough ack-eliciting
  // packets since the last ACK, or an ack-eliciting packet arrived out of order.
  bool should_ack_now() const { return immediate_ack_since_.has_value(); }
  // When the pending ACK is due: the arrival of the triggering packet when should_ack_now(),
  // otherwise the first unacknowledged ack-eliciting arrival + max_ack_delay; nullopt when no
  // ack-eliciting packet waits for an ACK (non-ack-eliciting ones never trigger one on their own).
  std::optional<Instant> ack_deadline() const;
  // should_ack_now() or the deadline has passed.
  bool ack_due(Instant now) const;
  // Something arrived since the last ACK sent: worth piggybacking an ACK on an outgoing packet.
  bool has_unreported() const { return unreported_; }

  // The ACK frame describing what we hold: newest ranges first, at most max_ranges of them, and
  // none the peer already knows of (see on_ack_frame_acked) except the newest; nullopt if nothing
  // is remembered.
  std::optional<wire::Ack> build_ack(Instant now, std::size_t max_ranges = kMaxAckRanges) const;
  // The caller sent an ACK built by build_ack: the delayed-ACK state starts over.
  void on_ack_sent();

  // "ACK of ACKs": a packet carrying our ACK whose Largest Acknowledged was `largest` has been
  // acknowledged, so the peer knows everything up to there. Ranges entirely below the one holding
  // `largest` are no longer reported, which keeps later ACK frames small; they are forgotten
  // (folded into the duplicate floor) only once they also lie below the reordering window.
  void on_ack_frame_acked(std::uint64_t largest);

  std::optional<std::uint64_t> largest() const;
  std::size_t range_count() const { return ranges_.size(); }
  // Every number below this counts as a duplicate (0 until ranges have been folded away).
  std::uint64_t duplicate_floor() const { return floor_; }
  // Ranges ending below this are known to the peer and left out of ACK frames.
  std::uint64_t report_floor() const { return report_floor_; }

 private:
  // Records a number that does not extend the newest range, merging it with the ranges it
  // touches. Returns the smallest number of the contiguous run now holding it.
  std::uint64_t insert(std::uint64_t pn);
  // Forgets ranges_[0, keep_from): their numbers and the gaps between them become duplicates, up
  // to `new_floor` (at most the smallest kept number, and above every forgotten one).
  void fold_ranges_below(std::size_t keep_from, std::uint64_t new_floor);

  ReceivedPacketsConfig config_;
  Deque<AckRange> ranges_;  // ascending, disjoint, non-adjacent
  // Invariant: every received number >= floor_ is in ranges_.
  std::uint64_t floor_ = 0;
  std::uint64_t report_floor_ = 0;
  Instant largest_received_time_{};
  std::optional<std::uint64_t> largest_ack_eliciting_;

  // Delayed-ACK state since the last ACK sent.
  std::uint32_t ack_eliciting_since_ack_ = 0;
  std::optional<Instant> first_unacked_ack_eliciting_;
  std::optional<Instant> immediate_ack_since_;  // set by the packet that made the ACK urgent
  bool unreported_ = false;
};

}  // namespace srudp::transport
