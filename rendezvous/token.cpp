#include "rendezvous/token.hpp"

#include <array>

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

}  // namespace srudp::rendezvous
