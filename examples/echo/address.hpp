// "host:port" / "[v6]:port" to a UDP endpoint, for the echo examples' command lines.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

namespace srudp::examples {

inline std::optional<boost::asio::ip::udp::endpoint> parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  try {
    const unsigned long port = std::stoul(text.substr(colon + 1));
    if (port > 65535) return std::nullopt;
    return boost::asio::ip::udp::endpoint(address, static_cast<unsigned short>(port));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace srudp::examples
