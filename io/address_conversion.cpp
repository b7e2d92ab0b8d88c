#include "io/address_conversion.hpp"

namespace srudp::io {

SocketAddress to_socket_address(const boost::asio::ip::udp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v4()) return SocketAddress::v4(address.to_v4().to_uint(), endpoint.port());
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return SocketAddress::v4(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_uint(),
                             endpoint.port());
  }
  return SocketAddress::v6(v6.to_bytes(), endpoint.port());
}

boost::asio::ip::udp::endpoint to_udp_endpoint(const SocketAddress& address) {
  if (address.is_v4()) return {boost::asio::ip::address_v4(address.v4_host_order()), address.port};
  return {boost::asio::ip::address_v6(address.ip), address.port};
}

}  // namespace srudp::io
