// Why the simulated network threw a datagram away. Counted per link, per NAT and network-wide.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace srudp::sim {

enum class DropCause : std::uint8_t {
  loss,              // random (Bernoulli) loss, or the good state of a Gilbert-Elliott link
  burst_loss,        // the bad state of a Gilbert-Elliott link
  queue_overflow,    // rate-limited link's queue full (tail drop)
  too_big,           // larger than the link MTU: a black hole (DF set, the ICMP never arrives)
  blackout,          // link down (scheduled outage)
  no_route,          // no host or NAT owns the destination address
  port_unreachable,  // the destination host has no socket on that port
  nat_no_mapping,    // inbound to a NAT port with no live mapping
  nat_filtered,      // inbound refused by the NAT's filtering behaviour
  nat_udp_blocked,   // NAT configured to drop all UDP
  nat_no_port,       // NAT ran out of external ports
  nat_no_hairpin,    // internal host addressed the NAT's public address, hairpinning off
  tap,               // a PacketCapture tap dropped it
  count_,            // not a cause: the number of causes
};

inline constexpr std::size_t kDropCauseCount = static_cast<std::size_t>(DropCause::count_);

constexpr std::string_view to_string(DropCause cause) noexcept {
  constexpr std::array<std::string_view, kDropCauseCount> names = {
      "loss",         "burst_loss",      "queue_overflow",   "too_big",
      "blackout",     "no_route",        "port_unreachable", "nat_no_mapping",
      "nat_filtered", "nat_udp_blocked", "nat_no_port",      "nat_no_hairpin",
      "tap"};
  const auto i = static_cast<std::size_t>(cause);
  return i < names.size() ? names[i] : std::string_view("?");
}

// Counts per cause.
struct DropCounts {
  std::array<std::uint64_t, kDropCauseCount> by_cause{};

  std::uint64_t& operator[](DropCause c) noexcept { return by_cause[static_cast<std::size_t>(c)]; }
  std::uint64_t operator[](DropCause c) const noexcept {
    return by_cause[static_cast<std::size_t>(c)];
  }
  std::uint64_t total() const noexcept {
    std::uint64_t sum = 0;
    for (const auto n : by_cause) sum += n;
    return sum;
  }
};

}  // namespace srudp::sim
