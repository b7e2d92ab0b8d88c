#include "crypto/cookie.hpp"

#include <sodium.h>

#include <cstring>
#include <string_view>

#include "common/sodium.hpp"

namespace srudp::crypto {
namespace {

constexpr std::size_t kSealedCookieSize = 24 + 32;

SecretKey derive_key(std::string_view label, const PresharedKey* psk) {
  ensure_sodium_initialized();
  SecretKey out;
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, out.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(label.data()), label.size());
  if (psk != nullptr) crypto_generichash_update(&st, psk->data(), psk->size());
  crypto_generichash_final(&st, out.data(), out.size());
  sodium_memzero(&st, sizeof st);
  return out;
}

}  // namespace

Mac keyed_mac(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  Mac out{};
  crypto_generichash(out.data(), out.size(), data.data(), data.size(), key.data(), key.size());
  return out;
}

bool mac_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

MacKeys::MacKeys(const PresharedKey* psk)
    : mac1_key_(derive_key("srudp/1 mac1", psk)), cookie_key_(derive_key("srudp/1 cookie", psk)) {}

Mac MacKeys::mac1(std::span<const std::uint8_t> covered) const {
  return keyed_mac(mac1_key_.bytes(), covered);
}

CookieIssuer::CookieIssuer(const MacKeys& keys, RandomSource& rng) : keys_(keys), rng_(rng) {}

void CookieIssuer::rotate_if_due(Instant now) {
  if (rotated_at_ && now - *rotated_at_ < kCookieSecretLifetime) return;
  previous_ = std::move(current_);
  rng_.fill(current_.bytes());
  if (!rotated_at_) rng_.fill(previous_.bytes());  // no previous secret yet: make it useless
  rotated_at_ = now;
}

Cookie CookieIssuer::cookie_for(const SecretKey& secret, const SocketAddress& source) const {
  const auto addr = source.bytes();
  return keyed_mac(secret.bytes(), addr);
}

bool CookieIssuer::mac2_valid(Instant now, const SocketAddress& source,
                              std::span<const std::uint8_t> covered,
                              std::span<const std::uint8_t> mac2) {
  rotate_if_due(now);
  for (const SecretKey* secret : {&current_, &previous_}) {
    const Cookie cookie = cookie_for(*secret, source);
    if (mac_equal(keyed_mac(cookie, covered), mac2)) return true;
  }
  return false;
}

std::array<std::uint8_t, kSealedCookieSize> CookieIssuer::seal_cookie(
    Instant now, const SocketAddress& source, std::span<const std::uint8_t> initiation_mac1) {
  rotate_if_due(now);
  const Cookie cookie = cookie_for(current_, source);
  std::array<std::uint8_t, kSealedCookieSize> out{};
  rng_.fill(std::span(out).first(24));
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + 24, &written, cookie.data(), cookie.size(),
                                             initiation_mac1.data(), initiation_mac1.size(),
                                             nullptr, out.data(), keys_.cookie_key().data());
  return out;
}

std::error_code CookieJar::accept_reply(Instant now, const MacKeys& keys,
                                        std::span<const std::uint8_t> sealed_cookie,
                                        std::span<const std::uint8_t> our_last_mac1) {
  if (sealed_cookie.size() != kSealedCookieSize) return errc::malformed;
  Cookie cookie{};
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          cookie.data(), &written, nullptr, sealed_cookie.data() + 24, sealed_cookie.size() - 24,
          our_last_mac1.data(), our_last_mac1.size(), sealed_cookie.data(),
          keys.cookie_key().data()) != 0) {
    return errc::decrypt_failed;
  }
  cookie_ = cookie;
  received_at_ = now;
  return {};
}

bool CookieJar::has_cookie(Instant now) const {
  // Keep a little margin below the issuer's rotation so we never send a cookie it has forgotten.
  return cookie_ && now - received_at_ < kCookieSecretLifetime - std::chrono::seconds(10);
}

Mac CookieJar::mac2(Instant now, std::span<const std::uint8_t> covered) const {
  if (!has_cookie(now)) return Mac{};
  return keyed_mac(*cookie_, covered);
}

}  // namespace srudp::crypto
