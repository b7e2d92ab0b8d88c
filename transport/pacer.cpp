#include "transport/pacer.hpp"

#include <algorithm>
#include <limits>

namespace srudp::transport {

namespace {

__extension__ using int128 = __int128;

constexpr std::int64_t kUnitsPerByte = 1'000'000'000;  // credit units: 1e-9 byte
// Bounds a single datagram's cost so credit arithmetic stays within int64.
constexpr std::uint64_t kMaxChargedBytes = std::uint64_t{1} << 32;
constexpr std::uint64_t kMaxDatagramSize = 65527;

std::int64_t to_units(std::uint64_t bytes) {
  return static_cast<std::int64_t>(std::min(bytes, kMaxChargedBytes)) * kUnitsPerByte;
}

std::uint64_t sanitize_mss(std::uint64_t mss) { return std::clamp<std::uint64_t>(mss, 1, kMaxDatagramSize); }

}  // namespace

Pacer::Pacer(std::uint64_t max_datagram_size)
    : mss_(sanitize_mss(max_datagram_size)),
      capacity_(to_units(kMinBurstPackets * mss_)),
      credit_(capacity_) {}

void Pacer::on_max_datagram_size_changed(std::uint64_t max_datagram_size) {
  mss_ = sanitize_mss(max_datagram_size);
}

void Pacer::refill(Instant now) {
  if (!last_update_) {
    last_update_ = now;
    return;
  }
  if (now <= *last_update_) return;  // time never runs backwards for the bucket
  const std::int64_t elapsed_ns = (now - *last_update_).count();
  last_update_ = now;
  if (rate_ == 0) {
    credit_ = capacity_;
    return;
  }
  // Exact: a nanosecond at R bytes/s earns R units. 128-bit so long idle periods cannot overflow.
  const int128 earned = int128{elapsed_ns} * int128{rate_};
  credit_ = static_cast<std::int64_t>(std::min<int128>(int128{credit_} + earned, capacity_));
}

void Pacer::set_capacity(std::uint64_t rate_bytes_per_sec, std::uint64_t congestion_window) {
  const CapacityInputs inputs{rate_bytes_per_sec, congestion_window, mss_};
  if (capacity_inputs_ == inputs) return;
  capacity_inputs_ = inputs;
  // The credit the rate earns in kBurstInterval, within [min, max] bursts and at most a window.
  const int128 interval_bytes =
      int128{rate_bytes_per_sec} * kBurstInterval.count() / kUnitsPerByte;
  std::uint64_t burst = static_cast<std::uint64_t>(std::clamp<int128>(
      interval_bytes, kMinBurstPackets * mss_, kMaxBurstPackets * mss_));
  burst = std::max(std::min(burst, congestion_window), mss_);
  capacity_ = to_units(burst);
  credit_ = std::min(credit_, capacity_);
}

Instant Pacer::next_send_time(Instant now, std::uint64_t bytes, std::uint64_t rate_bytes_per_sec,
                              std::uint64_t congestion_window) {
  const bool first_use = !last_update_.has_value();
  refill(now);  // credit earned so far at the old rate
  rate_ = rate_bytes_per_sec;
  set_capacity(rate_bytes_per_sec, congestion_window);
  if (first_use) credit_ = capacity_;  // start with a full burst at the first rate we are given
  if (rate_ == 0) return now;
  const std::int64_t need = std::min(to_units(bytes), capacity_);
  if (credit_ >= need) return now;
  const int128 deficit = int128{need} - credit_;
  const int128 wait_ns = (deficit + rate_ - 1) / rate_;  // round up: never early
  return now + Duration(static_cast<std::int64_t>(wait_ns));
}

Instant Pacer::wakeup_time(Instant now, std::uint64_t bytes) const {
  if (rate_ == 0) return now;
  const std::int64_t one = std::min(to_units(bytes), capacity_);
  const int128 span_units = int128{rate_} * kWakeupSpan.count();  // a nanosecond earns rate_ units
  const int128 batch = std::clamp<int128>(span_units, one, int128{one} * kWakeupBatchPackets);
  const std::int64_t need = static_cast<std::int64_t>(std::min<int128>(batch, capacity_));
  if (credit_ >= need) return now;
  const int128 wait_ns = (int128{need} - credit_ + rate_ - 1) / rate_;
  const Instant at = (last_update_ ? std::max(*last_update_, now) : now) + Duration(static_cast<std::int64_t>(wait_ns));
  return std::max(at, now);
}

void Pacer::on_sent(Instant now, std::uint64_t bytes) {
  refill(now);
  credit_ = std::max(credit_ - to_units(bytes), -capacity_);
}

std::uint64_t Pacer::capacity_bytes() const {
  return static_cast<std::uint64_t>(capacity_ / kUnitsPerByte);
}

std::int64_t Pacer::credit_bytes() const {
  // Floor division, so a debt of a fraction of a byte shows as -1.
  return credit_ >= 0 ? credit_ / kUnitsPerByte : -((-credit_ + kUnitsPerByte - 1) / kUnitsPerByte);
}

}  // namespace srudp::transport
