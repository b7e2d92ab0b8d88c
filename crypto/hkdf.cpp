#include "crypto/hkdf.hpp"

#include <sodium.h>

#include <array>
#include <initializer_list>

#include "common/sodium.hpp"

namespace srudp::crypto {
namespace {

static_assert(crypto_generichash_BYTES_MAX == kNoiseHashLen);

// HMAC-BLAKE2b over the concatenation of `parts`, so HKDF can MAC "output || counter" without
// building the concatenation in another buffer.
HashOutput hmac_parts(std::span<const std::uint8_t> key,
                      std::initializer_list<std::span<const std::uint8_t>> parts) {
  ensure_sodium_initialized();
  // K0: the key zero-padded to the block size (hashed first when longer than a block).
  Secret<kNoiseBlockLen> padded_key;
  if (key.size() > kNoiseBlockLen) {
    crypto_generichash(padded_key.data(), kNoiseHashLen, key.data(), key.size(), nullptr, 0);
  } else {
    std::copy(key.begin(), key.end(), padded_key.bytes().begin());
  }

  Secret<kNoiseBlockLen> pad;
  crypto_generichash_state state;
  HashOutput inner;
  for (std::size_t i = 0; i < kNoiseBlockLen; ++i) pad.data()[i] = padded_key.data()[i] ^ 0x36;
  crypto_generichash_init(&state, nullptr, 0, kNoiseHashLen);
  crypto_generichash_update(&state, pad.data(), pad.size());
  for (const auto part : parts) crypto_generichash_update(&state, part.data(), part.size());
  crypto_generichash_final(&state, inner.data(), inner.size());

  HashOutput outer;
  for (std::size_t i = 0; i < kNoiseBlockLen; ++i) pad.data()[i] = padded_key.data()[i] ^ 0x5c;
  crypto_generichash_init(&state, nullptr, 0, kNoiseHashLen);
  crypto_generichash_update(&state, pad.data(), pad.size());
  crypto_generichash_update(&state, inner.data(), inner.size());
  crypto_generichash_final(&state, outer.data(), outer.size());
  sodium_memzero(&state, sizeof state);  // the hash state holds key-derived material
  return outer;
}

constexpr std::array<std::uint8_t, 1> kCounter1{0x01};
constexpr std::array<std::uint8_t, 1> kCounter2{0x02};
constexpr std::array<std::uint8_t, 1> kCounter3{0x03};

}  // namespace

HashOutput hmac_blake2b(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  return hmac_parts(key, {data});
}

HkdfTwoOutputs noise_hkdf2(std::span<const std::uint8_t, kNoiseHashLen> chaining_key,
                           std::span<const std::uint8_t> input_key_material) {
  const HashOutput temp_key = hmac_parts(chaining_key, {input_key_material});
  HkdfTwoOutputs out;
  out.first = hmac_parts(temp_key.bytes(), {kCounter1});
  out.second = hmac_parts(temp_key.bytes(), {out.first.bytes(), kCounter2});
  return out;  // temp_key wipes itself on destruction
}

HkdfThreeOutputs noise_hkdf3(std::span<const std::uint8_t, kNoiseHashLen> chaining_key,
                             std::span<const std::uint8_t> input_key_material) {
  const HashOutput temp_key = hmac_parts(chaining_key, {input_key_material});
  HkdfThreeOutputs out;
  out.first = hmac_parts(temp_key.bytes(), {kCounter1});
  out.second = hmac_parts(temp_key.bytes(), {out.first.bytes(), kCounter2});
  out.third = hmac_parts(temp_key.bytes(), {out.second.bytes(), kCounter3});
  return out;
}

SecretKey truncate_to_key(const HashOutput& output) {
  return SecretKey(output.bytes().first<kKeySize>());
}

}  // namespace srudp::crypto
