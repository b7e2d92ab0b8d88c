#include "rdv/endpoint_conversion.hpp"

namespace srudp::rdv {

SocketAddress to_socket_address(const boost::asio::ip::address& ip, std::uint16_t port) {
  if (ip.is_v4()) return SocketAddress::v4(ip.to_v4().to_uint(), port);
  return SocketAddress::v6(ip.to_v6().to_bytes(), port);
}

}  // namespace srudp::rdv
