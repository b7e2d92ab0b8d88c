// rdv tokens. The server treats a token as an opaque string; `rdv token` makes fresh ones with
// 160 bits of randomness, written in lowercase RFC 4648 base32 without padding (32 characters:
// safe in a URL path, a header and a shell).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/random.hpp"

namespace srudp::rendezvous {

inline constexpr std::size_t kTokenRandomBytes = 20;

std::string base32_encode(std::span<const std::uint8_t> bytes);
std::string make_token(RandomSource& random);

}  // namespace srudp::rendezvous
