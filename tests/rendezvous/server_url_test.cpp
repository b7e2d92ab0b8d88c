#include "rendezvous/server_url.hpp"

#include <gtest/gtest.h>

namespace srudp::rendezvous {
namespace {

TEST(ServerUrl, HostPortAndMount) {
  auto url = parse_server_url("http://rdv.example.com:8080/rdv/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "rdv.example.com");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->mount, "/rdv");
  EXPECT_EQ(url->target("abc"), "/rdv/abc");
  EXPECT_EQ(url->host_header(), "rdv.example.com:8080");

  url = parse_server_url("HTTP://127.0.0.1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target("abc"), "/abc");
  EXPECT_EQ(url->host_header(), "127.0.0.1");

  url = parse_server_url("http://[::1]:9/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9);
  EXPECT_EQ(url->host_header(), "[::1]:9");
}

TEST(ServerUrl, RejectsWhatItCannotUse) {
  for (const char* bad : {"", "https://x", "x:80", "http://", "http://:80", "http://x:", "http://x:0",
                          "http://x:65536", "http://x:8o", "http://u@x", "http://x/?q", "http://x/#f",
                          "http://[::1", "http://[::1]x", "http://::1:80", "http://[x]:1", "http://a b"}) {
    EXPECT_FALSE(parse_server_url(bad)) << bad;
  }
}

}  // namespace
}  // namespace srudp::rendezvous
