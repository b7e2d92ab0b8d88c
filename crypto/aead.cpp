#include "crypto/aead.hpp"

#include <cstring>
#include <functional>

#include "common/sodium.hpp"

namespace srudp::crypto {

static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kAeadTagSize);
static_assert(crypto_aead_aes256gcm_ABYTES == kAeadTagSize);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == kAeadNonceSize);
static_assert(crypto_aead_aes256gcm_NPUBBYTES == kAeadNonceSize);
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kKeySize);
static_assert(crypto_aead_aes256gcm_KEYBYTES == kKeySize);

namespace {

// In-place (same start) or disjoint: both are fine for libsodium's AEADs. A partial overlap
// would make the cipher read bytes it has already overwritten.
bool overlap_allowed(const std::uint8_t* in, std::size_t in_size, const std::uint8_t* out,
                     std::size_t out_size) {
  if (in == out || in_size == 0 || out_size == 0) return true;
  const std::less<const std::uint8_t*> before;
  return !before(in, out + out_size) || !before(out, in + in_size);
}

unsigned long long ull(std::size_t n) { return static_cast<unsigned long long>(n); }

}  // namespace

std::string_view to_string(AeadAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case AeadAlgorithm::chacha20_poly1305: return "ChaCha20-Poly1305";
    case AeadAlgorithm::aes256_gcm: return "AES-256-GCM";
    case AeadAlgorithm::null_for_testing: return "null (testing only)";
  }
  return "unknown";
}

bool aead_available(AeadAlgorithm algorithm) {
  switch (algorithm) {
    case AeadAlgorithm::chacha20_poly1305:
    case AeadAlgorithm::null_for_testing:
      return true;
    case AeadAlgorithm::aes256_gcm:
      ensure_sodium_initialized();  // CPU feature detection happens in sodium_init()
      return crypto_aead_aes256gcm_is_available() == 1;
  }
  return false;
}

std::array<std::uint8_t, kAeadNonceSize> packet_nonce(std::uint64_t packet_number) noexcept {
  std::array<std::uint8_t, kAeadNonceSize> nonce{};
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[4 + i] = static_cast<std::uint8_t>(packet_number >> (8 * i));
  }
  return nonce;
}

Result<PacketKey> PacketKey::create(const SecretKey& key, AeadAlgorithm algorithm) {
  ensure_sodium_initialized();
  if (!aead_available(algorithm)) return errc::invalid_argument;
  PacketKey packet_key(algorithm);
  switch (algorithm) {
    case AeadAlgorithm::chacha20_poly1305:
      packet_key.key_ = key.clone();
      break;
    case AeadAlgorithm::aes256_gcm:
      if (crypto_aead_aes256gcm_beforenm(&packet_key.aes_state_, key.data()) != 0) {
        return errc::invalid_argument;
      }
      break;
    case AeadAlgorithm::null_for_testing:
      break;
  }
  return packet_key;
}

PacketKey::PacketKey(PacketKey&& other) noexcept
    : algorithm_(other.algorithm_), key_(std::move(other.key_)), aes_state_(other.aes_state_) {
  other.wipe();
}

PacketKey& PacketKey::operator=(PacketKey&& other) noexcept {
  if (this != &other) {
    algorithm_ = other.algorithm_;
    key_ = std::move(other.key_);
    aes_state_ = other.aes_state_;
    other.wipe();
  }
  return *this;
}

PacketKey::~PacketKey() { wipe(); }

void PacketKey::wipe() noexcept {
  key_.wipe();
  sodium_memzero(&aes_state_, sizeof aes_state_);
}

Result<std::size_t> PacketKey::seal(std::uint64_t packet_number, std::span<const std::uint8_t> ad,
                                    std::span<const std::uint8_t> plaintext,
                                    std::span<std::uint8_t> out) const {
  const auto nonce = packet_nonce(packet_number);
  return seal_raw(nonce.data(), ad, plaintext, out);
}

Result<std::size_t> PacketKey::open(std::uint64_t packet_number, std::span<const std::uint8_t> ad,
                                    std::span<const std::uint8_t> ciphertext,
                                    std::span<std::uint8_t> out) const {
  const auto nonce = packet_nonce(packet_number);
  return open_raw(nonce.data(), ad, ciphertext, out);
}

Result<std::size_t> PacketKey::seal_with_nonce_for_testing(
    std::span<const std::uint8_t, kAeadNonceSize> nonce, std::span<const std::uint8_t> ad,
    std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) const {
  return seal_raw(nonce.data(), ad, plaintext, out);
}

