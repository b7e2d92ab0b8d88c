#include "rendezvous/proxy_protocol.hpp"

#include <gtest/gtest.h>

#include <string>

namespace srudp::rendezvous {
namespace {

using K = ProxyLine::Kind;

TEST(ProxyProtocol, ParsesTcp4AndTcp6) {
  const std::string line = "PROXY TCP4 198.51.100.9 203.0.113.10 39841 8080\r\n";
  const auto p = parse_proxy_v1(line + "DIAL /tok HTTP/1.1\r\n");
  ASSERT_EQ(p.kind, K::parsed);
  EXPECT_EQ(p.size, line.size());
  EXPECT_EQ(p.source, SocketAddress::v4(198, 51, 100, 9, 39841));
  const auto v6 = parse_proxy_v1("PROXY TCP6 2001:db8::9 2001:db8::1 40000 443\r\n");
  ASSERT_EQ(v6.kind, K::parsed);
  EXPECT_EQ(v6.source->to_string(), "[2001:db8::9]:40000");
}

TEST(ProxyProtocol, UnknownCarriesNoAddress) {
  const auto p = parse_proxy_v1("PROXY UNKNOWN\r\nGET /");
  ASSERT_EQ(p.kind, K::parsed);
  EXPECT_EQ(p.size, 15u);
  EXPECT_FALSE(p.source);
  EXPECT_EQ(parse_proxy_v1("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n").kind, K::parsed);
}

TEST(ProxyProtocol, IncrementalAndNotProxy) {
  const std::string line = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
  for (std::size_t n = 0; n < line.size(); ++n) {
    EXPECT_EQ(parse_proxy_v1(line.substr(0, n)).kind, K::need_more) << n;
  }
  EXPECT_EQ(parse_proxy_v1("DIAL /tok HTTP/1.1\r\n").kind, K::not_proxy);
  EXPECT_EQ(parse_proxy_v1("PROX").kind, K::need_more);
  EXPECT_EQ(parse_proxy_v1("PROXIMITY").kind, K::not_proxy);
  EXPECT_EQ(parse_proxy_v1("D").kind, K::not_proxy);
}

TEST(ProxyProtocol, RejectsMalformedLines) {
  for (const char* bad : {"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
                          "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "PROXY TCP4 ::1 ::1 1 2\r\n",
                          "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
                          "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
                          "PROXY \r\n"}) {
    EXPECT_EQ(parse_proxy_v1(bad).kind, K::invalid) << bad;
  }
  EXPECT_EQ(parse_proxy_v1("PROXY " + std::string(200, 'x')).kind, K::invalid);
  EXPECT_EQ(parse_proxy_v1("PROXY " + std::string(kMaxProxyV1Line, 'x') + "\r\n").kind, K::invalid);
}

}  // namespace
}  // namespace srudp::rendezvous
