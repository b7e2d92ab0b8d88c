#include "rendezvous/ip_prefix.hpp"

#include <gtest/gtest.h>

namespace srudp::rendezvous {
namespace {

IpBytes ip(const char* text) { return parse_ip(text).value(); }

TEST(IpPrefix, ParsesAddresses) {
  EXPECT_EQ(ip("192.0.2.1"), SocketAddress::v4(192, 0, 2, 1, 0).ip);
  EXPECT_EQ(ip_to_string(ip("2001:db8::1")), "2001:db8::1");
  EXPECT_EQ(ip_to_string(ip("192.0.2.1")), "192.0.2.1");
  EXPECT_TRUE(is_v4(ip("::ffff:1.2.3.4")));
  for (const char* bad : {"", "1.2.3", "[::1]", "::1:", "1.2.3.4:5", "example.com"}) {
    EXPECT_FALSE(parse_ip(bad)) << bad;
  }
}

TEST(IpPrefix, MatchesV4AndV6Prefixes) {
  const auto ten = IpPrefix::parse("10.0.0.0/8").value();
  EXPECT_TRUE(ten.contains(ip("10.255.1.2")));
  EXPECT_FALSE(ten.contains(ip("11.0.0.1")));
  EXPECT_FALSE(ten.contains(ip("::a00:1")));  // IPv4-compatible, not IPv4
  EXPECT_EQ(ten.to_string(), "10.0.0.0/8");
  const auto odd = IpPrefix::parse("192.168.1.128/25").value();
  EXPECT_TRUE(odd.contains(ip("192.168.1.200")));
  EXPECT_FALSE(odd.contains(ip("192.168.1.127")));
  const auto v6 = IpPrefix::parse("2001:db8::/32").value();
  EXPECT_TRUE(v6.contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(v6.contains(ip("2001:db9::1")));
  const auto host = IpPrefix::parse("127.0.0.1").value();
  EXPECT_TRUE(host.contains(ip("127.0.0.1")));
  EXPECT_FALSE(host.contains(ip("127.0.0.2")));
  EXPECT_TRUE(IpPrefix::parse("::/0")->contains(ip("1.2.3.4")));
  EXPECT_TRUE(IpPrefix::parse("0.0.0.0/0")->contains(ip("1.2.3.4")));
  EXPECT_FALSE(IpPrefix::parse("0.0.0.0/0")->contains(ip("2001:db8::1")));
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "::/129", "10.0.0.0/8/8", "x/8"}) {
    EXPECT_FALSE(IpPrefix::parse(bad)) << bad;
  }
}

TEST(IpPrefix, SourceKeyGroupsIPv6BySlash64) {
  EXPECT_EQ(source_key(ip("192.0.2.1")), ip("192.0.2.1"));
  EXPECT_EQ(source_key(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
}

}  // namespace
}  // namespace srudp::rendezvous
