// One srudp handshake, initiator or responder side: Noise messages carried in srudp's handshake
// packets (docs/HANDSHAKE.md). The object turns received handshake packets into the next flight
// to send and, at the end, into the traffic secrets of both directions. It keeps no timers: the
// owner (the session) decides when to retransmit the last flight.
//
// Noise pattern, chosen from the configuration (both peers must be configured alike):
//   PSK only                        -> Noise_NNpsk0  (2 messages)
//   identity keys                   -> Noise_XX      (3 messages; pin the peer key to authenticate)
//   identity keys and a PSK         -> Noise_XXpsk3  (3 messages)
// The prologue binds the protocol name, the version and the initiator's connection id. Each side's
// first encrypted payload starts with its own connection id, so both ids are authenticated.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/address.hpp"
#include "common/random.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "crypto/cookie.hpp"
#include "crypto/keypair.hpp"
#include "crypto/noise_handshake_state.hpp"
#include "crypto/secret.hpp"
#include "wire/packet.hpp"

namespace srudp::crypto {

enum class HandshakeMode { psk, identity, identity_psk };

struct HandshakeConfig {
  std::optional<PresharedKey> psk;
  std::optional<KeyPair> identity;        // our long-term X25519 key
  std::optional<PublicKey> pinned_peer;   // the peer must prove it holds this identity key
  std::vector<std::uint8_t> payload;      // sent encrypted to the peer (transport parameters)
  std::uint32_t version = wire::kVersion1;

  HandshakeConfig() = default;
  // Copies clone the secrets (Secret itself is move-only), so configurations containing this one
  // can use their defaulted copies and never drop a field.
  HandshakeConfig(const HandshakeConfig& other);
  HandshakeConfig& operator=(const HandshakeConfig& other);
  HandshakeConfig(HandshakeConfig&&) noexcept = default;
  HandshakeConfig& operator=(HandshakeConfig&&) noexcept = default;
  ~HandshakeConfig() = default;
  HandshakeConfig clone() const { return *this; }  // an explicit copy, for readable call sites
  Result<HandshakeMode> mode() const;     // invalid_argument when neither a PSK nor an identity
};

// What a finished handshake hands to packet protection and the connection.
struct HandshakeOutcome {
  bool initiator = false;
  SecretKey send_secret;
  SecretKey receive_secret;
  wire::ConnectionId local_cid{};
  wire::ConnectionId peer_cid{};
  std::optional<PublicKey> peer_identity;
  std::vector<std::uint8_t> peer_payload;
  std::array<std::uint8_t, 64> handshake_hash{};
};

class Handshake {
 public:
  // Initiator: prepares message 1. Call initiation_datagram() to get the packet to send.
  static Result<Handshake> initiate(const HandshakeConfig& config, const wire::ConnectionId& local_cid,
                                    RandomSource& rng);
  // Responder: processes a decoded Initiation whose mac1 (and mac2, if required) the caller has
  // verified. On success last_flight() holds the response.
  static Result<Handshake> respond(const HandshakeConfig& config, const wire::ConnectionId& local_cid,
                                   const wire::Initiation& initiation, RandomSource& rng);

  Handshake(Handshake&&) noexcept;
  Handshake& operator=(Handshake&&) noexcept;
  ~Handshake();

  bool initiator() const { return initiator_; }
  bool is_complete() const;
  const wire::ConnectionId& local_cid() const { return local_cid_; }
  std::optional<wire::ConnectionId> peer_cid() const { return peer_cid_; }
  // The initiator's ephemeral public key (the first 32 bytes of message 1): identifies an Initiation.
  const std::array<std::uint8_t, 32>& initiation_id() const { return initiation_id_; }

  // Initiator only: the Initiation datagram with fresh mac1/mac2 (mac2 from a cookie, if we hold
  // one). Also remembers mac1 so a CookieReply can be verified.
  std::vector<std::uint8_t> initiation_datagram(Instant now);
  // Initiator only: a CookieReply for our Initiation; the next initiation_datagram() carries mac2.
  std::error_code handle_cookie_reply(Instant now, const wire::CookieReply& reply);

  // The last flight other than the Initiation: the responder's message 2, or the initiator's
  // message 3. Empty when there is none.
  std::span<const std::uint8_t> last_flight() const { return flight_; }

  // Processes Noise message 2 (initiator) or 3 (responder). A packet that does not authenticate,
  // or that reveals a static key other than the pinned one (peer_key_mismatch, peer_key_missing),
  // is rejected and leaves the handshake unchanged, so a forged packet cannot abort it: the
  // genuine message can still complete the handshake.
  std::error_code handle_handshake_packet(const wire::Handshake& packet);

  // Once complete: the secrets and what the peer said. The handshake is spent afterwards.
  Result<HandshakeOutcome> finish();

 private:
  Handshake() = default;
  static Result<Handshake> start(const HandshakeConfig& config, const wire::ConnectionId& local_cid,
                                 bool initiator, const wire::ConnectionId& initiator_cid, RandomSource& rng);
  std::error_code write_flight(std::uint8_t message_index);  // Noise message 2 or 3 as a packet
  std::error_code check_peer_identity(const HandshakeState& noise) const;
  std::error_code read_peer_payload(std::span<const std::uint8_t> plaintext);
  std::vector<std::uint8_t> encrypted_payload() const;

  bool initiator_ = false;
  HandshakeMode mode_ = HandshakeMode::psk;
  std::uint32_t version_ = wire::kVersion1;
  std::optional<HandshakeState> noise_;
  std::optional<PublicKey> pinned_peer_;
  std::vector<std::uint8_t> payload_;
  std::vector<std::uint8_t> peer_payload_;
  wire::ConnectionId local_cid_{};
  std::optional<wire::ConnectionId> peer_cid_;
  std::array<std::uint8_t, 32> initiation_id_{};
  std::vector<std::uint8_t> message1_;   // initiator: the Noise message 1, resent unchanged
  std::vector<std::uint8_t> flight_;
  std::unique_ptr<MacKeys> mac_keys_;
  CookieJar cookies_;
  Mac last_mac1_{};
  bool failed_ = false;
};

// The Noise prologue for a handshake started by `initiator_cid`.
std::vector<std::uint8_t> handshake_prologue(std::uint32_t version, const wire::ConnectionId& initiator_cid);

}  // namespace srudp::crypto
