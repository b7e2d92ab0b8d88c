// One direction of a simulated link: what happens to a datagram between entering and leaving it.
// Effects, in order: outage (blackout), MTU black hole, rate limit with a bounded tail-drop queue
// (serialization delay), loss (Bernoulli, or Gilbert-Elliott bursts), duplication, and then for
// each copy corruption (one flipped bit), one-way delay, jitter and explicit reordering.
// Loss is applied after the queue: a packet lost on the wire still used the bottleneck.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "common/time.hpp"
#include "sim/drop_cause.hpp"
#include "sim/node.hpp"
#include "sim/rng.hpp"

namespace srudp::sim {

// Two-state burst loss. Per datagram the state first moves (good->bad with p_good_to_bad,
// bad->good with p_bad_to_good), then the datagram is lost with the state's loss probability:
// LinkConfig::loss in the good state, loss_in_bad in the bad one. The mean time in the bad state
// is 1/p_bad_to_good datagrams. p_good_to_bad == 0 turns the model off.
struct GilbertElliott {
  double p_good_to_bad = 0.0;
  double p_bad_to_good = 0.0;
  double loss_in_bad = 1.0;
};

// A periodic outage: the link is down during [phase + k*period, phase + k*period + down) measured
// from Network::kEpoch, e.g. {.period = 5s, .down = 2s} is down for 2 s out of every 5 s.
struct BlackoutSchedule {
  Duration period{0};
  Duration down{0};
  Duration phase{0};
};

// One explicit outage window [from, until).
struct Outage {
  Instant from;
  Instant until;
};

struct LinkConfig {
  Duration delay{0};       // one-way propagation delay
  Duration jitter{0};      // extra delay uniform in [0, jitter]: reorders naturally
  double loss = 0.0;       // independent loss probability (good state if burst is on)
  GilbertElliott burst{};  // burst loss, off by default
  double reorder = 0.0;    // probability to hold a datagram back by reorder_delay
  Duration reorder_delay{std::chrono::milliseconds(10)};
  double duplicate = 0.0;      // probability to deliver one extra copy (jittered independently)
  double corrupt = 0.0;        // probability, per copy, to flip one random bit
  std::uint64_t rate_bps = 0;  // bottleneck rate in bits/s of wire size; 0 = unlimited
  std::size_t queue_bytes = 64 * 1024;  // rate-limited queue capacity (wire bytes, tail drop)
  // IP MTU: a datagram whose wire size (payload + 28 bytes IPv4/UDP or 48 bytes IPv6/UDP
  // headers) exceeds it vanishes silently. 0 = no limit.
  std::size_t mtu = 0;
  BlackoutSchedule blackout{};
  std::vector<Outage> outages{};
  bool up = true;  // false: everything is dropped as blackout

  bool is_ideal() const noexcept;
};

// Size on the wire, IP and UDP headers included: what MTU and rate limits count.
std::size_t wire_size(const Datagram& datagram) noexcept;

struct LinkCounters {
  std::uint64_t sent = 0;        // datagrams offered to the link
  std::uint64_t sent_bytes = 0;  // their payload bytes
  std::uint64_t delivered = 0;   // copies that left the link (duplicates included)
  std::uint64_t delivered_bytes = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t reordered = 0;  // held back by reorder_delay
  DropCounts dropped;
};

class Link {
 public:
  Link(LinkConfig config, Rng rng);

  struct Departure {
    Instant at;  // when the copy reaches the far end
    Datagram datagram;
  };
  struct Result {
    std::vector<Departure> departures;  // empty when dropped; two when duplicated
    std::optional<DropCause> dropped;
  };
  // A datagram enters the link at 'now'. It is moved into the departures, or left untouched
  // when dropped. Results are a function of the config, the seed and the calls only.
  Result transmit(Instant now, Datagram&& datagram);

  const LinkConfig& config() const noexcept { return config_; }
  // Changing the config mid-run is allowed (e.g. a link that goes down); queue state is kept.
  LinkConfig& config() noexcept { return config_; }
  const LinkCounters& counters() const noexcept { return counters_; }
  bool in_burst() const noexcept { return bad_state_; }
  // Wire bytes waiting in, or being serialized by, the rate limiter at 'now'.
  std::size_t queued_bytes(Instant now);

 private:
  bool is_down(Instant now) const noexcept;
  Result drop(DropCause cause);

  LinkConfig config_;
  Rng rng_;
  LinkCounters counters_;
  bool bad_state_ = false;
  Instant busy_until_{};
  struct Queued {
    Instant done;
    std::size_t bytes;
  };
  std::deque<Queued> queue_;
  std::size_t queue_total_ = 0;
};

}  // namespace srudp::sim
