// Values the rdv tool reads from its command line: durations ("120s", "500ms", "2m"), byte rates
// ("32M" per second), listen addresses ("[::]:8080", "0.0.0.0:8080", ":8080") and port lists.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "common/time.hpp"

namespace srudp::tools {

std::optional<Duration> parse_duration(std::string_view text);
std::optional<double> parse_byte_count(std::string_view text);  // "65536", "64K", "32M", "1G" (binary)
std::optional<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);
std::optional<std::vector<std::uint16_t>> parse_port_list(std::string_view text);  // "3478,3479", "none"

}  // namespace srudp::tools
