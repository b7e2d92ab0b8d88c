// Token-bucket pacing: spreads a window's worth of datagrams over the round trip instead of sending
// them back to back, allowing a short burst. Credit is kept in exact integer units (1e-9 byte), so a
// sender that always sends at next_send_time() stays on the ideal schedule to within one nanosecond
// however long it runs: rounding never accumulates.
#pragma once

#include <cstdint>
#include <optional>

#include "common/time.hpp"

namespace srudp::transport {

class Pacer {
 public:
  // The burst allowance is the credit the rate earns in kBurstInterval, clamped to
  // [kMinBurstPackets, kMaxBurstPackets] datagrams and to the congestion window (as in quinn).
  static constexpr Duration kBurstInterval = std::chrono::milliseconds(2);
  static constexpr std::uint64_t kMinBurstPackets = 10;
  static constexpr std::uint64_t kMaxBurstPackets = 256;

  // The bucket starts full (at the capacity of the first next_send_time call), so the first flight
  // goes out as one burst.
  explicit Pacer(std::uint64_t max_datagram_size);

  // When a datagram of `bytes` may be sent: `now` when the bucket holds enough credit, otherwise the
  // earliest instant at which it will (rounded up to the nanosecond). The rate in bytes per second
  // comes from the congestion controller; 0 disables pacing. The rate and the burst capacity are
  // taken from this call and apply from `now` on. A datagram larger than the burst capacity waits
  // for a full bucket.
  Instant next_send_time(Instant now, std::uint64_t bytes, std::uint64_t rate_bytes_per_sec,
                         std::uint64_t congestion_window);

  // When a sender that next_send_time() just held back should wake up: once the bucket holds credit
  // for a batch of datagrams rather than one. The batch is what the rate earns in kWakeupSpan,
  // within [1, kWakeupBatchPackets] datagrams of `bytes` and at most the capacity, so a slow flow
  // waits no longer than before, and a fast one pays a timer and a thread wake-up per batch instead
  // of per datagram. It sends the batch back to back, within the burst the bucket allows anyway.
  // Uses the rate and capacity of the last next_send_time() call.
  static constexpr Duration kWakeupSpan = std::chrono::milliseconds(1);
  static constexpr std::uint64_t kWakeupBatchPackets = 10;
  Instant wakeup_time(Instant now, std::uint64_t bytes) const;

  // A datagram of `bytes` was sent at `now`. Sending without credit (e.g. an ACK that is never
  // delayed) leaves a debt that later sends wait for, bounded by one burst capacity.
  void on_sent(Instant now, std::uint64_t bytes);

  void on_max_datagram_size_changed(std::uint64_t max_datagram_size);

  // Current burst capacity and credit in bytes (credit rounded down; negative while in debt).
  std::uint64_t capacity_bytes() const;
  std::int64_t credit_bytes() const;

 private:
  void refill(Instant now);
  void set_capacity(std::uint64_t rate_bytes_per_sec, std::uint64_t congestion_window);

  std::uint64_t mss_;
  std::uint64_t rate_ = 0;  // bytes per second, 0 = unpaced
  // Both in units of 1e-9 byte: a nanosecond at R bytes/s earns exactly R units.
  std::int64_t capacity_;
  std::int64_t credit_;
  std::optional<Instant> last_update_;
  // What capacity_ was computed from: the rate and window change once per ACK, not per packet.
  struct CapacityInputs {
    std::uint64_t rate = 0, congestion_window = 0, mss = 0;
    friend bool operator==(const CapacityInputs&, const CapacityInputs&) = default;
  };
  std::optional<CapacityInputs> capacity_inputs_;
};

}  // namespace srudp::transport
