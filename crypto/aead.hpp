// One AEAD key for one direction of one connection: seals and opens data packets with the
// packet number as the nonce.
//
// Nonce layout (12 bytes, the IETF AEAD nonce size for both ciphers):
//
//     nonce = 00 00 00 00 || LE64(packet_number)
//
// i.e. four zero bytes followed by the full 64-bit packet number in little-endian order (the
// same construction as WireGuard's transport data). Each direction has its own traffic secret
// and each key generation its own derived key, so a (key, nonce) pair repeats only if a packet
// number is reused under the same key; PacketProtection refuses to let that happen.
//
// The tag is 16 bytes and follows the ciphertext. The associated data is the packet header as
// it appears on the wire, so any change to it (including the key-phase bit) fails to open.
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.hpp"
#include "crypto/secret.hpp"

namespace srudp::crypto {

enum class AeadAlgorithm : std::uint8_t {
  chacha20_poly1305,  // the default: fast everywhere, no hardware requirement
  aes256_gcm,         // only where libsodium has a hardware implementation (AES-NI + CLMUL)
  // Copies the plaintext and appends 16 zero bytes, which open() checks. No confidentiality
  // and no integrity. It exists so fuzzers can reach states behind the AEAD check; it is never
  // negotiated on the wire and must never protect real traffic.
  null_for_testing,
};

inline constexpr std::size_t kAeadTagSize = 16;
inline constexpr std::size_t kAeadNonceSize = 12;

std::string_view to_string(AeadAlgorithm algorithm) noexcept;

// True when this build and CPU can use the algorithm (AES-256-GCM needs AES-NI and CLMUL).
bool aead_available(AeadAlgorithm algorithm);

// The nonce for a packet number, per the layout above.
std::array<std::uint8_t, kAeadNonceSize> packet_nonce(std::uint64_t packet_number) noexcept;

class PacketKey {
 public:
  // Fails with errc::invalid_argument if the algorithm is not available here (see
  // aead_available). The key material is copied; the caller's secret can be wiped afterwards.
  static Result<PacketKey> create(const SecretKey& key, AeadAlgorithm algorithm);

  PacketKey(PacketKey&& other) noexcept;
  PacketKey& operator=(PacketKey&& other) noexcept;
  PacketKey(const PacketKey&) = delete;
  PacketKey& operator=(const PacketKey&) = delete;
  ~PacketKey();

  AeadAlgorithm algorithm() const noexcept { return algorithm_; }

  // Writes ciphertext || tag (plaintext.size() + 16 bytes) to the front of `out` and returns
  // that size. `out` may start at the same address as `plaintext` (in-place); any other
  // overlap is refused (errc::invalid_argument). errc::buffer_too_small if out is too short.
  Result<std::size_t> seal(std::uint64_t packet_number, std::span<const std::uint8_t> ad,
                           std::span<const std::uint8_t> plaintext,
                           std::span<std::uint8_t> out) const;

  // `ciphertext` is ciphertext || tag. Writes the plaintext (ciphertext.size() - 16 bytes) to
  // the front of `out` and returns its size; in-place as for seal. errc::decrypt_failed if the
  // input is shorter than a tag or does not authenticate (wrong key, packet number, associated
  // data, or modified bytes). On failure the first ciphertext.size() - 16 bytes of `out` are
  // unspecified (libsodium zeroes them), so an in-place caller loses the ciphertext.
  Result<std::size_t> open(std::uint64_t packet_number, std::span<const std::uint8_t> ad,
                           std::span<const std::uint8_t> ciphertext,
                           std::span<std::uint8_t> out) const;

  // Checks the tag without writing anything. Used where a packet must be tried against two
  // keys without destroying an in-place buffer (PacketProtection's key-phase ambiguity).
  bool verify(std::uint64_t packet_number, std::span<const std::uint8_t> ad,
              std::span<const std::uint8_t> ciphertext) const;

  // Seal/open with an explicit nonce instead of a packet number: only for known-answer tests
  // against published vectors, whose nonces do not follow our layout. Never use in the protocol.
  Result<std::size_t> seal_with_nonce_for_testing(std::span<const std::uint8_t, kAeadNonceSize> nonce,
                                                  std::span<const std::uint8_t> ad,
                                                  std::span<const std::uint8_t> plaintext,
                                                  std::span<std::uint8_t> out) const;
  Result<std::size_t> open_with_nonce_for_testing(std::span<const std::uint8_t, kAeadNonceSize> nonce,
                                                  std::span<const std::uint8_t> ad,
                                                  std::span<const std::uint8_t> ciphertext,
                                                  std::span<std::uint8_t> out) const;

 private:
  explicit PacketKey(AeadAlgorithm algorithm) noexcept : algorithm_(algorithm) {}
  void wipe() noexcept;

  Result<std::size_t> seal_raw(const std::uint8_t* nonce, std::span<const std::uint8_t> ad,
                               std::span<const std::uint8_t> plaintext,
                               std::span<std::uint8_t> out) const;
  Result<std::size_t> open_raw(const std::uint8_t* nonce, std::span<const std::uint8_t> ad,
                               std::span<const std::uint8_t> ciphertext,
                               std::span<std::uint8_t> out) const;

  AeadAlgorithm algorithm_;
  // ChaCha20-Poly1305 uses the raw key; AES-256-GCM the expanded key schedule and GHASH tables
  // (crypto_aead_aes256gcm_beforenm), computed once here rather than per packet.
  SecretKey key_;
  crypto_aead_aes256gcm_state aes_state_{};
};

}  // namespace srudp::crypto
