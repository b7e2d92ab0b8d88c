#include "crypto/noise_cipher_state.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <vector>

namespace srudp::crypto {
namespace {

SecretKey key_of(std::uint8_t fill) {
  std::array<std::uint8_t, kKeySize> bytes{};
  bytes.fill(fill);
  return SecretKey(std::span<const std::uint8_t, kKeySize>(bytes));
}

const std::array<std::uint8_t, 5> kPlaintext{'h', 'e', 'l', 'l', 'o'};
const std::array<std::uint8_t, 3> kAd{'a', 'd', '!'};

TEST(CipherStateTest, WithoutKeyCopiesPlaintext) {
  CipherState cipher;
  EXPECT_FALSE(cipher.has_key());
  std::array<std::uint8_t, 5> out{};
  auto written = cipher.encrypt_with_ad(kAd, kPlaintext, out);
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, kPlaintext.size());
  EXPECT_EQ(out, kPlaintext);
  EXPECT_EQ(cipher.nonce(), 0u);
}

TEST(CipherStateTest, RoundTripAdvancesBothNonces) {
  CipherState sender;
  CipherState receiver;
  sender.initialize_key(key_of(1));
  receiver.initialize_key(key_of(1));
  for (std::uint64_t i = 0; i < 3; ++i) {
    std::array<std::uint8_t, kPlaintext.size() + CipherState::kTagSize> ciphertext{};
    auto written = sender.encrypt_with_ad(kAd, kPlaintext, ciphertext);
    ASSERT_TRUE(written);
    EXPECT_EQ(*written, ciphertext.size());
    std::array<std::uint8_t, kPlaintext.size()> plaintext{};
    auto read = receiver.decrypt_with_ad(kAd, ciphertext, plaintext);
    ASSERT_TRUE(read);
    EXPECT_EQ(plaintext, kPlaintext);
    EXPECT_EQ(sender.nonce(), i + 1);
    EXPECT_EQ(receiver.nonce(), i + 1);
  }
}

TEST(CipherStateTest, NonceIsFourZeroBytesThenLittleEndianCounter) {
  CipherState cipher;
  const SecretKey key = key_of(2);
  cipher.initialize_key(key);
  cipher.set_nonce(0x0102030405060708ull);
  std::array<std::uint8_t, kPlaintext.size() + 16> ours{};
  ASSERT_TRUE(cipher.encrypt_with_ad(kAd, kPlaintext, ours));

  const std::array<std::uint8_t, 12> nonce{0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
  std::array<std::uint8_t, kPlaintext.size() + 16> reference{};
  unsigned long long length = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(reference.data(), &length, kPlaintext.data(),
                                            kPlaintext.size(), kAd.data(), kAd.size(), nullptr,
                                            nonce.data(), key.data());
  EXPECT_EQ(ours, reference);
}

TEST(CipherStateTest, ReservedNonceIsAnErrorNotAWrap) {
  CipherState cipher;
  cipher.initialize_key(key_of(3));
  cipher.set_nonce(CipherState::kMaxNonce - 1);
  std::array<std::uint8_t, kPlaintext.size() + 16> out{};
  ASSERT_TRUE(cipher.encrypt_with_ad({}, kPlaintext, out));  // nonce 2^64-2 is the last usable
  EXPECT_EQ(cipher.nonce(), CipherState::kMaxNonce);
  auto again = cipher.encrypt_with_ad({}, kPlaintext, out);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), make_error_code(errc::key_limit_reached));
  EXPECT_EQ(cipher.nonce(), CipherState::kMaxNonce);
  std::array<std::uint8_t, kPlaintext.size()> plain{};
  auto decrypted = cipher.decrypt_with_ad({}, out, plain);
  ASSERT_FALSE(decrypted);
  EXPECT_EQ(decrypted.error(), make_error_code(errc::key_limit_reached));
}

