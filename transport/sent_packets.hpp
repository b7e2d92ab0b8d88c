// What we sent in one packet-number space and the peer has not yet acknowledged (nor have we
// declared lost): the sender's half of the reliability bookkeeping. Also hands out packet numbers,
// deliberately skipping one now and then so that a peer acknowledging packets it never received
// ("optimistic ACK", to inflate our congestion window) gives itself away (RFC 9000 section 21.4).
// It also estimates the delivery rate (transport/delivery_rate.hpp): each in-flight packet keeps a
// snapshot of the delivery counters from its send, and each acknowledged one carries a rate sample.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include "common/deque.hpp"
#include "common/random.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "transport/congestion_controller.hpp"
#include "transport/delivery_rate.hpp"
#include "transport/outstanding_packets.hpp"
#include "wire/frame.hpp"

namespace srudp::transport {

using wire::AckRange;

struct AckResult {
  std::vector<SentPacket> newly_acked;  // ascending packet numbers; empty for a duplicate ACK
  // now - time sent of the largest acknowledged packet, present only when that packet is newly
  // acknowledged and at least one newly acknowledged packet is ack-eliciting (RFC 9002 5.1).
  std::optional<Duration> rtt_sample;
  Duration ack_delay{};  // the delay the peer reported (saturated at one hour)
};

class SentPackets {
 public:
  // A skip happens once every kMinSkipInterval..kMaxSkipInterval packet numbers (uniform). The
  // first is among the first kMaxSkipInterval numbers, so a peer that acknowledges everything up
  // to the newest number it received is caught by its first ACK past that number: within 256
  // packets in ConnectionHostile/OptimisticAck (issue 3's bound), for every seed tested.
  static constexpr std::uint64_t kMinSkipInterval = 96;
  static constexpr std::uint64_t kMaxSkipInterval = 224;
  // Skipped numbers remembered for the optimistic-ACK check; older ones are forgotten.
  static constexpr std::size_t kMaxRememberedSkips = 64;
  // Packets that are neither ack-eliciting nor in flight (ACK-only) are not worth unbounded memory
  // when the peer never acknowledges them: beyond this many, the oldest are silently forgotten.
  static constexpr std::size_t kMaxAckOnlyPackets = 1024;

  // first_packet_number: the first number handed out (0 for a fresh space; tests use larger ones).
  explicit SentPackets(std::uint64_t first_packet_number = 0);

  // The number the next packet sent must carry. Returns the same number until on_packet_sent
  // records it. Error key_limit_reached once the 62-bit packet-number space is exhausted.
  Result<std::uint64_t> next_packet_number(RandomSource& rng);

  // Records a sent packet; its number must be the one next_packet_number returned
  // (invalid_argument otherwise, and nothing is recorded). Fills in its delivery snapshot.
  std::error_code on_packet_sent(const SentPacket& packet);

  // The sender has nothing to send although its window has room (or flow control holds it back):
  // packets sent from now until the ones in flight now are delivered yield app-limited samples.
  void on_app_limited() { delivery_rate_.on_app_limited(bytes_in_flight_); }

  // Processes an ACK frame. Validated first, as a whole: nothing changes on error. Newly acked
  // in-flight packets come with their rate samples.
  //   malformed: no ranges, a range with smallest > largest, ranges not descending and disjoint.
  //   protocol_violation: a range covers a number above the largest sent, below the first number,
  //   or one we skipped on purpose (the peer claims packets that never existed).
  // Cost: O(ranges + the span of outstanding numbers the ranges overlap), independent of the
  // numeric span of a range.
  Result<AckResult> on_ack_received(const wire::Ack& ack, Instant now);
  // The same into `result`, which it clears first: a caller that keeps one AckResult for every
  // ACK reuses its vector's memory (no allocation per ACK).
  std::error_code on_ack_received(const wire::Ack& ack, Instant now, AckResult& result);

  // Removes one outstanding packet (declared lost) and returns it; nullopt if not outstanding.
  // What it carried is not counted as delivered.
  std::optional<SentPacket> remove(std::uint64_t pn);

  // Outstanding packets by number (ascending): neither acknowledged nor declared lost.
  const OutstandingPackets& outstanding() const { return outstanding_; }
  // True when every number strictly between a and b (a < b) was skipped on purpose (and is still
  // remembered), i.e. no packet we sent lies between them. True when they are adjacent.
  bool only_skipped_between(std::uint64_t a, std::uint64_t b) const;
  bool was_skipped(std::uint64_t pn) const;

  std::optional<std::uint64_t> largest_sent() const { return largest_sent_; }
  // The largest number any valid ACK frame so far acknowledged.
  std::optional<std::uint64_t> largest_acked() const { return largest_acked_; }
  std::uint64_t bytes_in_flight() const { return bytes_in_flight_; }
  std::size_t ack_eliciting_in_flight() const { return ack_eliciting_in_flight_; }
  const Deque<std::uint64_t>& skipped() const { return skipped_; }
  const DeliveryRateEstimator& delivery_rate() const { return delivery_rate_; }

 private:
  std::error_code validate(const wire::Ack& ack) const;
  // A packet left the record (acknowledged or lost): it no longer counts in flight.
  void uncount(const SentPacket& p);
  void forget_old_ack_only_packets();

  OutstandingPackets outstanding_;
  std::uint64_t first_pn_;
  std::uint64_t next_pn_;
  bool next_pn_allocated_ = false;    // next_pn_ was handed out and awaits on_packet_sent
  std::uint64_t until_skip_ = 0;      // allocations left before the next skip; 0 = not drawn yet
  RandomBatch skip_draws_;            // the intervals between skips
  Deque<std::uint64_t> skipped_; // ascending, at most kMaxRememberedSkips
  Deque<std::uint64_t> ack_only_;  // numbers of ACK-only packets in send order (may be stale)
  std::optional<std::uint64_t> largest_sent_;
  std::optional<std::uint64_t> largest_acked_;
  std::uint64_t bytes_in_flight_ = 0;
  std::size_t ack_eliciting_in_flight_ = 0;
  DeliveryRateEstimator delivery_rate_;
};

}  // namespace srudp::transport
