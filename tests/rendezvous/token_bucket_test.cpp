#include "rendezvous/token_bucket.hpp"

#include <gtest/gtest.h>

namespace srudp::rendezvous {
namespace {

const Instant t0{};

TEST(TokenBucket, BurstThenRate) {
  TokenBucket bucket({.per_second = 10, .burst = 3}, t0);
  EXPECT_TRUE(bucket.try_take(t0, 1));
  EXPECT_TRUE(bucket.try_take(t0, 1));
  EXPECT_TRUE(bucket.try_take(t0, 1));
  EXPECT_FALSE(bucket.try_take(t0, 1));
  EXPECT_FALSE(bucket.try_take(t0 + 99ms, 1));
  EXPECT_TRUE(bucket.try_take(t0 + 101ms, 1));
  // Never more than the burst, however long the pause.
  EXPECT_NEAR(bucket.available(t0 + 1h), 3.0, 1e-9);
  EXPECT_FALSE(bucket.try_take(t0 + 1h, 4));
}

TEST(TokenBucket, DebtTellsHowLongToWait) {
  TokenBucket bucket({.per_second = 1000, .burst = 100}, t0);
  EXPECT_EQ(bucket.take_with_debt(t0, 100), Duration::zero());
  const auto wait = bucket.take_with_debt(t0, 500);  // 500 bytes at 1000/s
  EXPECT_NEAR(std::chrono::duration<double>(wait).count(), 0.5, 1e-6);
  EXPECT_EQ(bucket.take_with_debt(t0 + wait, 0), Duration::zero());
}

TEST(TokenBucket, ZeroRateIsUnlimited) {
  TokenBucket bucket({}, t0);
  EXPECT_TRUE(bucket.unlimited());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(bucket.try_take(t0, 1e9));
  EXPECT_EQ(bucket.take_with_debt(t0, 1e12), Duration::zero());
}

TEST(TokenBucket, StaleTimeAddsNothing) {
  TokenBucket bucket({.per_second = 1, .burst = 1}, t0 + 10s);
  EXPECT_TRUE(bucket.try_take(t0 + 10s, 1));
  EXPECT_FALSE(bucket.try_take(t0, 1));
}

}  // namespace
}  // namespace srudp::rendezvous
