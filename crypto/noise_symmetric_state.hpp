// Noise SymmetricState (revision 34, section 5.2) for BLAKE2b (HASHLEN 64) and ChaChaPoly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.hpp"
#include "crypto/hkdf.hpp"
#include "crypto/noise_cipher_state.hpp"
#include "crypto/secret.hpp"

namespace srudp::crypto {

class SymmetricState {
 public:
  // Raw 32-byte keys from Split(): srudp derives its own packet keys from them rather than using
  // Noise CipherStates for data.
  struct SplitKeys {
    SecretKey initiator_to_responder;
    SecretKey responder_to_initiator;
  };

  SymmetricState() = default;
  SymmetricState(SymmetricState&&) noexcept = default;
  SymmetricState& operator=(SymmetricState&&) noexcept = default;
  SymmetricState clone() const;

  // InitializeSymmetric(protocol_name): h = name zero-padded to 64 bytes, or HASH(name) when
  // longer; ck = h; no cipher key.
  void initialize(std::string_view protocol_name);
  // MixKey: ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k[:32]).
  void mix_key(std::span<const std::uint8_t> input_key_material);
  // MixHash: h = HASH(h || data).
  void mix_hash(std::span<const std::uint8_t> data);
  // MixKeyAndHash: ck, temp_h, temp_k = HKDF(ck, ikm, 3); MixHash(temp_h); InitializeKey(temp_k).
  void mix_key_and_hash(std::span<const std::uint8_t> input_key_material);

  std::span<const std::uint8_t, kNoiseHashLen> handshake_hash() const noexcept {
    return hash_.bytes();
  }
  bool has_key() const noexcept { return cipher_.has_key(); }

  // EncryptAndHash / DecryptAndHash: AEAD with h as associated data, then MixHash(ciphertext).
  // On a failed decryption nothing changes (h, ck and the nonce stay as they were).
  Result<std::size_t> encrypt_and_hash(std::span<const std::uint8_t> plaintext,
                                       std::span<std::uint8_t> out);
  Result<std::size_t> decrypt_and_hash(std::span<const std::uint8_t> ciphertext,
                                       std::span<std::uint8_t> out);

  // Split: temp_k1, temp_k2 = HKDF(ck, empty, 2), truncated to 32 bytes.
  SplitKeys split() const;

  // Wipes ck and the cipher key after Split; h stays readable (it identifies the handshake).
  void wipe_keys();

 private:
  HashOutput chaining_key_;
  HashOutput hash_;
  CipherState cipher_;
};

}  // namespace srudp::crypto
