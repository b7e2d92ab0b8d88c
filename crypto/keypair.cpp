#include "crypto/keypair.hpp"

#include <sodium.h>

#include "common/sodium.hpp"

namespace srudp::crypto {

static_assert(crypto_scalarmult_BYTES == kKeySize);
static_assert(crypto_scalarmult_SCALARBYTES == kKeySize);

KeyPair KeyPair::generate(RandomSource& rng) {
  SecretKey secret;
  rng.fill(secret.bytes());
  return from_secret(std::move(secret));
}

KeyPair KeyPair::from_secret(SecretKey secret) {
  ensure_sodium_initialized();
  KeyPair pair;
  pair.secret = std::move(secret);
  // crypto_scalarmult_base only fails for a scalar that clamps to zero, which clamping rules out.
  (void)crypto_scalarmult_base(pair.public_key.bytes.data(), pair.secret.data());
  return pair;
}

KeyPair KeyPair::clone() const {
  KeyPair copy;
  copy.secret = secret.clone();
  copy.public_key = public_key;
  return copy;
}

Result<Secret<kKeySize>> x25519(const SecretKey& secret, const PublicKey& peer_public) {
  ensure_sodium_initialized();
  Secret<kKeySize> shared;
  // libsodium returns -1 when the result is all zeros (peer key of small order); check the bytes
  // as well so the rule does not depend on the library version.
  const int rc = crypto_scalarmult(shared.data(), secret.data(), peer_public.bytes.data());
  if (rc != 0 || sodium_is_zero(shared.data(), shared.size()) == 1) {
    return errc::handshake_failed;
  }
  return shared;
}

}  // namespace srudp::crypto
