#include "crypto/noise_symmetric_state.hpp"

#include <sodium.h>

#include <algorithm>

#include "common/sodium.hpp"

namespace srudp::crypto {

SymmetricState SymmetricState::clone() const {
  SymmetricState copy;
  copy.chaining_key_ = chaining_key_.clone();
  copy.hash_ = hash_.clone();
  copy.cipher_ = cipher_.clone();
  return copy;
}

void SymmetricState::initialize(std::string_view protocol_name) {
  ensure_sodium_initialized();
  hash_.wipe();
  if (protocol_name.size() <= kNoiseHashLen) {
    std::copy(protocol_name.begin(), protocol_name.end(), hash_.bytes().begin());
  } else {
    crypto_generichash(hash_.data(), hash_.size(),
                       reinterpret_cast<const unsigned char*>(protocol_name.data()),
                       protocol_name.size(), nullptr, 0);
  }
  chaining_key_ = hash_.clone();
  cipher_.clear();
}

void SymmetricState::mix_key(std::span<const std::uint8_t> input_key_material) {
  HkdfTwoOutputs out = noise_hkdf2(chaining_key_.bytes(), input_key_material);
  chaining_key_ = std::move(out.first);
  cipher_.initialize_key(truncate_to_key(out.second));
}

void SymmetricState::mix_hash(std::span<const std::uint8_t> data) {
  ensure_sodium_initialized();
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kNoiseHashLen);
  crypto_generichash_update(&state, hash_.data(), hash_.size());
  crypto_generichash_update(&state, data.data(), data.size());
  crypto_generichash_final(&state, hash_.data(), hash_.size());
}

void SymmetricState::mix_key_and_hash(std::span<const std::uint8_t> input_key_material) {
  HkdfThreeOutputs out = noise_hkdf3(chaining_key_.bytes(), input_key_material);
  chaining_key_ = std::move(out.first);
  mix_hash(out.second.bytes());
  cipher_.initialize_key(truncate_to_key(out.third));
}

Result<std::size_t> SymmetricState::encrypt_and_hash(std::span<const std::uint8_t> plaintext,
                                                     std::span<std::uint8_t> out) {
  Result<std::size_t> written = cipher_.encrypt_with_ad(hash_.bytes(), plaintext, out);
  if (!written) return written;
  mix_hash(out.first(*written));
  return written;
}

Result<std::size_t> SymmetricState::decrypt_and_hash(std::span<const std::uint8_t> ciphertext,
                                                     std::span<std::uint8_t> out) {
  // h must absorb the ciphertext, but `out` may alias it (in-place decryption): hash a copy of h
  // with the ciphertext before decrypting, and commit it only if the decryption succeeds.
  ensure_sodium_initialized();
  HashOutput next_hash;
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kNoiseHashLen);
  crypto_generichash_update(&state, hash_.data(), hash_.size());
  crypto_generichash_update(&state, ciphertext.data(), ciphertext.size());
  crypto_generichash_final(&state, next_hash.data(), next_hash.size());

  Result<std::size_t> written = cipher_.decrypt_with_ad(hash_.bytes(), ciphertext, out);
  if (!written) return written;
  hash_ = std::move(next_hash);
  return written;
}

SymmetricState::SplitKeys SymmetricState::split() const {
  HkdfTwoOutputs out = noise_hkdf2(chaining_key_.bytes(), {});
  return SplitKeys{truncate_to_key(out.first), truncate_to_key(out.second)};
}

void SymmetricState::wipe_keys() {
  chaining_key_.wipe();
  cipher_.clear();
}

}  // namespace srudp::crypto
