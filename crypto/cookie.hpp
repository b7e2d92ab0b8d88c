// Denial-of-service defence for the handshake, in the style of WireGuard's MAC1/MAC2 cookies.
//
// Every Initiation ends with mac1 and mac2 (16 bytes each, keyed BLAKE2b):
//  - mac1 = MAC(mac1_key, packet up to mac1). mac1_key comes from the pre-shared key when there is
//    one, so a responder drops datagrams from anyone who does not know it after one hash and no
//    Diffie-Hellman. Without a PSK the key is a fixed label and mac1 is only a checksum.
//  - mac2 = MAC(cookie, packet up to mac2), or zeros. A responder under load answers an Initiation
//    without a valid mac2 with a CookieReply and keeps no state. The cookie is MAC(secret, source
//    address) with a secret that rotates every two minutes, so only an initiator that can receive at
//    its source address can produce mac2: spoofed floods cost the responder no memory.
// The CookieReply carries the cookie encrypted with XChaCha20-Poly1305 under a key derived like
// mac1_key, with the Initiation's mac1 as associated data, so only the initiator that sent that very
// Initiation can use it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "common/address.hpp"
#include "common/random.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "crypto/secret.hpp"

namespace srudp::crypto {

inline constexpr std::size_t kMacLength = 16;
using Mac = std::array<std::uint8_t, kMacLength>;
using Cookie = std::array<std::uint8_t, kMacLength>;

inline constexpr Duration kCookieSecretLifetime = std::chrono::seconds(120);

// The keys both sides derive from their shared configuration (the PSK, if any).
class MacKeys {
 public:
  explicit MacKeys(const PresharedKey* psk);
  Mac mac1(std::span<const std::uint8_t> covered) const;
  const SecretKey& cookie_key() const { return cookie_key_; }

 private:
  SecretKey mac1_key_;
  SecretKey cookie_key_;
};

// Keyed BLAKE2b-128.
Mac keyed_mac(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);

// Both MACs in constant time.
bool mac_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// Responder side: makes cookies for source addresses and checks mac2.
class CookieIssuer {
 public:
  CookieIssuer(const MacKeys& keys, RandomSource& rng);

  // mac2 of an Initiation from `source` verifies under the current or previous secret.
  bool mac2_valid(Instant now, const SocketAddress& source, std::span<const std::uint8_t> covered,
                  std::span<const std::uint8_t> mac2);

  // The encrypted cookie for a CookieReply: nonce (24) || ciphertext (32).
  std::array<std::uint8_t, 24 + 32> seal_cookie(Instant now, const SocketAddress& source,
                                                std::span<const std::uint8_t> initiation_mac1);

 private:
  void rotate_if_due(Instant now);
  Cookie cookie_for(const SecretKey& secret, const SocketAddress& source) const;

  const MacKeys& keys_;
  RandomSource& rng_;
  SecretKey current_;
  SecretKey previous_;
  std::optional<Instant> rotated_at_;
};

// Initiator side: remembers the cookie from a CookieReply and produces mac2.
class CookieJar {
 public:
  // Accepts a CookieReply's encrypted cookie if it decrypts under our last Initiation's mac1.
  std::error_code accept_reply(Instant now, const MacKeys& keys,
                               std::span<const std::uint8_t> sealed_cookie,
                               std::span<const std::uint8_t> our_last_mac1);
  // mac2 for an Initiation (zeros when we hold no fresh cookie).
  Mac mac2(Instant now, std::span<const std::uint8_t> covered) const;
  bool has_cookie(Instant now) const;

 private:
  std::optional<Cookie> cookie_;
  Instant received_at_{};
};

}  // namespace srudp::crypto
