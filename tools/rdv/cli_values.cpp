#include "tools/rdv/cli_values.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace srudp::tools {
namespace {

std::optional<double> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) || value < 0) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    double seconds;
  };
  // Longest suffixes first so "ms" is not read as "s".
  for (const Unit unit : {Unit{"ms", 1e-3}, Unit{"us", 1e-6}, Unit{"s", 1}, Unit{"m", 60}, Unit{"h", 3600}}) {
    if (!text.ends_with(unit.suffix)) continue;
    const auto value = parse_number(text.substr(0, text.size() - unit.suffix.size()));
    if (!value || *value * unit.seconds > 1e9) return std::nullopt;
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*value * unit.seconds));
  }
  return std::nullopt;
}

std::optional<double> parse_byte_count(std::string_view text) {
  double multiplier = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K': multiplier = 1024.0; break;
      case 'M': multiplier = 1024.0 * 1024; break;
      case 'G': multiplier = 1024.0 * 1024 * 1024; break;
      default: break;
    }
    if (multiplier > 1) text.remove_suffix(1);
  }
  const auto value = parse_number(text);
  if (!value) return std::nullopt;
  return *value * multiplier;
}

std::optional<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string host(text.substr(0, colon));
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  if (host.empty()) host = "::";
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  boost::system::error_code address_error;
  const auto address = boost::asio::ip::make_address(host, address_error);
  if (address_error) return std::nullopt;
  return boost::asio::ip::tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

std::optional<std::vector<std::uint16_t>> parse_port_list(std::string_view text) {
  std::vector<std::uint16_t> ports;
  if (text == "none" || text.empty()) return ports;
  for (;;) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), port);
    if (item.empty() || ec != std::errc{} || end != item.data() + item.size() || port > 65535) {
      return std::nullopt;
    }
    ports.push_back(static_cast<std::uint16_t>(port));
    if (comma == std::string_view::npos) return ports;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace srudp::tools
