#include "rendezvous/observed_address.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace srudp::rendezvous {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view last_element(std::string_view list) {
  const auto comma = list.rfind(',');
  return trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  unsigned value = 0;
  if (s.empty() || s.size() > 5) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// An X-Forwarded-For element: "192.0.2.1", "192.0.2.1:80", "2001:db8::1", "[2001:db8::1]" or
// "[2001:db8::1]:80". Port 0 when the element carries none.
std::optional<SocketAddress> parse_forwarded_element(std::string_view e) {
  if (e.starts_with('[')) {
    if (e.find("]:") != std::string_view::npos) return SocketAddress::parse(e);
    if (!e.ends_with(']')) return std::nullopt;
    e = e.substr(1, e.size() - 2);
  } else if (std::count(e.begin(), e.end(), ':') == 1) {
    return SocketAddress::parse(e);
  }
  const auto ip = parse_ip(e);
  if (!ip) return std::nullopt;
  SocketAddress address;
  address.ip = *ip;
  return address;
}

}  // namespace

bool TrustedProxies::contains(const IpBytes& ip) const noexcept {
  return std::any_of(prefixes_.begin(), prefixes_.end(),
                     [&](const IpPrefix& p) { return p.contains(ip); });
}

std::optional<SocketAddress> observed_address(const SocketAddress& tcp_peer, const ProxyClaims& claims,
                                              const TrustedProxies& trusted) {
  if (!trusted.contains(tcp_peer.ip)) return tcp_peer;
  if (claims.proxy_line_source) return claims.proxy_line_source;
  if (!claims.x_forwarded_for) return std::nullopt;

  // Each proxy appends the address it received from, so the rightmost entries are the most
  // trustworthy: skip our own proxies from the right and take the first one that is not ours.
  std::string_view list = *claims.x_forwarded_for;
  while (!list.empty()) {
    const auto comma = list.rfind(',');
    const std::string_view element =
        trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(0, comma);
    auto address = parse_forwarded_element(element);
    if (!address) return std::nullopt;
    if (trusted.contains(address->ip) && !list.empty()) continue;
    if (address->port == 0) {
      const auto port = claims.x_forwarded_port
                            ? parse_port(last_element(*claims.x_forwarded_port))
                            : std::nullopt;
      if (!port) return std::nullopt;
      address->port = *port;
    }
    return address;
  }
  return std::nullopt;
}

}  // namespace srudp::rendezvous
