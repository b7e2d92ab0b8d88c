#include "common/address.hpp"

#include <charconv>
#include <cstdio>

namespace srudp {
namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::optional<std::uint16_t> parse_port(std::string_view s) {
  unsigned value = 0;
  if (s.empty() || s.size() > 5) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::optional<std::uint32_t> parse_v4(std::string_view s) {
  std::uint32_t result = 0;
  for (int part = 0; part < 4; ++part) {
    const auto dot = s.find('.');
    const std::string_view field = part < 3 ? s.substr(0, dot) : s;
    if ((part < 3 && dot == std::string_view::npos) || field.empty() || field.size() > 3) {
      return std::nullopt;
    }
    unsigned octet = 0;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), octet);
    if (ec != std::errc{} || end != field.data() + field.size() || octet > 255) return std::nullopt;
    result = (result << 8) | octet;
    if (part < 3) s.remove_prefix(dot + 1);
  }
  return result;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 4291 text form, including "::" and an embedded dotted-quad tail.
std::optional<std::array<std::uint8_t, 16>> parse_v6(std::string_view s) {
  std::array<std::uint16_t, 8> groups{};
  int count = 0;
  int gap_at = -1;
  if (s.starts_with("::")) {
    gap_at = 0;
    s.remove_prefix(2);
  }
  while (!s.empty()) {
    if (count >= 8) return std::nullopt;
    const auto colon = s.find(':');
    const std::string_view field = s.substr(0, colon);
    if (field.find('.') != std::string_view::npos) {  // IPv4 tail
      if (colon != std::string_view::npos || count > 6) return std::nullopt;
      const auto v4 = parse_v4(field);
      if (!v4) return std::nullopt;
      groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(*v4 >> 16);
      groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(*v4 & 0xffff);
      s = {};
      break;
    }
    if (field.empty() || field.size() > 4) return std::nullopt;
    unsigned value = 0;
    for (char c : field) {
      const int d = hex_digit(c);
      if (d < 0) return std::nullopt;
      value = (value << 4) | static_cast<unsigned>(d);
    }
    groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(value);
    if (colon == std::string_view::npos) {
      s = {};
    } else if (s.substr(colon).starts_with("::")) {
      if (gap_at >= 0) return std::nullopt;
      gap_at = count;
      s.remove_prefix(colon + 2);
    } else {
      s.remove_prefix(colon + 1);
      if (s.empty()) return std::nullopt;
    }
  }
  if (gap_at < 0 && count != 8) return std::nullopt;
  if (gap_at >= 0 && count > 7) return std::nullopt;
  std::array<std::uint16_t, 8> full{};
  if (gap_at < 0) {
    full = groups;
  } else {
    const int tail = count - gap_at;
    for (int i = 0; i < gap_at; ++i) full[static_cast<std::size_t>(i)] = groups[static_cast<std::size_t>(i)];
    for (int i = 0; i < tail; ++i) {
      full[static_cast<std::size_t>(8 - tail + i)] = groups[static_cast<std::size_t>(gap_at + i)];
    }
  }
  std::array<std::uint8_t, 16> out{};
  for (std::size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(full[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(full[i] & 0xff);
  }
  return out;
}

}  // namespace

SocketAddress SocketAddress::v4(std::uint32_t host_order_ip, std::uint16_t port) {
  SocketAddress a;
  std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), a.ip.begin());
  for (std::size_t i = 0; i < 4; ++i) {
    a.ip[12 + i] = static_cast<std::uint8_t>(host_order_ip >> (24 - 8 * i));
  }
  a.port = port;
  return a;
}

SocketAddress SocketAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                                std::uint16_t port) {
  return v4((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d, port);
}

SocketAddress SocketAddress::v6(const std::array<std::uint8_t, 16>& ip, std::uint16_t port) {
  SocketAddress a;
  a.ip = ip;
  a.port = port;
  return a;
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view text) {
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    const auto ip = parse_v6(text.substr(1, close - 1));
    const auto port = parse_port(text.substr(close + 2));
    if (!ip || !port) return std::nullopt;
    return v6(*ip, *port);
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto ip = parse_v4(text.substr(0, colon));
  const auto port = parse_port(text.substr(colon + 1));
  if (!ip || !port) return std::nullopt;
  return v4(*ip, *port);
}

bool SocketAddress::is_v4() const noexcept {
  return std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), ip.begin());
}

std::uint32_t SocketAddress::v4_host_order() const noexcept {
  return (std::uint32_t{ip[12]} << 24) | (std::uint32_t{ip[13]} << 16) |
         (std::uint32_t{ip[14]} << 8) | ip[15];
}

std::string SocketAddress::to_string() const {
  char buf[64];
  if (is_v4()) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", ip[12], ip[13], ip[14], ip[15], port);
    return buf;
  }
  // Compress the longest run (>= 2) of zero groups, per RFC 5952.
  std::array<unsigned, 8> g{};
  for (std::size_t i = 0; i < 8; ++i) g[i] = (unsigned{ip[2 * i]} << 8) | ip[2 * i + 1];
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[static_cast<std::size_t>(i)] != 0) { ++i; continue; }
    int j = i;
    while (j < 8 && g[static_cast<std::size_t>(j)] == 0) ++j;
    if (j - i > best_len && j - i >= 2) { best_start = i; best_len = j - i; }
    i = j;
  }
  std::string out = "[";
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.ends_with(':') && out.size() > 1) out += ':';
    std::snprintf(buf, sizeof buf, "%x", g[static_cast<std::size_t>(i)]);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "]:%u", port);
  return out + buf;
}

std::array<std::uint8_t, 18> SocketAddress::bytes() const noexcept {
  std::array<std::uint8_t, 18> out{};
  std::copy(ip.begin(), ip.end(), out.begin());
  out[16] = static_cast<std::uint8_t>(port >> 8);
  out[17] = static_cast<std::uint8_t>(port & 0xff);
  return out;
}

}  // namespace srudp

std::size_t std::hash<srudp::SocketAddress>::operator()(const srudp::SocketAddress& a) const noexcept {
  std::size_t h = 1469598103934665603ull;
  for (auto b : a.bytes()) h = (h ^ b) * 1099511628211ull;
  return h;
}
