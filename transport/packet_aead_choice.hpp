// Which AEAD protects a connection's data packets. Each side announces the ones it can use in its
// transport parameters (`packet_aeads`, authenticated by the handshake), and both sides pick the
// same one from the two lists: AES-256-GCM when both announce it, else ChaCha20-Poly1305. A side
// announces AES-256-GCM only where libsodium has hardware AES for it, and every srudp build can do
// ChaCha20-Poly1305, so two default peers always agree, and on the faster cipher when both can.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "crypto/aead.hpp"

namespace srudp::transport {

// What this side announces. `configured` empty: AES-256-GCM (if this CPU has hardware AES) and
// ChaCha20-Poly1305. Set: that one only. null_for_testing announces ChaCha20-Poly1305 (it never
// goes on the wire) and is chosen regardless of the peer: both test sides must configure it.
std::vector<std::uint32_t> offered_packet_aeads(std::optional<crypto::AeadAlgorithm> configured);

// The choice, from this side's configuration and the peer's announced codes.
// errc::handshake_failed when the two lists have nothing in common.
Result<crypto::AeadAlgorithm> choose_packet_aead(std::optional<crypto::AeadAlgorithm> configured,
                                                 std::span<const std::uint32_t> peer_offer);

}  // namespace srudp::transport
