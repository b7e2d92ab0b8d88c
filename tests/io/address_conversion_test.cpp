#include "io/address_conversion.hpp"

#include <gtest/gtest.h>

namespace srudp::io {
namespace {

using boost::asio::ip::make_address;
using boost::asio::ip::udp;

TEST(AddressConversion, Ipv4RoundTripsAsIpv4) {
  const udp::endpoint endpoint(make_address("192.0.2.7"), 4433);
  const SocketAddress address = to_socket_address(endpoint);
  EXPECT_TRUE(address.is_v4());
  EXPECT_EQ(address.to_string(), "192.0.2.7:4433");
  EXPECT_EQ(to_udp_endpoint(address), endpoint);
}

TEST(AddressConversion, V4MappedBecomesPlainIpv4) {
  // What a dual-stack socket reports for an IPv4 peer.
  const udp::endpoint mapped(make_address("::ffff:127.0.0.1"), 9);
  EXPECT_EQ(to_udp_endpoint(to_socket_address(mapped)), udp::endpoint(make_address("127.0.0.1"), 9));
}

TEST(AddressConversion, Ipv6RoundTrips) {
  const udp::endpoint endpoint(make_address("2001:db8::1"), 65535);
  const SocketAddress address = to_socket_address(endpoint);
  EXPECT_FALSE(address.is_v4());
  EXPECT_EQ(to_udp_endpoint(address), endpoint);
}

}  // namespace
}  // namespace srudp::io
