// What the simulator drives: a sans-IO endpoint, exactly as a real socket driver would drive it.
// Tests implement Node by wrapping a protocol object (a handshake, a connection, a rendezvous
// server). The loop the Network runs for each node:
//   datagram arrives -> handle_datagram(now, d) -> drain poll_transmit(now) -> re-arm the node's
//   single timer from poll_timeout() -> when it expires, handle_timeout(now) -> drain -> re-arm.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/address.hpp"
#include "common/time.hpp"

namespace srudp::sim {

struct Datagram {
  SocketAddress from;  // a node may leave it unspecified ([::]:0): the host's first address is used
  SocketAddress to;
  std::vector<std::uint8_t> bytes;

  friend bool operator==(const Datagram&, const Datagram&) = default;
};

class Node {
 public:
  virtual ~Node() = default;

  virtual void handle_datagram(Instant now, const Datagram& datagram) = 0;
  // Called until it returns nullopt. 'from' is the local address the node sends from.
  virtual std::optional<Datagram> poll_transmit(Instant now) = 0;
  // The one deadline the node wants to be woken at (nullopt: none). A deadline in the past
  // fires at the current time.
  virtual std::optional<Instant> poll_timeout() = 0;
  virtual void handle_timeout(Instant now) = 0;
};

}  // namespace srudp::sim