TEST(CipherStateTest, FailedDecryptionKeepsTheNonce) {
  CipherState sender;
  CipherState receiver;
  sender.initialize_key(key_of(4));
  receiver.initialize_key(key_of(4));
  std::array<std::uint8_t, kPlaintext.size() + 16> ciphertext{};
  ASSERT_TRUE(sender.encrypt_with_ad(kAd, kPlaintext, ciphertext));
  std::array<std::uint8_t, kPlaintext.size()> plaintext{};

  auto tampered = ciphertext;
  tampered[0] ^= 0x01;
  auto bad = receiver.decrypt_with_ad(kAd, tampered, plaintext);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), make_error_code(errc::decrypt_failed));
  auto wrong_ad = receiver.decrypt_with_ad({}, ciphertext, plaintext);
  ASSERT_FALSE(wrong_ad);
  EXPECT_EQ(receiver.nonce(), 0u);
  ASSERT_TRUE(receiver.decrypt_with_ad(kAd, ciphertext, plaintext));  // the genuine one still works
  EXPECT_EQ(plaintext, kPlaintext);
}

TEST(CipherStateTest, ShortCiphertextAndSmallBuffersAreErrors) {
  CipherState cipher;
  cipher.initialize_key(key_of(5));
  std::array<std::uint8_t, 15> too_short{};
  std::array<std::uint8_t, 32> out{};
  EXPECT_EQ(cipher.decrypt_with_ad({}, too_short, out).error(),
            make_error_code(errc::decrypt_failed));
  std::array<std::uint8_t, kPlaintext.size() + 15> small{};
  EXPECT_EQ(cipher.encrypt_with_ad({}, kPlaintext, small).error(),
            make_error_code(errc::buffer_too_small));
  EXPECT_EQ(cipher.nonce(), 0u);
}

TEST(CipherStateTest, EncryptsInPlace) {
  CipherState sender;
  CipherState receiver;
  sender.initialize_key(key_of(6));
  receiver.initialize_key(key_of(6));
  std::vector<std::uint8_t> buffer(kPlaintext.begin(), kPlaintext.end());
  buffer.resize(kPlaintext.size() + 16);
  ASSERT_TRUE(sender.encrypt_with_ad(kAd, std::span(buffer).first(kPlaintext.size()), buffer));
  auto read = receiver.decrypt_with_ad(kAd, buffer, buffer);
  ASSERT_TRUE(read);
  EXPECT_TRUE(std::equal(kPlaintext.begin(), kPlaintext.end(), buffer.begin()));
}

TEST(CipherStateTest, RekeyFollowsTheSpecAndKeepsPeersInStep) {
  const SecretKey key = key_of(7);
  CipherState a;
  CipherState b;
  a.initialize_key(key);
  b.initialize_key(key);
  ASSERT_FALSE(a.rekey());
  ASSERT_FALSE(b.rekey());

  // REKEY(k) = ENCRYPT(k, 2^64-1, zerolen, zeros)[:32]; then encrypt with that key at nonce 0.
  const std::array<std::uint8_t, 12> max_nonce{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff};
  const std::array<std::uint8_t, 32> zeros{};
  std::array<std::uint8_t, 48> rekeyed{};
  unsigned long long length = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(rekeyed.data(), &length, zeros.data(), zeros.size(),
                                            nullptr, 0, nullptr, max_nonce.data(), key.data());
  CipherState reference;
  reference.initialize_key(SecretKey(std::span<const std::uint8_t, 32>(rekeyed.data(), 32)));

  std::array<std::uint8_t, kPlaintext.size() + 16> from_a{};
  std::array<std::uint8_t, kPlaintext.size() + 16> from_reference{};
  ASSERT_TRUE(a.encrypt_with_ad({}, kPlaintext, from_a));
  ASSERT_TRUE(reference.encrypt_with_ad({}, kPlaintext, from_reference));
  EXPECT_EQ(from_a, from_reference);
  std::array<std::uint8_t, kPlaintext.size()> plain{};
  EXPECT_TRUE(b.decrypt_with_ad({}, from_a, plain));
}

TEST(CipherStateTest, RekeyWithoutKeyIsInvalidState) {
  CipherState cipher;
  EXPECT_EQ(cipher.rekey(), make_error_code(errc::invalid_state));
}

TEST(CipherStateTest, ClearForgetsTheKey) {
  CipherState cipher;
  cipher.initialize_key(key_of(8));
  cipher.clear();
  EXPECT_FALSE(cipher.has_key());
}

}  // namespace
}  // namespace srudp::crypto
