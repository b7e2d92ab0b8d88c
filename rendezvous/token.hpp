// rdv tokens. The server treats a token as an opaque string; `rdv token` makes fresh ones with
// 160 bits of randomness, written in lowercase RFC 4648 base32 without padding (32 characters:
// safe in a URL path, a header and a shell).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/random.hpp"
#include "common/result.hpp"

namespace srudp::rendezvous {

inline constexpr std::size_t kTokenRandomBytes = 20;

std::string base32_encode(std::span<const std::uint8_t> bytes);
std::string make_token(RandomSource& random);

// What a token gives the two peers: the lookup id they send the rdv server in its place, and the
// handshake PSK the server never sees. Each is a BLAKE2b hash of the token keyed with its own
// label (docs/RDV.md), so the lookup id reveals nothing about the PSK but what the token's own
// entropy allows: a short or guessable token lets the server operator, who sees the lookup id,
// guess the PSK offline. Tokens from make_token carry 160 bits.
struct TokenSecrets {
  std::string lookup_id;  // 32 base32 characters (160 bits)
  std::array<std::uint8_t, 32> psk{};
  // Keys of the hole-punching checks (rendezvous/path_check.hpp), one per sender role, so that a
  // check reflected back at its sender does not authenticate.
  std::array<std::uint8_t, 32> dialer_check_key{};
  std::array<std::uint8_t, 32> acceptor_check_key{};
};
inline constexpr std::size_t kMaxTokenSize = 256;
// errc::invalid_argument for an empty token or one over kMaxTokenSize bytes.
Result<TokenSecrets> derive_token_secrets(std::string_view token);

}  // namespace srudp::rendezvous
