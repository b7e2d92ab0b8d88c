#include "rendezvous/observed_address.hpp"

#include <gtest/gtest.h>

namespace srudp::rendezvous {
namespace {

const auto kPeer = SocketAddress::v4(10, 0, 0, 5, 50000);       // a trusted proxy
const auto kStranger = SocketAddress::v4(198, 51, 100, 9, 39841);

TrustedProxies proxies() { return TrustedProxies({*IpPrefix::parse("10.0.0.0/24")}); }

TEST(ObservedAddress, UntrustedPeersAreTakenAsTheyAre) {
  ProxyClaims claims;
  claims.x_forwarded_for = "203.0.113.99";
  claims.x_forwarded_port = "1234";
  claims.proxy_line_source = SocketAddress::v4(203, 0, 113, 99, 1);
  EXPECT_EQ(observed_address(kStranger, claims, proxies()), kStranger);
  EXPECT_EQ(observed_address(kPeer, claims, TrustedProxies()), kPeer);
}

TEST(ObservedAddress, TrustedProxyLine) {
  ProxyClaims claims;
  claims.proxy_line_source = kStranger;
  claims.x_forwarded_for = "203.0.113.99";  // the PROXY line wins
  claims.x_forwarded_port = "1";
  EXPECT_EQ(observed_address(kPeer, claims, proxies()), kStranger);
}

TEST(ObservedAddress, TrustedForwardedHeaders) {
  ProxyClaims claims;
  claims.x_forwarded_for = "198.51.100.9";
  claims.x_forwarded_port = "39841";
  EXPECT_EQ(observed_address(kPeer, claims, proxies()), kStranger);
  // The rightmost address that is not one of our proxies; a spoofed left part is ignored.
  claims.x_forwarded_for = "1.1.1.1, 198.51.100.9, 10.0.0.7";
  EXPECT_EQ(observed_address(kPeer, claims, proxies()), kStranger);
  claims.x_forwarded_port = "443, 39841";
  EXPECT_EQ(observed_address(kPeer, claims, proxies()), kStranger);
  // A port in the element itself.
  claims.x_forwarded_for = "[2001:db8::9]:7000";
  claims.x_forwarded_port.reset();
  EXPECT_EQ(observed_address(kPeer, claims, proxies())->to_string(), "[2001:db8::9]:7000");
  claims.x_forwarded_for = "198.51.100.9:7000";
  EXPECT_EQ(observed_address(kPeer, claims, proxies()), SocketAddress::v4(198, 51, 100, 9, 7000));
  claims.x_forwarded_for = "2001:db8::9";
  claims.x_forwarded_port = "7001";
  EXPECT_EQ(observed_address(kPeer, claims, proxies())->to_string(), "[2001:db8::9]:7001");
}

TEST(ObservedAddress, TrustedProxyThatDoesNotSayGivesNothing) {
  EXPECT_EQ(observed_address(kPeer, {}, proxies()), std::nullopt);
  ProxyClaims no_port;
  no_port.x_forwarded_for = "198.51.100.9";
  EXPECT_EQ(observed_address(kPeer, no_port, proxies()), std::nullopt);
  for (const char* bad : {"not-an-ip", "198.51.100.9, ", "1.2.3.4.5"}) {
    ProxyClaims claims;
    claims.x_forwarded_for = bad;
    claims.x_forwarded_port = "5";
    EXPECT_EQ(observed_address(kPeer, claims, proxies()), std::nullopt) << bad;
  }
  ProxyClaims bad_port;
  bad_port.x_forwarded_for = "198.51.100.9";
  bad_port.x_forwarded_port = "0";
  EXPECT_EQ(observed_address(kPeer, bad_port, proxies()), std::nullopt);
}

}  // namespace
}  // namespace srudp::rendezvous
