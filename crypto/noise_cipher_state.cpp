#include "crypto/noise_cipher_state.hpp"

#include <sodium.h>

#include <array>
#include <cstring>

#include "common/sodium.hpp"

namespace srudp::crypto {
namespace {

static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kKeySize);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == CipherState::kTagSize);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12);

using Nonce = std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES>;

Nonce make_nonce(std::uint64_t n) {
  Nonce nonce{};  // bytes 0..3 stay zero
  for (std::size_t i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
  return nonce;
}

// In-place operation is supported by libsodium; partial overlap is not.
bool partially_overlaps(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.empty() || b.empty() || a.data() == b.data()) return false;
  const auto* a_end = a.data() + a.size();
  const auto* b_end = b.data() + b.size();
  return a.data() < b_end && b.data() < a_end;
}

}  // namespace

CipherState CipherState::clone() const {
  CipherState copy;
  copy.key_ = key_.clone();
  copy.has_key_ = has_key_;
  copy.nonce_ = nonce_;
  return copy;
}

void CipherState::initialize_key(const SecretKey& key) {
  key_ = key.clone();
  has_key_ = true;
  nonce_ = 0;
}

void CipherState::clear() {
  key_.wipe();
  has_key_ = false;
  nonce_ = 0;
}

Result<std::size_t> CipherState::encrypt_with_ad(std::span<const std::uint8_t> ad,
                                                 std::span<const std::uint8_t> plaintext,
                                                 std::span<std::uint8_t> out) {
  if (!has_key_) {
    if (out.size() < plaintext.size()) return errc::buffer_too_small;
    if (!plaintext.empty()) std::memmove(out.data(), plaintext.data(), plaintext.size());
    return plaintext.size();
  }
  if (nonce_ == kMaxNonce) return errc::key_limit_reached;
  if (out.size() < plaintext.size() + kTagSize) return errc::buffer_too_small;
  if (partially_overlaps(plaintext, out)) return errc::invalid_argument;
  ensure_sodium_initialized();
  const Nonce nonce = make_nonce(nonce_);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &written, plaintext.data(),
                                            plaintext.size(), ad.data(), ad.size(), nullptr,
                                            nonce.data(), key_.data());
  ++nonce_;
  return static_cast<std::size_t>(written);
}

Result<std::size_t> CipherState::decrypt_with_ad(std::span<const std::uint8_t> ad,
                                                 std::span<const std::uint8_t> ciphertext,
                                                 std::span<std::uint8_t> out) {
  if (!has_key_) {
    if (out.size() < ciphertext.size()) return errc::buffer_too_small;
    if (!ciphertext.empty()) std::memmove(out.data(), ciphertext.data(), ciphertext.size());
    return ciphertext.size();
  }
  if (nonce_ == kMaxNonce) return errc::key_limit_reached;
  if (ciphertext.size() < kTagSize) return errc::decrypt_failed;
  if (out.size() < ciphertext.size() - kTagSize) return errc::buffer_too_small;
  if (partially_overlaps(ciphertext, out)) return errc::invalid_argument;
  ensure_sodium_initialized();
  const Nonce nonce = make_nonce(nonce_);
  unsigned long long written = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, ciphertext.data(),
                                                ciphertext.size(), ad.data(), ad.size(),
                                                nonce.data(), key_.data()) != 0) {
    return errc::decrypt_failed;
  }
  ++nonce_;
  return static_cast<std::size_t>(written);
}

std::error_code CipherState::rekey() {
  if (!has_key_) return errc::invalid_state;
  ensure_sodium_initialized();
  const Nonce nonce = make_nonce(kMaxNonce);
  const std::array<std::uint8_t, kKeySize> zeros{};
  Secret<kKeySize + kTagSize> encrypted;
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(encrypted.data(), &written, zeros.data(), zeros.size(),
                                            nullptr, 0, nullptr, nonce.data(), key_.data());
  key_ = SecretKey(encrypted.bytes().first<kKeySize>());
  return {};
}

}  // namespace srudp::crypto
