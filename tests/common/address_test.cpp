#include "common/address.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

namespace srudp {
namespace {

TEST(SocketAddress, ParsesAndPrintsV4) {
  const auto a = SocketAddress::parse("192.168.1.16:39841");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_host_order(), 0xC0A80110u);
  EXPECT_EQ(a->port, 39841);
  EXPECT_EQ(a->to_string(), "192.168.1.16:39841");
  EXPECT_EQ(*a, SocketAddress::v4(192, 168, 1, 16, 39841));
}

TEST(SocketAddress, ParsesAndPrintsV6) {
  struct Case { const char* in; const char* out; };
  for (const Case c : {Case{"[2001:db8::5]:39841", "[2001:db8::5]:39841"},
                       Case{"[::1]:1", "[::1]:1"},
                       Case{"[::]:0", "[::]:0"},
                       Case{"[2001:DB8:0:0:1:0:0:1]:7", "[2001:db8::1:0:0:1]:7"},
                       Case{"[fe80::1:2:3:4]:9", "[fe80::1:2:3:4]:9"},
                       Case{"[1:2:3:4:5:6:7:8]:80", "[1:2:3:4:5:6:7:8]:80"},
                       Case{"[64:ff9b::1.2.3.4]:5", "[64:ff9b::102:304]:5"}}) {
    const auto a = SocketAddress::parse(c.in);
    ASSERT_TRUE(a) << c.in;
    EXPECT_FALSE(a->is_v4());
    EXPECT_EQ(a->to_string(), c.out);
    EXPECT_EQ(SocketAddress::parse(a->to_string()), a);
  }
}

TEST(SocketAddress, RejectsMalformed) {
  for (const char* bad : {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3:4", "1.2.3.4.5:6",
                          "256.1.1.1:1", "a.b.c.d:1", "[::1]", "[::1]:x", "[1::2::3]:1",
                          "[12345::]:1", "[1:2:3:4:5:6:7:8:9]:1", "[1:2:3:4:5:6:7]:1", "[:1]:1",
                          "1.2.3.4:+5", " 1.2.3.4:5", "[1:]:1"}) {
    EXPECT_FALSE(SocketAddress::parse(bad)) << bad;
  }
}

TEST(SocketAddress, OrderingHashingBytes) {
  const auto a = SocketAddress::v4(10, 0, 0, 1, 1000);
  const auto b = SocketAddress::v4(10, 0, 0, 1, 1001);
  EXPECT_LT(a, b);
  std::unordered_set<SocketAddress> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
  const auto bytes = b.bytes();
  EXPECT_EQ(bytes[15], 1);
  EXPECT_EQ(bytes[16], 1001 >> 8);
  EXPECT_EQ(bytes[17], 1001 & 0xff);
}

}  // namespace
}  // namespace srudp
