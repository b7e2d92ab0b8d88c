#include "sim/link.hpp"

#include <algorithm>
#include <utility>

#include "sim/epoch.hpp"

namespace srudp::sim {
namespace {

constexpr std::size_t kIpv4UdpHeaders = 20 + 8;
constexpr std::size_t kIpv6UdpHeaders = 40 + 8;

__extension__ typedef unsigned __int128 u128;  // -Wpedantic: a GCC extension

// Time to clock 'bytes' onto a link of 'rate_bps', rounded up to whole nanoseconds.
Duration serialization_time(std::size_t bytes, std::uint64_t rate_bps) {
  const u128 bits = static_cast<u128>(bytes) * 8;
  const u128 ns = (bits * 1'000'000'000U + rate_bps - 1) / rate_bps;
  return Duration(static_cast<Duration::rep>(ns));
}

}  // namespace

bool LinkConfig::is_ideal() const noexcept {
  return delay == Duration::zero() && jitter == Duration::zero() && loss <= 0.0 &&
         burst.p_good_to_bad <= 0.0 && reorder <= 0.0 && duplicate <= 0.0 && corrupt <= 0.0 &&
         rate_bps == 0 && mtu == 0 && blackout.down <= Duration::zero() && outages.empty() && up;
}

std::size_t wire_size(const Datagram& datagram) noexcept {
  return datagram.bytes.size() + (datagram.to.is_v4() ? kIpv4UdpHeaders : kIpv6UdpHeaders);
}

Link::Link(LinkConfig config, Rng rng) : config_(std::move(config)), rng_(rng) {}

bool Link::is_down(Instant now) const noexcept {
  if (!config_.up) return true;
  for (const Outage& o : config_.outages) {
    if (now >= o.from && now < o.until) return true;
  }
  const BlackoutSchedule& b = config_.blackout;
  if (b.down > Duration::zero() && b.period > Duration::zero()) {
    Duration since = (now - kEpoch) - b.phase;
    if (since >= Duration::zero()) {
      since %= b.period;
      if (since < b.down) return true;
    }
  }
  return false;
}

Link::Result Link::drop(DropCause cause) {
  ++counters_.dropped[cause];
  return Result{{}, cause};
}

std::size_t Link::queued_bytes(Instant now) {
  while (!queue_.empty() && queue_.front().done <= now) {
    queue_total_ -= queue_.front().bytes;
    queue_.pop_front();
  }
  return queue_total_;
}

Link::Result Link::transmit(Instant now, Datagram&& datagram) {
  ++counters_.sent;
  counters_.sent_bytes += datagram.bytes.size();
  const std::size_t size = wire_size(datagram);

  if (is_down(now)) return drop(DropCause::blackout);
  if (config_.mtu != 0 && size > config_.mtu) return drop(DropCause::too_big);

  Instant leaves = now;
  if (config_.rate_bps != 0) {
    if (queued_bytes(now) + size > config_.queue_bytes) return drop(DropCause::queue_overflow);
    const Instant start = std::max(now, busy_until_);
    busy_until_ = start + serialization_time(size, config_.rate_bps);
    queue_.push_back({busy_until_, size});
    queue_total_ += size;
    leaves = busy_until_;
  }

  if (config_.burst.p_good_to_bad > 0.0) {
    if (bad_state_) {
      if (rng_.chance(config_.burst.p_bad_to_good)) bad_state_ = false;
    } else if (rng_.chance(config_.burst.p_good_to_bad)) {
      bad_state_ = true;
    }
  }
  if (bad_state_ ? rng_.chance(config_.burst.loss_in_bad) : rng_.chance(config_.loss)) {
    return drop(bad_state_ ? DropCause::burst_loss : DropCause::loss);
  }

  const int copies = rng_.chance(config_.duplicate) ? 2 : 1;
  if (copies == 2) ++counters_.duplicated;
  Result result;
  result.departures.reserve(static_cast<std::size_t>(copies));
  for (int i = 0; i < copies; ++i) {
    Datagram copy = (i + 1 == copies) ? std::move(datagram) : datagram;
    if (!copy.bytes.empty() && rng_.chance(config_.corrupt)) {
      const std::uint64_t bit = rng_.uniform(copy.bytes.size() * 8);
      copy.bytes[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
      ++counters_.corrupted;
    }
    Duration delay = config_.delay;
    if (config_.jitter > Duration::zero()) {
      delay += Duration(static_cast<Duration::rep>(
          rng_.uniform_between(0, static_cast<std::uint64_t>(config_.jitter.count()))));
    }
    if (rng_.chance(config_.reorder)) {
      delay += config_.reorder_delay;
      ++counters_.reordered;
    }
    ++counters_.delivered;
    counters_.delivered_bytes += copy.bytes.size();
    // A negative configured delay must not send a datagram into the past.
    result.departures.push_back({std::max(leaves + delay, now), std::move(copy)});
  }
  return result;
}

}  // namespace srudp::sim
