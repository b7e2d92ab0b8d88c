#include "crypto/noise_symmetric_state.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <string>
#include <string_view>

namespace srudp::crypto {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::array<std::uint8_t, 64> blake2b(std::span<const std::uint8_t> a,
                                     std::span<const std::uint8_t> b = {}) {
  std::array<std::uint8_t, 64> out{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, out.size());
  crypto_generichash_update(&state, a.data(), a.size());
  crypto_generichash_update(&state, b.data(), b.size());
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

std::array<std::uint8_t, 64> as_array(std::span<const std::uint8_t, 64> s) {
  std::array<std::uint8_t, 64> out{};
  std::copy(s.begin(), s.end(), out.begin());
  return out;
}

TEST(SymmetricStateTest, ShortProtocolNameIsZeroPadded) {
  SymmetricState state;
  const std::string name = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
  state.initialize(name);
  std::array<std::uint8_t, 64> expected{};
  std::copy(name.begin(), name.end(), expected.begin());
  EXPECT_EQ(as_array(state.handshake_hash()), expected);
  EXPECT_FALSE(state.has_key());
}

TEST(SymmetricStateTest, LongProtocolNameIsHashed) {
  SymmetricState state;
  const std::string name(70, 'N');
  state.initialize(name);
  EXPECT_EQ(as_array(state.handshake_hash()), blake2b(bytes_of(name)));
}

TEST(SymmetricStateTest, MixHashAppendsData) {
  SymmetricState state;
  state.initialize("Noise_NN_25519_ChaChaPoly_BLAKE2b");
  const auto before = as_array(state.handshake_hash());
  state.mix_hash(bytes_of("prologue"));
  EXPECT_EQ(as_array(state.handshake_hash()), blake2b(before, bytes_of("prologue")));
}

TEST(SymmetricStateTest, EncryptAndHashWithoutKeyIsPlaintextButHashed) {
  SymmetricState state;
  state.initialize("Noise_NN_25519_ChaChaPoly_BLAKE2b");
  const auto before = as_array(state.handshake_hash());
  std::array<std::uint8_t, 4> out{};
  auto written = state.encrypt_and_hash(bytes_of("abcd"), out);
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, 4u);
  EXPECT_EQ(std::string(out.begin(), out.end()), "abcd");
  EXPECT_EQ(as_array(state.handshake_hash()), blake2b(before, bytes_of("abcd")));
}

TEST(SymmetricStateTest, PeersStayInStepAndSplitAgrees) {
  SymmetricState a;
  SymmetricState b;
  for (SymmetricState* s : {&a, &b}) {
    s->initialize("Noise_NN_25519_ChaChaPoly_BLAKE2b");
    s->mix_key(bytes_of("shared secret"));
    s->mix_key_and_hash(bytes_of("psk"));
  }
  EXPECT_TRUE(a.has_key());
  std::array<std::uint8_t, 7 + 16> ciphertext{};
  ASSERT_TRUE(a.encrypt_and_hash(bytes_of("payload"), ciphertext));
  std::array<std::uint8_t, 7> plaintext{};
  ASSERT_TRUE(b.decrypt_and_hash(ciphertext, plaintext));
  EXPECT_EQ(std::string(plaintext.begin(), plaintext.end()), "payload");
  EXPECT_EQ(as_array(a.handshake_hash()), as_array(b.handshake_hash()));

  const auto keys_a = a.split();
  const auto keys_b = b.split();
  EXPECT_TRUE(keys_a.initiator_to_responder == keys_b.initiator_to_responder);
  EXPECT_TRUE(keys_a.responder_to_initiator == keys_b.responder_to_initiator);
  EXPECT_FALSE(keys_a.initiator_to_responder == keys_a.responder_to_initiator);
}

TEST(SymmetricStateTest, FailedDecryptChangesNothing) {
  SymmetricState a;
  SymmetricState b;
  for (SymmetricState* s : {&a, &b}) {
    s->initialize("Noise_NN_25519_ChaChaPoly_BLAKE2b");
    s->mix_key(bytes_of("k"));
  }
  std::array<std::uint8_t, 3 + 16> ciphertext{};
  ASSERT_TRUE(a.encrypt_and_hash(bytes_of("abc"), ciphertext));
  const auto hash_before = as_array(b.handshake_hash());
  auto tampered = ciphertext;
  tampered.back() ^= 0x80;
  std::array<std::uint8_t, 3> plaintext{};
  auto bad = b.decrypt_and_hash(tampered, plaintext);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), make_error_code(errc::decrypt_failed));
  EXPECT_EQ(as_array(b.handshake_hash()), hash_before);
  EXPECT_TRUE(b.decrypt_and_hash(ciphertext, plaintext));  // nonce did not move either
}

TEST(SymmetricStateTest, CloneIsIndependent) {
  SymmetricState original;
  original.initialize("Noise_NN_25519_ChaChaPoly_BLAKE2b");
  SymmetricState copy = original.clone();
  copy.mix_hash(bytes_of("x"));
  EXPECT_NE(as_array(copy.handshake_hash()), as_array(original.handshake_hash()));
}

TEST(SymmetricStateTest, MixKeyChangesTheSplitKeys) {
  SymmetricState a;
  SymmetricState b;
  a.initialize("Noise_NN_25519_ChaChaPoly_BLAKE2b");
  b.initialize("Noise_NN_25519_ChaChaPoly_BLAKE2b");
  a.mix_key(bytes_of("one"));
  b.mix_key(bytes_of("two"));
  EXPECT_FALSE(a.split().initiator_to_responder == b.split().initiator_to_responder);
}

}  // namespace
}  // namespace srudp::crypto
