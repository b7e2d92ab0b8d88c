// Per-packet protection of one connection after the handshake: AEAD sealing and opening with
// the packet number as nonce, key phases, key updates and usage limits (after RFC 9001 §6).
//
// Keys. Each direction starts from its own 32-byte traffic secret (from the handshake). For a
// secret S of generation g, with libsodium's crypto_kdf_derive_from_key (BLAKE2b), context
// "srudp-pp":
//     packet key of generation g  = KDF(S_g, subkey id 1)
//     S_{g+1} (after a key update) = KDF(S_g, subkey id 2)
// A's send secret is B's receive secret, so both sides derive the same chain per direction.
//
// Key phase. The connection has one key generation g for both directions; its low bit is the
// key-phase bit in the short header. Either side may start an update (g -> g+1): it switches
// its send and receive keys at once, keeping the previous receive key for late packets. The
// peer notices a packet with the other phase bit that opens with the precomputed next key and
// follows. A forged packet cannot move anyone: nothing changes unless the AEAD check passes.
//
// Choosing the receive key for a packet whose phase bit differs from the current one:
//  - pn lower than the lowest pn received in the current generation: previous key (a late
//    packet from before the update; the peer's packet numbers only grow);
//  - pn higher: next key (the peer has updated again);
//  - nothing received in the current generation yet (we just initiated): it can be either, so
//    the previous key is checked with PacketKey::verify (no writes) and then the next one.
//
// Confirmation. A new update may start only once the current generation is confirmed: we have
// received a packet protected with it, i.e. the peer has the keys too. Generation 0 counts as
// confirmed (the handshake proved both sides hold the secrets). Automatic updates happen
// outside seal(), right after the packet that reached Limits::key_update_after or on the
// confirming open(), so send_key_phase() always tells the phase the next seal() will use.
//
// The module knows nothing about ACKs, streams or sockets; the caller applies the replay
// window (crypto/replay_window.hpp) around open().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include "common/result.hpp"
#include "crypto/aead.hpp"
#include "crypto/secret.hpp"
#include "wire/packet.hpp"

namespace srudp::crypto {

// Packet numbers are 62-bit so they fit a varint everywhere; sealing refuses beyond this.
using wire::kMaxPacketNumber;  // 2^62 - 1: the nonce never wraps

// Bit 5 of the short header's first byte carries the key phase (wire format).
inline constexpr std::uint8_t kKeyPhaseHeaderBit = 0x20;

struct PacketProtectionLimits {
  // Start a key update (if confirmed) once the current send key protected this many packets.
  std::uint64_t key_update_after = 0;
  // Hard confidentiality limit per send key: seal() refuses (errc::key_limit_reached) when the
  // key has protected this many packets and the update cannot happen yet.
  std::uint64_t max_packets_per_key = 0;
  // Integrity limit for the whole connection: once more than this many packets failed to
  // authenticate, open() reports errc::key_limit_reached (the connection must close).
  std::uint64_t max_failed_opens = 0;

  // ChaCha20-Poly1305: update after 2^28, hard limit 2^30. AES-256-GCM: 2^22 and 2^23.
  // Failed opens: 2^36. null_for_testing uses the ChaCha20 figures.
  static PacketProtectionLimits defaults_for(AeadAlgorithm algorithm) noexcept;
};

struct PacketProtectionConfig {
  SecretKey send_secret;
  SecretKey receive_secret;
  AeadAlgorithm algorithm = AeadAlgorithm::chacha20_poly1305;
  std::optional<PacketProtectionLimits> limits;  // nullopt: defaults_for(algorithm)
  // For tests: start as if the generation-0 send key had already protected this many packets
  // and this many packets had already failed to open, to exercise limits near 2^30 / 2^36.
  std::uint64_t initial_packets_sealed_with_key = 0;
  std::uint64_t initial_failed_opens = 0;
};

struct SealResult {
  std::size_t size = 0;    // ciphertext + tag bytes written to `out`
  bool key_phase = false;  // the phase used (equals send_key_phase() before the call)
};

struct OpenResult {
  std::size_t size = 0;       // plaintext bytes written to `out`
  bool key_phase = false;     // the phase of the key that opened it
  bool key_updated = false;   // this packet moved the connection to the next key generation
};

struct PacketProtectionStats {
  std::array<std::uint64_t, 2> packets_sealed_in_phase{};  // indexed by key-phase bit
  std::array<std::uint64_t, 2> packets_opened_in_phase{};
  std::uint64_t key_updates = 0;            // generations moved through, by either side
  std::uint64_t key_updates_initiated = 0;  // of which started here
  std::uint64_t failed_opens = 0;
};

class PacketProtection {
 public:
  // errc::invalid_argument if the algorithm is unavailable or the limits are inconsistent
  // (0 < key_update_after <= max_packets_per_key is required).
  static Result<PacketProtection> create(PacketProtectionConfig config);

