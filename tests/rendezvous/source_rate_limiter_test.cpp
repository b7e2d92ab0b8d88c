#include "rendezvous/source_rate_limiter.hpp"

#include <gtest/gtest.h>

namespace srudp::rendezvous {
namespace {

const Instant t0{};
IpBytes ip(std::uint8_t a, std::uint8_t b) { return SocketAddress::v4(10, 0, a, b, 0).ip; }

TEST(SourceRateLimiter, EachSourceHasItsOwnBucket) {
  SourceRateLimiter limiter({.per_second = 1, .burst = 2}, 100);
  EXPECT_TRUE(limiter.allow(t0, ip(0, 1)));
  EXPECT_TRUE(limiter.allow(t0, ip(0, 1)));
  EXPECT_FALSE(limiter.allow(t0, ip(0, 1)));
  EXPECT_TRUE(limiter.allow(t0, ip(0, 2)));
  EXPECT_TRUE(limiter.allow(t0 + 1s, ip(0, 1)));
  EXPECT_EQ(limiter.tracked(), 2u);
}

TEST(SourceRateLimiter, TableStaysBoundedForgettingTheLeastRecent) {
  SourceRateLimiter limiter({.per_second = 1, .burst = 1}, 16);
  EXPECT_TRUE(limiter.allow(t0, ip(9, 9)));
  EXPECT_FALSE(limiter.allow(t0, ip(9, 9)));
  for (std::uint8_t i = 0; i < 200; ++i) {
    limiter.allow(t0, ip(1, i));
    EXPECT_LE(limiter.tracked(), 16u);
  }
  // 9.9 was forgotten, so it starts again with a full bucket: one burst, no more.
  EXPECT_TRUE(limiter.allow(t0, ip(9, 9)));
  EXPECT_FALSE(limiter.allow(t0, ip(9, 9)));
}

TEST(SourceRateLimiter, RecentlySeenSourcesStay) {
  SourceRateLimiter limiter({.per_second = 1, .burst = 1}, 2);
  EXPECT_TRUE(limiter.allow(t0, ip(0, 1)));
  EXPECT_TRUE(limiter.allow(t0, ip(0, 2)));
  EXPECT_FALSE(limiter.allow(t0, ip(0, 1)));  // touches 0.1: now 0.2 is the least recent
  EXPECT_TRUE(limiter.allow(t0, ip(0, 3)));   // evicts 0.2
  EXPECT_FALSE(limiter.allow(t0, ip(0, 1)));  // still remembered, still empty
}

TEST(SourceRateLimiter, IPv6SharesABucketPerSlash64) {
  SourceRateLimiter limiter({.per_second = 1, .burst = 1}, 100);
  EXPECT_TRUE(limiter.allow(t0, SocketAddress::parse("[2001:db8::1]:1")->ip));
  EXPECT_FALSE(limiter.allow(t0, SocketAddress::parse("[2001:db8::2]:1")->ip));
  EXPECT_TRUE(limiter.allow(t0, SocketAddress::parse("[2001:db8:0:1::1]:1")->ip));
}

}  // namespace
}  // namespace srudp::rendezvous
