#include "crypto/cookie.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace srudp::crypto {
namespace {

PresharedKey psk(std::uint8_t fill) {
  std::array<std::uint8_t, 32> b{};
  b.fill(fill);
  return PresharedKey(std::span<const std::uint8_t, 32>(b));
}

const std::vector<std::uint8_t> kPacket(1184, 0x33);
const SocketAddress kAlice = SocketAddress::v4(198, 51, 100, 7, 4000);
const SocketAddress kMallory = SocketAddress::v4(198, 51, 100, 8, 4000);

TEST(MacKeys, Mac1DependsOnPskAndContent) {
  const auto p1 = psk(1), p2 = psk(2);
  MacKeys a(&p1), b(&p1), c(&p2), none(nullptr);
  EXPECT_EQ(a.mac1(kPacket), b.mac1(kPacket));
  EXPECT_NE(a.mac1(kPacket), c.mac1(kPacket));
  EXPECT_NE(a.mac1(kPacket), none.mac1(kPacket));
  auto changed = kPacket;
  changed[500] ^= 1;
  EXPECT_NE(a.mac1(kPacket), a.mac1(changed));
}

TEST(Cookie, RoundTripGivesMac2ThatVerifiesOnlyForTheSameAddress) {
  const auto p = psk(1);
  MacKeys keys(&p);
  SeededRandom rng(1);
  CookieIssuer issuer(keys, rng);
  CookieJar jar;
  const Instant t0{};
  const Mac mac1 = keys.mac1(kPacket);
  EXPECT_FALSE(jar.has_cookie(t0));
  EXPECT_EQ(jar.mac2(t0, kPacket), Mac{});

  const auto sealed = issuer.seal_cookie(t0, kAlice, mac1);
  ASSERT_FALSE(jar.accept_reply(t0, keys, sealed, mac1));
  ASSERT_TRUE(jar.has_cookie(t0));
  const Mac mac2 = jar.mac2(t0, kPacket);
  EXPECT_TRUE(issuer.mac2_valid(t0, kAlice, kPacket, mac2));
  EXPECT_FALSE(issuer.mac2_valid(t0, kMallory, kPacket, mac2));  // cookie bound to the address
  auto other = kPacket;
  other[0] ^= 1;
  EXPECT_FALSE(issuer.mac2_valid(t0, kAlice, other, mac2));     // mac2 bound to the packet
  EXPECT_FALSE(issuer.mac2_valid(t0, kAlice, kPacket, Mac{}));
}

TEST(Cookie, ReplyOnlyOpensWithTheInitiationMac1AndRightKey) {
  const auto p = psk(1), q = psk(2);
  MacKeys keys(&p), wrong(&q);
  SeededRandom rng(2);
  CookieIssuer issuer(keys, rng);
  const Mac mac1 = keys.mac1(kPacket);
  auto sealed = issuer.seal_cookie(Instant{}, kAlice, mac1);
  CookieJar jar;
  Mac other_mac1 = mac1;
  other_mac1[0] ^= 1;
  EXPECT_EQ(jar.accept_reply(Instant{}, keys, sealed, other_mac1), errc::decrypt_failed);
  EXPECT_EQ(jar.accept_reply(Instant{}, wrong, sealed, mac1), errc::decrypt_failed);
  sealed[40] ^= 1;
  EXPECT_EQ(jar.accept_reply(Instant{}, keys, sealed, mac1), errc::decrypt_failed);
  EXPECT_EQ(jar.accept_reply(Instant{}, keys, std::span(sealed).first(10), mac1), errc::malformed);
  EXPECT_FALSE(jar.has_cookie(Instant{}));
}

TEST(Cookie, SecretRotationKeepsOnePreviousGeneration) {
  const auto p = psk(1);
  MacKeys keys(&p);
  SeededRandom rng(3);
  CookieIssuer issuer(keys, rng);
  CookieJar jar;
  const Instant t0{};
  const Mac mac1 = keys.mac1(kPacket);
  ASSERT_FALSE(jar.accept_reply(t0, keys, issuer.seal_cookie(t0, kAlice, mac1), mac1));
  const Mac mac2 = jar.mac2(t0, kPacket);
  EXPECT_TRUE(issuer.mac2_valid(t0 + kCookieSecretLifetime, kAlice, kPacket, mac2));       // previous
  EXPECT_FALSE(issuer.mac2_valid(t0 + 2 * kCookieSecretLifetime, kAlice, kPacket, mac2));  // expired
  // The jar stops using a cookie before the issuer forgets it.
  EXPECT_FALSE(jar.has_cookie(t0 + kCookieSecretLifetime));
}

}  // namespace
}  // namespace srudp::crypto
