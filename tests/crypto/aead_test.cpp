#include "crypto/aead.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.hpp"
#include "common/sodium.hpp"

namespace srudp::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes from_hex(std::string_view hex) {
  Bytes out;
  int high = -1;
  for (char c : hex) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (v < 0) continue;  // separators
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

SecretKey key_from(const Bytes& bytes) {
  return SecretKey(std::span<const std::uint8_t, kKeySize>(bytes.data(), kKeySize));
}

SecretKey random_key(std::uint64_t seed) {
  SeededRandom random(seed);
  SecretKey key;
  random.fill(key.bytes());
  return key;
}

Bytes pattern(std::size_t size, std::uint8_t salt = 0) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(i * 7 + salt);
  return out;
}

const Bytes kHeader = from_hex("40 0102030405060708 00000007");

class AeadTest : public ::testing::TestWithParam<AeadAlgorithm> {
 protected:
  void SetUp() override {
    ensure_sodium_initialized();
    if (!aead_available(GetParam())) {
      GTEST_SKIP() << to_string(GetParam())
                   << " is not available on this CPU (libsodium needs AES-NI and CLMUL)";
    }
  }
  PacketKey make_key(std::uint64_t seed) const {
    auto key = PacketKey::create(random_key(seed), GetParam());
    EXPECT_TRUE(key.has_value());
    return std::move(key).value();
  }
  bool authenticates() const { return GetParam() != AeadAlgorithm::null_for_testing; }
};

TEST_P(AeadTest, RoundTripsManySizes) {
  const PacketKey key = make_key(1);
  for (std::size_t size : {0U, 1U, 15U, 16U, 17U, 63U, 64U, 255U, 1200U, 1500U, 4000U}) {
    const Bytes plaintext = pattern(size);
    Bytes sealed(size + kAeadTagSize);
    auto n = key.seal(42, kHeader, plaintext, sealed);
    ASSERT_TRUE(n) << size;
    EXPECT_EQ(*n, size + kAeadTagSize);
    if (authenticates() && size >= 16) {
      EXPECT_FALSE(std::equal(plaintext.begin(), plaintext.end(), sealed.begin())) << size;
    }
    Bytes opened(size);
    auto m = key.open(42, kHeader, sealed, opened);
    ASSERT_TRUE(m) << size;
    EXPECT_EQ(*m, size);
    EXPECT_EQ(opened, plaintext);
  }
}

TEST_P(AeadTest, InPlaceSealAndOpen) {
  const PacketKey key = make_key(2);
  for (std::size_t size : {0U, 1U, 33U, 1200U}) {
    const Bytes plaintext = pattern(size, 3);
    Bytes buffer = plaintext;
    buffer.resize(size + kAeadTagSize);
    Bytes separate(size + kAeadTagSize);
    ASSERT_TRUE(key.seal(7, kHeader, plaintext, separate));
    auto n = key.seal(7, kHeader, std::span(buffer).first(size), buffer);
    ASSERT_TRUE(n);
    EXPECT_EQ(buffer, separate) << "in-place result must equal the out-of-place one";
    auto m = key.open(7, kHeader, buffer, buffer);
    ASSERT_TRUE(m);
    EXPECT_TRUE(std::equal(plaintext.begin(), plaintext.end(), buffer.begin()));
  }
}

TEST_P(AeadTest, RejectsBadBuffers) {
  const PacketKey key = make_key(3);
  const Bytes plaintext = pattern(100);
  Bytes small(100 + kAeadTagSize - 1);
  EXPECT_EQ(key.seal(1, kHeader, plaintext, small).error(), make_error_code(errc::buffer_too_small));

  Bytes sealed(116);
  ASSERT_TRUE(key.seal(1, kHeader, plaintext, sealed));
  Bytes short_out(99);
  EXPECT_EQ(key.open(1, kHeader, sealed, short_out).error(), make_error_code(errc::buffer_too_small));
  for (std::size_t size : {0U, 1U, 15U}) {
    Bytes out(16);
    EXPECT_EQ(key.open(1, kHeader, std::span(sealed).first(size), out).error(),
              make_error_code(errc::decrypt_failed))
        << "shorter than a tag: " << size;
  }

  // Partial overlap (output shifted by one byte) is refused rather than corrupting data.
  Bytes buffer(300);
  EXPECT_EQ(key.seal(1, kHeader, std::span(buffer).subspan(1, 100), std::span(buffer)).error(),
            make_error_code(errc::invalid_argument));
  EXPECT_EQ(key.open(1, kHeader, std::span(buffer).subspan(0, 116), std::span(buffer).subspan(1)).error(),
            make_error_code(errc::invalid_argument));
}

