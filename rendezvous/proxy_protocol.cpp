#include "rendezvous/proxy_protocol.hpp"

#include <array>
#include <charconv>
#include <string>

namespace srudp::rendezvous {
namespace {

constexpr std::string_view kPrefix = "PROXY ";

std::optional<std::uint16_t> parse_port(std::string_view s) {
  unsigned value = 0;
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s.front() == '0')) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

ProxyLine parse_proxy_v1(std::string_view received) {
  using K = ProxyLine::Kind;
  if (received.size() < kPrefix.size()) {
    return ProxyLine{kPrefix.starts_with(received) ? K::need_more : K::not_proxy, 0, {}};
  }
  if (!received.starts_with(kPrefix)) return ProxyLine{K::not_proxy, 0, {}};
  const auto crlf = received.find("\r\n");
  if (crlf == std::string_view::npos || crlf + 2 > kMaxProxyV1Line) {
    const bool may_complete = crlf == std::string_view::npos && received.size() < kMaxProxyV1Line;
    return ProxyLine{may_complete ? K::need_more : K::invalid, 0, {}};
  }
  const std::size_t size = crlf + 2;
  std::string_view rest = received.substr(kPrefix.size(), crlf - kPrefix.size());
  if (rest == "UNKNOWN" || rest.starts_with("UNKNOWN ")) return ProxyLine{K::parsed, size, {}};

  std::array<std::string_view, 5> fields;  // protocol, source, destination, ports
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto space = rest.find(' ');
    if ((i + 1 < fields.size()) == (space == std::string_view::npos)) return ProxyLine{K::invalid, 0, {}};
    fields[i] = rest.substr(0, space);
    if (fields[i].empty()) return ProxyLine{K::invalid, 0, {}};
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  const bool v4 = fields[0] == "TCP4";
  if (!v4 && fields[0] != "TCP6") return ProxyLine{K::invalid, 0, {}};
  const auto as_address = [v4](std::string_view ip, std::uint16_t port) {
    const std::string text = v4 ? std::string(ip) + ":" + std::to_string(port)
                                : "[" + std::string(ip) + "]:" + std::to_string(port);
    return SocketAddress::parse(text);
  };
  const auto source_port = parse_port(fields[3]);
  const auto destination_port = parse_port(fields[4]);
  if (!source_port || !destination_port) return ProxyLine{K::invalid, 0, {}};
  const auto source = as_address(fields[1], *source_port);
  const auto destination = as_address(fields[2], *destination_port);
  if (!source || !destination) return ProxyLine{K::invalid, 0, {}};
  return ProxyLine{K::parsed, size, source};
}

}  // namespace srudp::rendezvous
