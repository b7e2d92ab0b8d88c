// A UDP/TCP endpoint address (IPv4 or IPv6 plus port) as a plain value: no sockets involved.
// IPv4 is stored as an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace srudp {

struct SocketAddress {
  std::array<std::uint8_t, 16> ip{};
  std::uint16_t port = 0;

  static SocketAddress v4(std::uint32_t host_order_ip, std::uint16_t port);
  static SocketAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                          std::uint16_t port);
  static SocketAddress v6(const std::array<std::uint8_t, 16>& ip, std::uint16_t port);
  // "1.2.3.4:5" or "[2001:db8::1]:5". Returns nullopt on anything else.
  static std::optional<SocketAddress> parse(std::string_view text);

  bool is_v4() const noexcept;
  std::uint32_t v4_host_order() const noexcept;  // only meaningful when is_v4()
  std::string to_string() const;                 // the form parse() accepts

  // The 18 bytes that identify this address (ip then port, big-endian): what cookies and
  // path validation bind to.
  std::array<std::uint8_t, 18> bytes() const noexcept;

  friend auto operator<=>(const SocketAddress&, const SocketAddress&) = default;
};

}  // namespace srudp

template <>
struct std::hash<srudp::SocketAddress> {
  std::size_t operator()(const srudp::SocketAddress& a) const noexcept;
};
