// Noise HandshakeState (revision 34, section 5.3) for Noise_<pattern>_25519_ChaChaPoly_BLAKE2b.
//
// Failure rules, so that nothing half-applied lets a handshake continue incorrectly:
// - read_message is transactional: it works on a copy of the state and commits only when the
//   whole message (every token and the payload) has been processed. A forged, corrupted or
//   truncated message leaves the state exactly as it was, so a responder/initiator may keep
//   waiting for the genuine message (useful over UDP, where anyone can inject a datagram).
// - write_message checks turn and buffer sizes before changing anything; a failure after that
//   (a Diffie-Hellman with a low-order peer key) marks the state failed, and every later call
//   returns errc::invalid_state. Callers should discard a failed HandshakeState.
// - Once complete, the local ephemeral, static and PSK copies are wiped; split() hands out the
//   two raw 32-byte keys once and then wipes the chaining key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include "common/random.hpp"
#include "common/result.hpp"
#include "crypto/keypair.hpp"
#include "crypto/noise_pattern.hpp"
#include "crypto/noise_symmetric_state.hpp"
#include "crypto/secret.hpp"

namespace srudp::crypto {

// Keys and the PSK are copied by create() (and wiped when the handshake completes); the caller's
// objects need not outlive the HandshakeState. The RandomSource must.
struct NoiseConfig {
  NoisePatternId pattern = NoisePatternId::XXpsk3;
  bool initiator = false;
  std::span<const std::uint8_t> prologue;  // mixed into h; both sides must agree on it
  const KeyPair* local_static = nullptr;   // required when the pattern sends or pre-shares ours
  // The peer's static key, for patterns where it is a pre-message (the initiator of NK/IK).
  // Rejected for other patterns: pinning a key received during the handshake is the caller's job
  // (compare remote_static() once it is known).
  std::optional<PublicKey> remote_static;
  const PresharedKey* psk = nullptr;  // required exactly when the pattern has a psk token
  RandomSource* rng = nullptr;        // source of the ephemeral key
  const KeyPair* fixed_ephemeral = nullptr;  // test vectors only: used instead of rng
};

class HandshakeState {
 public:
  // Noise messages are at most 65535 bytes (section 3).
  static constexpr std::size_t kMaxMessageSize = 65535;

  using SplitKeys = SymmetricState::SplitKeys;

  // Validates that the config has what the pattern needs (errc::invalid_argument otherwise),
  // then runs Initialize: InitializeSymmetric, MixHash(prologue), pre-message keys.
  static Result<HandshakeState> create(const NoiseConfig& config);

  HandshakeState(HandshakeState&&) noexcept = default;
  HandshakeState& operator=(HandshakeState&&) noexcept = default;
  // An explicit deep copy (secrets included): read a message on a copy, inspect what it revealed
  // (the peer's static key, the payload), and keep the copy only if the caller accepts it.
  HandshakeState clone() const;

  // Writes the next handshake message (tokens + encrypted payload) into `out`; returns its size.
  // Errors: invalid_state (not our turn, complete or failed), invalid_argument (message would
  // exceed 65535 bytes, or payload overlaps out), buffer_too_small, handshake_failed (low-order
  // peer key; the state is then failed).
  Result<std::size_t> write_message(std::span<const std::uint8_t> payload,
                                    std::span<std::uint8_t> out);
  // Processes the peer's next handshake message and writes its decrypted payload to
  // `payload_out` (which must not overlap `message`); returns the payload size.
  // Errors: invalid_state, malformed (over 65535 bytes), truncated, buffer_too_small,
  // decrypt_failed (wrong key, PSK or prologue, or tampering), handshake_failed (low-order key).
  // On error the state is unchanged (see the comment at the top of this file).
  Result<std::size_t> read_message(std::span<const std::uint8_t> message,
                                   std::span<std::uint8_t> payload_out);

  bool is_initiator() const noexcept { return initiator_; }
  bool is_my_turn() const noexcept;
  bool is_complete() const noexcept;
  bool has_failed() const noexcept { return failed_; }
  NoisePatternId pattern() const noexcept { return pattern_->id; }

  // The peer's static key, once known (from a pre-message or a received "s" token).
  std::optional<PublicKey> remote_static() const { return progress_.remote_static; }
  // h: after completion, a unique identifier of this handshake (channel binding).
  std::span<const std::uint8_t, kNoiseHashLen> handshake_hash() const noexcept {
    return progress_.symmetric.handshake_hash();
  }

  // The raw 32-byte keys of Noise's Split(). Only once, and only when complete (invalid_state).
  Result<SplitKeys> split();

  // Bytes the next message adds to its payload (keys, tags), for sizing buffers: a message of
  // payload P is P + next_message_overhead() bytes. 0 when the handshake is over.
  std::size_t next_message_overhead() const noexcept;
  // The same for message `message_index` of a pattern (0 when there is no such message).
  static std::size_t message_overhead(NoisePatternId pattern, std::size_t message_index);
  // The largest overhead of any message of the pattern.
  static std::size_t max_message_overhead(NoisePatternId pattern);

 private:
  // Everything a message changes; read_message works on a clone and commits it on success.
  struct Progress {
    SymmetricState symmetric;
    std::optional<KeyPair> ephemeral;
    std::optional<PublicKey> remote_ephemeral;
    std::optional<PublicKey> remote_static;
    std::size_t next_message = 0;
    Progress clone() const;
  };

  HandshakeState() = default;
  std::error_code mix_dh(Progress& progress, NoiseToken token) const;
  void on_complete();

  const NoisePattern* pattern_ = nullptr;
  bool initiator_ = false;
  std::optional<KeyPair> local_static_;
  std::optional<PresharedKey> psk_;
  std::optional<KeyPair> fixed_ephemeral_;
  RandomSource* rng_ = nullptr;
  Progress progress_;
  bool failed_ = false;
  bool split_done_ = false;
};

}  // namespace srudp::crypto