TEST_P(AeadTest, VerifyChecksWithoutWriting) {
  const PacketKey key = make_key(4);
  for (std::size_t size : {0U, 5U, 1200U, 3000U}) {
    Bytes sealed(size + kAeadTagSize);
    ASSERT_TRUE(key.seal(9, kHeader, pattern(size), sealed));
    const Bytes copy = sealed;
    EXPECT_TRUE(key.verify(9, kHeader, sealed));
    sealed.back() ^= 1;
    EXPECT_FALSE(key.verify(9, kHeader, sealed));
    sealed.back() ^= 1;
    EXPECT_EQ(sealed, copy) << "verify must not write";
    if (authenticates()) {
      EXPECT_FALSE(key.verify(10, kHeader, sealed));
    }
  }
  EXPECT_FALSE(key.verify(9, kHeader, Bytes(15)));
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, AeadTest,
                         ::testing::Values(AeadAlgorithm::chacha20_poly1305,
                                           AeadAlgorithm::aes256_gcm,
                                           AeadAlgorithm::null_for_testing),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case AeadAlgorithm::chacha20_poly1305: return std::string("ChaCha20Poly1305");
                             case AeadAlgorithm::aes256_gcm: return std::string("Aes256Gcm");
                             case AeadAlgorithm::null_for_testing: return std::string("Null");
                           }
                           return std::string("Unknown");
                         });

// Tampering tests only make sense for the real AEADs.
class RealAeadTest : public AeadTest {};

TEST_P(RealAeadTest, TamperingAnythingFailsToOpen) {
  const PacketKey key = make_key(5);
  const Bytes plaintext = pattern(200);
  Bytes sealed(plaintext.size() + kAeadTagSize);
  ASSERT_TRUE(key.seal(1000, kHeader, plaintext, sealed));
  Bytes out(plaintext.size());
  const auto decrypt_failed = make_error_code(errc::decrypt_failed);

  for (std::size_t index : {std::size_t{0}, std::size_t{99}, std::size_t{199}}) {  // ciphertext
    Bytes bad = sealed;
    bad[index] ^= 0x01;
    EXPECT_EQ(key.open(1000, kHeader, bad, out).error(), decrypt_failed) << "ciphertext " << index;
  }
  for (std::size_t index = 200; index < sealed.size(); ++index) {  // every tag byte
    Bytes bad = sealed;
    bad[index] ^= 0x80;
    EXPECT_EQ(key.open(1000, kHeader, bad, out).error(), decrypt_failed) << "tag " << index;
  }
  for (std::size_t index = 0; index < kHeader.size(); ++index) {  // every header (AD) byte
    Bytes header = kHeader;
    header[index] ^= 0x20;
    EXPECT_EQ(key.open(1000, header, sealed, out).error(), decrypt_failed) << "ad " << index;
  }
  Bytes longer_header = kHeader;
  longer_header.push_back(0);
  EXPECT_EQ(key.open(1000, longer_header, sealed, out).error(), decrypt_failed);
  for (std::uint64_t pn : {999ULL, 1001ULL, 1000ULL | (1ULL << 63), 1000ULL + (1ULL << 32)}) {
    EXPECT_EQ(key.open(pn, kHeader, sealed, out).error(), decrypt_failed) << "pn " << pn;
  }
  EXPECT_EQ(key.open(1000, kHeader, std::span(sealed).first(sealed.size() - 1), out).error(),
            decrypt_failed)
      << "truncated";
  ASSERT_TRUE(key.open(1000, kHeader, sealed, out)) << "the untouched packet still opens";
  EXPECT_EQ(out, plaintext);
}

TEST_P(RealAeadTest, OtherDirectionsKeyDoesNotOpen) {
  // Each direction has its own secret: a packet reflected back to its sender must not open.
  const PacketKey a_to_b = make_key(10);
  const PacketKey b_to_a = make_key(11);
  const Bytes plaintext = pattern(64);
  Bytes sealed(plaintext.size() + kAeadTagSize);
  ASSERT_TRUE(a_to_b.seal(5, kHeader, plaintext, sealed));
  Bytes out(plaintext.size());
  EXPECT_EQ(b_to_a.open(5, kHeader, sealed, out).error(), make_error_code(errc::decrypt_failed));
  EXPECT_TRUE(a_to_b.open(5, kHeader, sealed, out));
}

