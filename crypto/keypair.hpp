// X25519 key pairs and the Diffie-Hellman function used by the Noise handshake.
#pragma once

#include "common/random.hpp"
#include "common/result.hpp"
#include "crypto/secret.hpp"

namespace srudp::crypto {

// An X25519 key pair. The secret is stored as given (libsodium clamps it on every use), so a key
// pair built from a test vector's private key reproduces that vector exactly.
struct KeyPair {
  SecretKey secret;
  PublicKey public_key;

  // A fresh key pair from 32 random bytes of `rng`.
  static KeyPair generate(RandomSource& rng);
  // The key pair whose public key is derived from `secret` (crypto_scalarmult_base).
  static KeyPair from_secret(SecretKey secret);
  // Explicit copy: secrets are never duplicated by accident.
  KeyPair clone() const;
};

// X25519(secret, public). A peer that sends a low-order point forces an all-zero shared secret,
// which would make the handshake keys predictable; that is rejected with errc::handshake_failed.
Result<Secret<kKeySize>> x25519(const SecretKey& secret, const PublicKey& peer_public);

}  // namespace srudp::crypto
