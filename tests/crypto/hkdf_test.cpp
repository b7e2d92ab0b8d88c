#include "crypto/hkdf.hpp"

#include <gtest/gtest.h>

#include <array>
#include <numeric>
#include <string>
#include <string_view>

namespace srudp::crypto {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

// Expected values below were computed while writing this test with Python's standard library:
//   hmac.new(key, data, hashlib.blake2b).hexdigest()
// and, for HKDF, the Noise definition written out with the same hmac calls.

TEST(HmacBlake2bTest, MatchesPythonHmacWithShortKey) {
  const HashOutput mac =
      hmac_blake2b(bytes_of("key"), bytes_of("The quick brown fox jumps over the lazy dog"));
  EXPECT_EQ(hex(mac.bytes()),
            "92294f92c0dfb9b00ec9ae8bd94d7e7d8a036b885a499f149dfe2fd2199394aa"
            "af6b8894a1730cccb2cd050f9bcf5062a38b51b0dab33207f8ef35ae2c9df51b");
}

TEST(HmacBlake2bTest, HashesKeysLongerThanTheBlock) {
  std::array<std::uint8_t, 200> key{};
  std::iota(key.begin(), key.end(), std::uint8_t{0});
  const HashOutput mac = hmac_blake2b(key, bytes_of("long key"));
  EXPECT_EQ(hex(mac.bytes()),
            "3657d96bcab1b777275ca0c25f3bab9388d8ac4d3914495a2b495c756b52dd22"
            "dc9531abcd00141e683e53e77cf10f468330f65c569c44f0f54edd3ad89cb566");
}

TEST(HmacBlake2bTest, EmptyKeyAndData) {
  const HashOutput mac = hmac_blake2b({}, {});
  EXPECT_EQ(hex(mac.bytes()),
            "198cd2006f66ff83fbbd913f78aca2251caf4f19fe9475aade8cf2091b99a684"
            "66775177424f58286886cbae8229644cec747237d4b721735485e17372fdf59c");
}

TEST(HmacBlake2bTest, DifferentKeysGiveDifferentMacs) {
  const HashOutput a = hmac_blake2b(bytes_of("key-a"), bytes_of("data"));
  const HashOutput b = hmac_blake2b(bytes_of("key-b"), bytes_of("data"));
  EXPECT_FALSE(a == b);
}

class NoiseHkdfTest : public ::testing::Test {
 protected:
  NoiseHkdfTest() { std::iota(chaining_key.begin(), chaining_key.end(), std::uint8_t{0}); }
  std::array<std::uint8_t, kNoiseHashLen> chaining_key{};
  static constexpr std::string_view kIkm = "input key material";
  static constexpr std::string_view kOutput1 =
      "a94ec1ceaa5ac0280eafc97980003e4019176e4bf7c914c45fb0bbda0b22a995"
      "4d01f3697bbf32817ed0fccbf6dd1ebd24c0b05611051e63dc56e131af4f7c10";
  static constexpr std::string_view kOutput2 =
      "f9d83f6c5d34695529eb8e35c8a2ed78658092e7c3b38fdf0cea2a2096b6f6e5"
      "42af644e298508f37da08860db285a8ad4b604c1f160f23356df6b28c183508d";
  static constexpr std::string_view kOutput3 =
      "bb6f14b645bac5dd79c98ce583e3357b43b431c22400c9b79d690c1d2fe2d391"
      "ab8372b0b08553b56e802dc6badace75398c1b8a973d0aab18d857d431c3a48f";
};

TEST_F(NoiseHkdfTest, TwoOutputsMatchReference) {
  const HkdfTwoOutputs out = noise_hkdf2(chaining_key, bytes_of(kIkm));
  EXPECT_EQ(hex(out.first.bytes()), kOutput1);
  EXPECT_EQ(hex(out.second.bytes()), kOutput2);
}

TEST_F(NoiseHkdfTest, ThreeOutputsExtendTheTwoOutputForm) {
  const HkdfThreeOutputs out = noise_hkdf3(chaining_key, bytes_of(kIkm));
  EXPECT_EQ(hex(out.first.bytes()), kOutput1);
  EXPECT_EQ(hex(out.second.bytes()), kOutput2);
  EXPECT_EQ(hex(out.third.bytes()), kOutput3);
}

TEST_F(NoiseHkdfTest, TruncateToKeyKeepsTheFirst32Bytes) {
  const HkdfTwoOutputs out = noise_hkdf2(chaining_key, bytes_of(kIkm));
  const SecretKey key = truncate_to_key(out.second);
  EXPECT_EQ(hex(key.bytes()), kOutput2.substr(0, 64));
}

TEST_F(NoiseHkdfTest, InputKeyMaterialChangesEveryOutput) {
  const HkdfTwoOutputs a = noise_hkdf2(chaining_key, bytes_of("a"));
  const HkdfTwoOutputs b = noise_hkdf2(chaining_key, bytes_of("b"));
  EXPECT_FALSE(a.first == b.first);
  EXPECT_FALSE(a.second == b.second);
}

}  // namespace
}  // namespace srudp::crypto
