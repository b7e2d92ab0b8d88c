#include "transport/packet_aead_choice.hpp"

#include <algorithm>

#include "wire/transport_params.hpp"

namespace srudp::transport {

std::vector<std::uint32_t> offered_packet_aeads(std::optional<crypto::AeadAlgorithm> configured) {
  using crypto::AeadAlgorithm;
  if (!configured) {
    std::vector<std::uint32_t> offer;
    if (crypto::aead_available(AeadAlgorithm::aes256_gcm)) offer.push_back(wire::kPacketAeadAes256Gcm);
    offer.push_back(wire::kPacketAeadChaCha20Poly1305);
    return offer;
  }
  if (*configured == AeadAlgorithm::aes256_gcm) return {wire::kPacketAeadAes256Gcm};
  return {wire::kPacketAeadChaCha20Poly1305};
}

Result<crypto::AeadAlgorithm> choose_packet_aead(std::optional<crypto::AeadAlgorithm> configured,
                                                 std::span<const std::uint32_t> peer_offer) {
  using crypto::AeadAlgorithm;
  if (configured == AeadAlgorithm::null_for_testing) return AeadAlgorithm::null_for_testing;
  const std::vector<std::uint32_t> ours = offered_packet_aeads(configured);
  const auto both = [&](std::uint32_t code) {
    return std::find(ours.begin(), ours.end(), code) != ours.end() &&
           std::find(peer_offer.begin(), peer_offer.end(), code) != peer_offer.end();
  };
  if (both(wire::kPacketAeadAes256Gcm)) return AeadAlgorithm::aes256_gcm;
  if (both(wire::kPacketAeadChaCha20Poly1305)) return AeadAlgorithm::chacha20_poly1305;
  return errc::handshake_failed;
}

}  // namespace srudp::transport