  AeadAlgorithm algorithm() const noexcept { return algorithm_; }
  // The phase to write into the header of the next packet sealed.
  bool send_key_phase() const noexcept { return (generation_ & 1) != 0; }
  std::uint64_t key_generation() const noexcept { return generation_; }
  // True once we received a packet in the current generation (a new update may start).
  bool update_confirmed() const noexcept { return confirmed_; }
  std::uint64_t packets_sealed_with_current_key() const noexcept { return sent_with_key_; }
  const PacketProtectionStats& stats() const noexcept { return stats_; }
  const PacketProtectionLimits& limits() const noexcept { return limits_; }

  // Seals `plaintext` into `out` (ciphertext || 16-byte tag; in-place allowed, see PacketKey)
  // with `header` as associated data. The header must already carry send_key_phase() in
  // kKeyPhaseHeaderBit of its first byte (errc::invalid_argument otherwise). Packet numbers
  // must strictly increase (errc::invalid_argument). errc::key_limit_reached when pn exceeds
  // kMaxPacketNumber or the current key hit max_packets_per_key before an update could happen.
  Result<SealResult> seal(std::uint64_t packet_number, std::span<const std::uint8_t> header,
                          std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out);

  // Opens a packet whose header said `key_phase`. Success may move the connection to the next
  // key generation (OpenResult::key_updated), after which send_key_phase() flips too. Failure
  // (errc::decrypt_failed) changes no state except the failed-open count; once that exceeds
  // max_failed_opens every open() returns errc::key_limit_reached. pn > kMaxPacketNumber gives
  // errc::value_out_of_range. Replay protection is the caller's (ReplayWindow).
  Result<OpenResult> open(std::uint64_t packet_number, bool key_phase,
                          std::span<const std::uint8_t> header,
                          std::span<const std::uint8_t> ciphertext, std::span<std::uint8_t> out);

  // Starts a key update now. errc::invalid_state if the current generation is not confirmed.
  std::error_code initiate_key_update();

 private:
  PacketProtection(AeadAlgorithm algorithm, PacketProtectionLimits limits, SecretKey send_secret,
                   SecretKey receive_next_secret, PacketKey send_key, PacketKey receive_key,
                   PacketKey receive_next_key);

  // Moves both directions to generation g+1. Fails only if key derivation fails.
  std::error_code advance_generation();
  void maybe_update_automatically();
  void on_authenticated(std::uint64_t packet_number, bool key_phase);

  AeadAlgorithm algorithm_;
  PacketProtectionLimits limits_;
  std::uint64_t generation_ = 0;

  // Send side: secret and key of the current generation.
  SecretKey send_secret_;
  PacketKey send_key_;
  std::uint64_t sent_with_key_ = 0;
  bool has_sent_ = false;
  std::uint64_t last_sent_pn_ = 0;

  // Receive side: previous (late packets), current, and precomputed next generation.
  SecretKey receive_next_secret_;  // secret of generation g+1, to derive g+2 later
  std::optional<PacketKey> receive_previous_key_;
  PacketKey receive_key_;
  PacketKey receive_next_key_;
  std::optional<std::uint64_t> lowest_pn_in_generation_;  // received and authenticated
  bool confirmed_ = true;

  PacketProtectionStats stats_;
};

}  // namespace srudp::crypto
