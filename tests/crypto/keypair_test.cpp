#include "crypto/keypair.hpp"

#include <gtest/gtest.h>

#include <array>

namespace srudp::crypto {
namespace {

SecretKey secret_from(std::uint8_t fill) {
  std::array<std::uint8_t, kKeySize> bytes{};
  bytes.fill(fill);
  return SecretKey(std::span<const std::uint8_t, kKeySize>(bytes));
}

TEST(KeyPairTest, GenerateIsDeterministicForASeededSource) {
  SeededRandom rng_a(7);
  SeededRandom rng_b(7);
  const KeyPair a = KeyPair::generate(rng_a);
  const KeyPair b = KeyPair::generate(rng_b);
  EXPECT_TRUE(a.secret == b.secret);
  EXPECT_EQ(a.public_key, b.public_key);
  const KeyPair c = KeyPair::generate(rng_a);
  EXPECT_FALSE(a.secret == c.secret);
  EXPECT_FALSE(a.public_key == c.public_key);
}

TEST(KeyPairTest, FromSecretDerivesTheKnownPublicKey) {
  // RFC 7748 section 6.1: Alice's private and public key.
  const std::array<std::uint8_t, 32> alice_private{
      0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
      0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a};
  const std::array<std::uint8_t, 32> alice_public{
      0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
      0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a};
  const KeyPair pair = KeyPair::from_secret(SecretKey(std::span<const std::uint8_t, 32>(alice_private)));
  EXPECT_EQ(pair.public_key.bytes, alice_public);
}

TEST(KeyPairTest, CloneCopiesBothHalves) {
  const KeyPair original = KeyPair::from_secret(secret_from(3));
  const KeyPair copy = original.clone();
  EXPECT_TRUE(copy.secret == original.secret);
  EXPECT_EQ(copy.public_key, original.public_key);
}

TEST(KeyPairTest, MovedFromSecretIsWiped) {
  KeyPair original = KeyPair::from_secret(secret_from(9));
  const KeyPair moved = std::move(original);
  EXPECT_TRUE(original.secret == SecretKey{});  // NOLINT(bugprone-use-after-move): checking the wipe
  EXPECT_FALSE(moved.secret == SecretKey{});
}

TEST(X25519Test, BothSidesAgree) {
  SeededRandom rng(11);
  const KeyPair alice = KeyPair::generate(rng);
  const KeyPair bob = KeyPair::generate(rng);
  auto ab = x25519(alice.secret, bob.public_key);
  auto ba = x25519(bob.secret, alice.public_key);
  ASSERT_TRUE(ab && ba);
  EXPECT_TRUE(*ab == *ba);
}

TEST(X25519Test, RejectsLowOrderPoints) {
  const KeyPair pair = KeyPair::from_secret(secret_from(5));
  // Points of order 1, 2, 4 and 8 on Curve25519 (and non-canonical encodings of them); each forces
  // an all-zero shared secret.
  const std::array<std::array<std::uint8_t, 32>, 4> low_order{{
      {},                                                   // 0
      {1},                                                  // 1
      {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
       0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
      {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
       0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
  }};
  for (const auto& point : low_order) {
    PublicKey peer;
    peer.bytes = point;
    auto shared = x25519(pair.secret, peer);
    ASSERT_FALSE(shared);
    EXPECT_EQ(shared.error(), make_error_code(errc::handshake_failed));
  }
}

}  // namespace
}  // namespace srudp::crypto
