// Between Asio endpoints and the core's SocketAddress (which keeps IPv4 v4-mapped, so an IPv4
// client of a dual-stack socket comes out as IPv4 either way).
#pragma once

#include <boost/asio/ip/address.hpp>

#include "common/address.hpp"

namespace srudp::rdv {

SocketAddress to_socket_address(const boost::asio::ip::address& ip, std::uint16_t port);

template <class Endpoint>
SocketAddress to_socket_address(const Endpoint& endpoint) {
  return to_socket_address(endpoint.address(), endpoint.port());
}

}  // namespace srudp::rdv
