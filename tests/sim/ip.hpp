// IP addresses without ports, as the simulator routes on them. Same 16-byte form as
// SocketAddress (IPv4 as ::ffff:a.b.c.d).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/address.hpp"

namespace srudp::sim {

using IpAddress = std::array<std::uint8_t, 16>;

inline IpAddress ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return SocketAddress::v4(a, b, c, d, 0).ip;
}
inline IpAddress ip_of(const SocketAddress& address) { return address.ip; }
inline SocketAddress at_port(const IpAddress& ip, std::uint16_t port) {
  SocketAddress a;
  a.ip = ip;
  a.port = port;
  return a;
}
// "10.0.0.2" or "2001:db8::1".
std::string to_string(const IpAddress& ip);

}  // namespace srudp::sim
