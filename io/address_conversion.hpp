// Between the core's SocketAddress and Asio's udp::endpoint. IPv4 stays IPv4 both ways (the core
// stores it v4-mapped; Asio users expect 127.0.0.1, not ::ffff:127.0.0.1).
#pragma once

#include <boost/asio/ip/udp.hpp>

#include "common/address.hpp"

namespace srudp::io {

SocketAddress to_socket_address(const boost::asio::ip::udp::endpoint& endpoint);
boost::asio::ip::udp::endpoint to_udp_endpoint(const SocketAddress& address);

}  // namespace srudp::io
