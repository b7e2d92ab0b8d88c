// IP addresses as 16 bytes (IPv4 v4-mapped, as in SocketAddress), CIDR prefixes for trusted-proxy
// lists, and the key under which per-source limits count a client.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/address.hpp"

namespace srudp::rendezvous {

using IpBytes = std::array<std::uint8_t, 16>;

struct IpBytesHash {
  std::size_t operator()(const IpBytes& ip) const noexcept;
};

// "192.0.2.1" or "2001:db8::1" (no brackets, no port).
std::optional<IpBytes> parse_ip(std::string_view text);
bool is_v4(const IpBytes& ip) noexcept;
std::string ip_to_string(const IpBytes& ip);

// "10.0.0.0/8", "2001:db8::/32", or a single address ("127.0.0.1", "::1").
class IpPrefix {
 public:
  static std::optional<IpPrefix> parse(std::string_view text);
  bool contains(const IpBytes& ip) const noexcept;
  std::string to_string() const;

 private:
  IpBytes network_{};
  unsigned bits_ = 0;  // over the 128-bit form (an IPv4 /8 is /104 here)
};

// Per-source limits count an IPv4 client by its address and an IPv6 client by its /64: one host
// usually owns a whole /64, so counting single IPv6 addresses would let it multiply its quota.
IpBytes source_key(const IpBytes& ip) noexcept;

}  // namespace srudp::rendezvous
