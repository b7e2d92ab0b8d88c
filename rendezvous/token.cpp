#include "rendezvous/token.hpp"

#include <sodium.h>

#include <array>

#include "common/sodium.hpp"

namespace srudp::rendezvous {

std::string base32_encode(std::span<const std::uint8_t> bytes) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const std::uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string make_token(RandomSource& random) {
  std::array<std::uint8_t, kTokenRandomBytes> bytes{};
  random.fill(bytes);
  return base32_encode(bytes);
}

namespace {

constexpr std::string_view kLookupLabel = "srudp/1 rdv lookup id";
constexpr std::string_view kPskLabel = "srudp/1 rdv handshake psk";
constexpr std::string_view kDialerCheckLabel = "srudp/1 rdv dialer check key";
constexpr std::string_view kAcceptorCheckLabel = "srudp/1 rdv acceptor check key";

// BLAKE2b of the token, keyed with `label`.
void keyed_hash(std::string_view label, std::string_view token, std::span<std::uint8_t> out) {
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                     reinterpret_cast<const unsigned char*>(label.data()), label.size());
}

}  // namespace

Result<TokenSecrets> derive_token_secrets(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenSize) return errc::invalid_argument;
  ensure_sodium_initialized();
  TokenSecrets out;
  std::array<std::uint8_t, kTokenRandomBytes> lookup{};
  keyed_hash(kLookupLabel, token, lookup);
  out.lookup_id = base32_encode(lookup);
  keyed_hash(kPskLabel, token, out.psk);
  keyed_hash(kDialerCheckLabel, token, out.dialer_check_key);
  keyed_hash(kAcceptorCheckLabel, token, out.acceptor_check_key);
  sodium_memzero(lookup.data(), lookup.size());
  return out;
}

}  // namespace srudp::rendezvous
