// Key material that wipes itself. Every secret in srudp lives in one of these types.
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace srudp::crypto {

inline constexpr std::size_t kKeySize = 32;

// N bytes of secret material, zeroed with sodium_memzero on destruction and on move-from.
// Copying is explicit (clone()) so secrets are not duplicated by accident.
template <std::size_t N>
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::span<const std::uint8_t, N> bytes) {
    std::copy(bytes.begin(), bytes.end(), bytes_.begin());
  }
  ~Secret() { wipe(); }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : bytes_(other.bytes_) { other.wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      other.wipe();
    }
    return *this;
  }

  Secret clone() const { return Secret(std::span<const std::uint8_t, N>(bytes_)); }
  void wipe() noexcept { sodium_memzero(bytes_.data(), bytes_.size()); }

  std::span<std::uint8_t, N> bytes() noexcept { return bytes_; }
  std::span<const std::uint8_t, N> bytes() const noexcept { return bytes_; }
  std::uint8_t* data() noexcept { return bytes_.data(); }
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  static constexpr std::size_t size() noexcept { return N; }

  // Constant-time comparison.
  friend bool operator==(const Secret& a, const Secret& b) noexcept {
    return sodium_memcmp(a.bytes_.data(), b.bytes_.data(), N) == 0;
  }

 private:
  std::array<std::uint8_t, N> bytes_{};
};

using SecretKey = Secret<kKeySize>;       // X25519 private key, symmetric keys, chaining keys
using PresharedKey = Secret<kKeySize>;    // Noise PSK (the rendezvous layer derives it from a token)

// An X25519 public key. Not secret; compared in constant time anyway.
struct PublicKey {
  std::array<std::uint8_t, kKeySize> bytes{};
  friend bool operator==(const PublicKey& a, const PublicKey& b) noexcept {
    return sodium_memcmp(a.bytes.data(), b.bytes.data(), kKeySize) == 0;
  }
};

}  // namespace srudp::crypto
