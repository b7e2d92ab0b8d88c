// Noise CipherState (revision 34, section 5.1) with ChaChaPoly: ChaCha20-Poly1305 IETF, the
// 96-bit nonce being 4 zero bytes followed by the 64-bit counter n in little-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <system_error>

#include "common/result.hpp"
#include "crypto/secret.hpp"

namespace srudp::crypto {

class CipherState {
 public:
  static constexpr std::size_t kTagSize = 16;
  // Noise reserves nonce 2^64-1 (Rekey uses it); reaching it is an error, never a wrap-around.
  static constexpr std::uint64_t kMaxNonce = std::numeric_limits<std::uint64_t>::max();

  CipherState() = default;
  CipherState(CipherState&&) noexcept = default;
  CipherState& operator=(CipherState&&) noexcept = default;
  CipherState clone() const;

  // InitializeKey(key): sets k and resets n to 0.
  void initialize_key(const SecretKey& key);
  // Back to "no key" (k = empty), wiping the old key.
  void clear();
  bool has_key() const noexcept { return has_key_; }
  void set_nonce(std::uint64_t nonce) noexcept { nonce_ = nonce; }
  std::uint64_t nonce() const noexcept { return nonce_; }

  // EncryptWithAd: writes ciphertext||tag (plaintext.size() + 16 bytes) to `out`, or copies the
  // plaintext when there is no key. `out` may be the same memory as `plaintext` (in place) but
  // must not partially overlap it. Errors: buffer_too_small, key_limit_reached (nonce 2^64-1).
  Result<std::size_t> encrypt_with_ad(std::span<const std::uint8_t> ad,
                                      std::span<const std::uint8_t> plaintext,
                                      std::span<std::uint8_t> out);
  // DecryptWithAd: the reverse. On authentication failure returns errc::decrypt_failed and leaves
  // the nonce unchanged (as Noise requires); `out` may hold garbage then.
  Result<std::size_t> decrypt_with_ad(std::span<const std::uint8_t> ad,
                                      std::span<const std::uint8_t> ciphertext,
                                      std::span<std::uint8_t> out);
  // Rekey: k = first 32 bytes of ENCRYPT(k, 2^64-1, empty ad, 32 zero bytes). invalid_state if
  // there is no key.
  [[nodiscard]] std::error_code rekey();

 private:
  SecretKey key_;
  bool has_key_ = false;
  std::uint64_t nonce_ = 0;
};

}  // namespace srudp::crypto