TEST_P(RealAeadTest, SamePacketNumberDifferentKeysGiveDifferentCiphertexts) {
  const Bytes plaintext = pattern(64);
  Bytes one(80), two(80);
  ASSERT_TRUE(make_key(20).seal(1, kHeader, plaintext, one));
  ASSERT_TRUE(make_key(21).seal(1, kHeader, plaintext, two));
  EXPECT_NE(one, two);
  Bytes three(80);
  ASSERT_TRUE(make_key(20).seal(2, kHeader, plaintext, three));
  EXPECT_NE(one, three) << "the packet number is the nonce";
}

INSTANTIATE_TEST_SUITE_P(RealAlgorithms, RealAeadTest,
                         ::testing::Values(AeadAlgorithm::chacha20_poly1305,
                                           AeadAlgorithm::aes256_gcm),
                         [](const auto& param_info) {
                           return param_info.param == AeadAlgorithm::aes256_gcm
                                      ? std::string("Aes256Gcm")
                                      : std::string("ChaCha20Poly1305");
                         });

TEST(AeadNonce, LayoutIsFourZeroBytesThenLittleEndianPacketNumber) {
  const auto nonce = packet_nonce(0x0807060504030201ULL);
  EXPECT_EQ(Bytes(nonce.begin(), nonce.end()), from_hex("00000000 0102030405060708"));
  const auto zero = packet_nonce(0);
  EXPECT_TRUE(std::all_of(zero.begin(), zero.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST(AeadKnownAnswer, ChaCha20Poly1305Rfc8439Section282) {
  const SecretKey key = key_from(from_hex(
      "80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f 90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f"));
  const Bytes nonce = from_hex("07 00 00 00 40 41 42 43 44 45 46 47");
  const Bytes aad = from_hex("50 51 52 53 c0 c1 c2 c3 c4 c5 c6 c7");
  const std::string text =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  const Bytes plaintext(text.begin(), text.end());
  ASSERT_EQ(plaintext.size(), 114U);
  const Bytes expected = from_hex(
      "d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2 a4 ad ed 51 29 6e 08 fe a9 e2 b5 a7 36 ee 62 d6"
      "3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b 1a 71 de 0a 9e 06 0b 29 05 d6 a5 b6 7e cd 3b 36"
      "92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58 fa b3 24 e4 fa d6 75 94 55 85 80 8b 48 31 d7 bc"
      "3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b 61 16"
      "1a e1 0b 59 4f 09 e2 6a 7e 90 2e cb d0 60 06 91");  // tag

  auto packet_key = PacketKey::create(key, AeadAlgorithm::chacha20_poly1305);
  ASSERT_TRUE(packet_key);
  const std::span<const std::uint8_t, kAeadNonceSize> nonce_span(nonce.data(), kAeadNonceSize);
  Bytes sealed(plaintext.size() + kAeadTagSize);
  auto n = packet_key->seal_with_nonce_for_testing(nonce_span, aad, plaintext, sealed);
  ASSERT_TRUE(n);
  EXPECT_EQ(sealed, expected);
  Bytes opened(plaintext.size());
  ASSERT_TRUE(packet_key->open_with_nonce_for_testing(nonce_span, aad, expected, opened));
  EXPECT_EQ(opened, plaintext);
}

TEST(AeadKnownAnswer, SealByPacketNumberUsesTheDocumentedNonce) {
  // seal(pn) must equal the raw AEAD with nonce 00000000 || LE64(pn), for both ciphers.
  const Bytes key_bytes = pattern(32, 0x55);
  const SecretKey key = key_from(key_bytes);
  const Bytes plaintext = pattern(77);
  const std::uint64_t pn = 0x0123456789abcdefULL;
  const Bytes nonce = from_hex("00000000 efcdab8967452301");
  for (AeadAlgorithm algorithm : {AeadAlgorithm::chacha20_poly1305, AeadAlgorithm::aes256_gcm}) {
    if (!aead_available(algorithm)) continue;
    auto packet_key = PacketKey::create(key, algorithm);
    ASSERT_TRUE(packet_key);
    Bytes ours(plaintext.size() + kAeadTagSize);
    ASSERT_TRUE(packet_key->seal(pn, kHeader, plaintext, ours));
    Bytes reference(plaintext.size() + kAeadTagSize);
    unsigned long long reference_size = 0;
    if (algorithm == AeadAlgorithm::chacha20_poly1305) {
      crypto_aead_chacha20poly1305_ietf_encrypt(reference.data(), &reference_size, plaintext.data(),
                                                plaintext.size(), kHeader.data(), kHeader.size(),
                                                nullptr, nonce.data(), key_bytes.data());
    } else {
      crypto_aead_aes256gcm_encrypt(reference.data(), &reference_size, plaintext.data(),
                                    plaintext.size(), kHeader.data(), kHeader.size(), nullptr,
                                    nonce.data(), key_bytes.data());
    }
    EXPECT_EQ(reference_size, reference.size());
    EXPECT_EQ(ours, reference) << to_string(algorithm);
  }
}

TEST(AeadKnownAnswer, Aes256GcmSpecificationTestCase16) {
  // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, with AAD).
  if (!aead_available(AeadAlgorithm::aes256_gcm)) {
    GTEST_SKIP() << "AES-256-GCM is not available on this CPU (libsodium needs AES-NI and CLMUL)";
  }
  const SecretKey key =
      key_from(from_hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
  const Bytes nonce = from_hex("cafebabefacedbaddecaf888");
  const Bytes aad = from_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const Bytes plaintext = from_hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  const Bytes expected = from_hex(
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
      "76fc6ece0f4e1768cddf8853bb2d551b");
  auto packet_key = PacketKey::create(key, AeadAlgorithm::aes256_gcm);
  ASSERT_TRUE(packet_key);
  const std::span<const std::uint8_t, kAeadNonceSize> nonce_span(nonce.data(), kAeadNonceSize);
  Bytes sealed(plaintext.size() + kAeadTagSize);
  ASSERT_TRUE(packet_key->seal_with_nonce_for_testing(nonce_span, aad, plaintext, sealed));
  EXPECT_EQ(sealed, expected);
}

TEST(AeadNull, AppendsZeroTagAndChecksIt) {
  auto key = PacketKey::create(random_key(1), AeadAlgorithm::null_for_testing);
  ASSERT_TRUE(key);
  const Bytes plaintext = pattern(10);
  Bytes sealed(26, 0xff);
  ASSERT_TRUE(key->seal(1, kHeader, plaintext, sealed));
  EXPECT_TRUE(std::equal(plaintext.begin(), plaintext.end(), sealed.begin()));
  EXPECT_TRUE(std::all_of(sealed.begin() + 10, sealed.end(), [](std::uint8_t b) { return b == 0; }));
  sealed[20] = 1;
  Bytes out(10);
  EXPECT_EQ(key->open(1, kHeader, sealed, out).error(), make_error_code(errc::decrypt_failed));
}

TEST(AeadAvailability, MatchesLibsodium) {
  ensure_sodium_initialized();
  EXPECT_TRUE(aead_available(AeadAlgorithm::chacha20_poly1305));
  EXPECT_TRUE(aead_available(AeadAlgorithm::null_for_testing));
  EXPECT_EQ(aead_available(AeadAlgorithm::aes256_gcm), crypto_aead_aes256gcm_is_available() == 1);
  auto aes = PacketKey::create(random_key(2), AeadAlgorithm::aes256_gcm);
  EXPECT_EQ(aes.has_value(), aead_available(AeadAlgorithm::aes256_gcm));
  if (!aes) {
    EXPECT_EQ(aes.error(), make_error_code(errc::invalid_argument));
  }
}

TEST(AeadKey, MovedKeyStillWorksAndSourceIsWiped) {
  auto created = PacketKey::create(random_key(3), AeadAlgorithm::chacha20_poly1305);
  ASSERT_TRUE(created);
  PacketKey original = std::move(created).value();
  Bytes sealed(16 + 4);
  ASSERT_TRUE(original.seal(1, kHeader, pattern(4), sealed));
  PacketKey moved = std::move(original);
  Bytes out(4);
  EXPECT_TRUE(moved.open(1, kHeader, sealed, out));
  // NOLINTNEXTLINE(bugprone-use-after-move): the moved-from key must no longer open anything.
  EXPECT_FALSE(original.open(1, kHeader, sealed, out));
}

}  // namespace
}  // namespace srudp::crypto