Result<std::size_t> PacketKey::open_with_nonce_for_testing(
    std::span<const std::uint8_t, kAeadNonceSize> nonce, std::span<const std::uint8_t> ad,
    std::span<const std::uint8_t> ciphertext, std::span<std::uint8_t> out) const {
  return open_raw(nonce.data(), ad, ciphertext, out);
}

Result<std::size_t> PacketKey::seal_raw(const std::uint8_t* nonce, std::span<const std::uint8_t> ad,
                                        std::span<const std::uint8_t> plaintext,
                                        std::span<std::uint8_t> out) const {
  const std::size_t n = plaintext.size();
  if (out.size() < kAeadTagSize || out.size() - kAeadTagSize < n) return errc::buffer_too_small;
  if (!overlap_allowed(plaintext.data(), n, out.data(), n + kAeadTagSize)) {
    return errc::invalid_argument;
  }
  std::uint8_t* tag = out.data() + n;
  int rc = 0;
  switch (algorithm_) {
    case AeadAlgorithm::chacha20_poly1305:
      rc = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
          out.data(), tag, nullptr, plaintext.data(), ull(n), ad.data(), ull(ad.size()), nullptr,
          nonce, key_.data());
      break;
    case AeadAlgorithm::aes256_gcm:
      rc = crypto_aead_aes256gcm_encrypt_detached_afternm(out.data(), tag, nullptr,
                                                          plaintext.data(), ull(n), ad.data(),
                                                          ull(ad.size()), nullptr, nonce,
                                                          &aes_state_);
      break;
    case AeadAlgorithm::null_for_testing:
      if (n != 0 && out.data() != plaintext.data()) std::memmove(out.data(), plaintext.data(), n);
      std::memset(tag, 0, kAeadTagSize);
      break;
  }
  if (rc != 0) return errc::invalid_argument;  // only on absurd lengths (> 256 GiB)
  return n + kAeadTagSize;
}

Result<std::size_t> PacketKey::open_raw(const std::uint8_t* nonce, std::span<const std::uint8_t> ad,
                                        std::span<const std::uint8_t> ciphertext,
                                        std::span<std::uint8_t> out) const {
  if (ciphertext.size() < kAeadTagSize) return errc::decrypt_failed;
  const std::size_t n = ciphertext.size() - kAeadTagSize;
  if (out.size() < n) return errc::buffer_too_small;
  if (!overlap_allowed(ciphertext.data(), ciphertext.size(), out.data(), n)) {
    return errc::invalid_argument;
  }
  const std::uint8_t* tag = ciphertext.data() + n;
  int rc = -1;
  switch (algorithm_) {
    case AeadAlgorithm::chacha20_poly1305:
      rc = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
          out.data(), nullptr, ciphertext.data(), ull(n), tag, ad.data(), ull(ad.size()), nonce,
          key_.data());
      break;
    case AeadAlgorithm::aes256_gcm:
      rc = crypto_aead_aes256gcm_decrypt_detached_afternm(out.data(), nullptr, ciphertext.data(),
                                                          ull(n), tag, ad.data(), ull(ad.size()),
                                                          nonce, &aes_state_);
      break;
    case AeadAlgorithm::null_for_testing:
      rc = sodium_is_zero(tag, kAeadTagSize) == 1 ? 0 : -1;
      if (rc == 0 && n != 0 && out.data() != ciphertext.data()) {
        std::memmove(out.data(), ciphertext.data(), n);
      }
      break;
  }
  if (rc != 0) return errc::decrypt_failed;
  return n;
}

bool PacketKey::verify(std::uint64_t packet_number, std::span<const std::uint8_t> ad,
                       std::span<const std::uint8_t> ciphertext) const {
  if (ciphertext.size() < kAeadTagSize) return false;
  const auto nonce = packet_nonce(packet_number);
  const std::size_t n = ciphertext.size() - kAeadTagSize;
  const std::uint8_t* tag = ciphertext.data() + n;
  // With m == NULL libsodium computes and checks the tag without decrypting or writing.
  switch (algorithm_) {
    case AeadAlgorithm::chacha20_poly1305:
      return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                 nullptr, nullptr, ciphertext.data(), ull(n), tag, ad.data(), ull(ad.size()),
                 nonce.data(), key_.data()) == 0;
    case AeadAlgorithm::aes256_gcm:
      return crypto_aead_aes256gcm_decrypt_detached_afternm(nullptr, nullptr, ciphertext.data(),
                                                            ull(n), tag, ad.data(),
                                                            ull(ad.size()), nonce.data(),
                                                            &aes_state_) == 0;
    case AeadAlgorithm::null_for_testing:
      return sodium_is_zero(tag, kAeadTagSize) == 1;
  }
  return false;
}

}  // namespace srudp::crypto
