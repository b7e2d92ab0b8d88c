// Which address the server reports as a client's own (Rdv-Observed-Addr) and adds to its peer's
// candidates. Only a configured trusted proxy may speak for a client, through the PROXY protocol
// or X-Forwarded-For / X-Forwarded-Port; anyone else could otherwise steer its peer's punches.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/address.hpp"
#include "rendezvous/ip_prefix.hpp"

namespace srudp::rendezvous {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  explicit TrustedProxies(std::vector<IpPrefix> prefixes) : prefixes_(std::move(prefixes)) {}

  bool contains(const IpBytes& ip) const noexcept;
  bool empty() const noexcept { return prefixes_.empty(); }

 private:
  std::vector<IpPrefix> prefixes_;
};

struct ProxyClaims {
  std::optional<SocketAddress> proxy_line_source;  // from a parsed PROXY v1 line
  std::optional<std::string> x_forwarded_for;      // all X-Forwarded-For values, comma-joined
  std::optional<std::string> x_forwarded_port;
};

// From an untrusted TCP peer: the peer itself, whatever it claims. From a trusted proxy: the PROXY
// line's source, else the rightmost X-Forwarded-For address that is not itself a trusted proxy,
// with the port it carries or the last X-Forwarded-Port value. nullopt when a trusted proxy does
// not say (its own address would only mislead the peer) or says something malformed.
std::optional<SocketAddress> observed_address(const SocketAddress& tcp_peer, const ProxyClaims& claims,
                                              const TrustedProxies& trusted);

}  // namespace srudp::rendezvous
