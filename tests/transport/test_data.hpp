// What the transport's simulator tests share: deterministic payloads and their SHA-256, a test
// PSK, and a link with nothing but a delay.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/random.hpp"
#include "common/sodium.hpp"
#include "common/time.hpp"
#include "crypto/secret.hpp"
#include "sim/network.hpp"

namespace srudp::transport::test {

// `n` bytes that depend only on `seed`.
inline std::vector<std::uint8_t> pattern(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint8_t> v(n);
  SeededRandom r(seed);
  r.fill(v);
  return v;
}

inline std::array<std::uint8_t, crypto_hash_sha256_BYTES> sha256(std::span<const std::uint8_t> data) {
  ensure_sodium_initialized();
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> h{};
  crypto_hash_sha256(h.data(), data.data(), data.size());
  return h;
}

// A PSK of 32 bytes `fill`.
inline crypto::PresharedKey psk_from(std::uint8_t fill) {
  std::array<std::uint8_t, 32> b{};
  b.fill(fill);
  return crypto::PresharedKey(std::span<const std::uint8_t, 32>(b));
}

inline sim::LinkConfig delay_link(Duration one_way) {
  sim::LinkConfig l;
  l.delay = one_way;
  return l;
}

}  // namespace srudp::transport::test
