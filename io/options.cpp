// The key helpers declared in srudp/options.hpp.
#include "srudp/options.hpp"

#include "common/random.hpp"
#include "io/identity_file.hpp"
#include "crypto/keypair.hpp"

namespace srudp {

std::optional<Key> key_from_hex(std::string_view hex) {
  // Public keys and secrets share the format: 64 hex digits.
  auto key = io::public_key_from_hex(hex);
  if (!key) return std::nullopt;
  return key->bytes;
}

std::string to_hex(const Key& key) { return io::to_hex(crypto::PublicKey{key}); }

Key random_key() {
  SystemRandom rng;
  Key key{};
  rng.fill(key);
  return key;
}

Key public_key_of(const Key& secret) {
  return crypto::KeyPair::from_secret(crypto::SecretKey(std::span<const std::uint8_t, 32>(secret))).public_key.bytes;
}

}  // namespace srudp
