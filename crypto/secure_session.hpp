// SecureSession: the smallest complete srudp channel between two peers, sans-IO.
//
// It runs the handshake (with retransmission, cookies and the simultaneous-open tie-break), then
// the explicit key confirmation srudp inherited from its ancestor: each side sends an encrypted
// ESTABLISHED frame and retransmits it until the peer acknowledges it. A session is established
// only when both hold the keys, have received the peer's ESTABLISHED, and know the peer received
// theirs. After that it carries unreliable encrypted datagrams (DATAGRAM frames), keepalive PINGs
// and CLOSE. Reliable streams and congestion control are the transport's job, built on the same
// pieces (Handshake, PacketProtection, ReplayWindow).
//
// Driver call order (the same for a real socket and the simulator):
//   handle_datagram(now, from, bytes) for each received datagram;
//   while (auto t = poll_transmit(now, buffer)) send buffer[0, t->size) to t->to;
//   arm one timer at poll_timeout(); when it fires, handle_timeout(now), then poll_transmit again;
//   drain poll_event() after each of the above.
#pragma once

#include <cstdint>
#include <memory>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/address.hpp"
#include "common/random.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "crypto/aead.hpp"
#include "crypto/handshake.hpp"
#include "crypto/handshake_driver.hpp"
#include "crypto/packet_protection.hpp"
#include "crypto/replay_window.hpp"
#include "wire/packet.hpp"

namespace srudp::crypto {

struct SessionConfig {
  HandshakeConfig handshake;
  AeadAlgorithm aead = AeadAlgorithm::chacha20_poly1305;
  Duration handshake_timeout = std::chrono::seconds(20);  // handshake and key confirmation
  Duration initial_retransmit = std::chrono::milliseconds(300);
  Duration max_retransmit = std::chrono::seconds(1);
  Duration idle_timeout = std::chrono::seconds(30);
  Duration keepalive_interval = std::chrono::seconds(15);
  std::size_t max_datagram_size = 1200;   // UDP payload we send at most
  std::size_t max_queued_datagrams = 256; // beyond this, send_datagram() drops the oldest
  std::optional<PacketProtectionLimits> limits;  // key-update and usage limits (tests shrink them)

  SessionConfig clone() const { return *this; }  // an explicit copy (secrets cloned)
};

enum class SessionState { handshaking, confirming, established, closed, failed };

struct SessionEvent {
  enum class Kind { established, datagram, closed };
  Kind kind;
  std::vector<std::uint8_t> data;  // datagram payload, or the peer's close reason
  std::error_code error;           // closed: why (connection_closed when the peer closed cleanly)
};

struct Transmit {
  SocketAddress to;
  std::size_t size = 0;
};

class SecureSession {
 public:
  // The initiator side: starts a handshake towards `peer`.
  static Result<SecureSession> connect(SessionConfig config, const SocketAddress& peer, Instant now,
                                       RandomSource& rng);
  // The responder side, from a handshake a HandshakeResponder accepted. `initiation_size` counts
  // towards the anti-amplification budget for the peer's unvalidated address.
  static Result<SecureSession> accept(SessionConfig config, Handshake handshake, const SocketAddress& peer,
                                      std::size_t initiation_size, Instant now, RandomSource& rng);

  SecureSession(SecureSession&&) noexcept;
  SecureSession& operator=(SecureSession&&) noexcept;
  ~SecureSession();

  void handle_datagram(Instant now, const SocketAddress& from, std::span<const std::uint8_t> datagram);
  std::optional<Transmit> poll_transmit(Instant now, std::span<std::uint8_t> out);
  std::optional<Instant> poll_timeout() const;
  void handle_timeout(Instant now);
  std::optional<SessionEvent> poll_event();

  // Queues one unreliable datagram (at most max_datagram_payload() bytes) once established.
  std::error_code send_datagram(std::span<const std::uint8_t> payload);
  std::size_t max_datagram_payload() const;
  // Sends CLOSE once and stops; the peer sees a closed event with `reason`.
  void close(std::uint64_t code, std::string_view reason);

  SessionState state() const { return state_; }
  bool is_established() const { return state_ == SessionState::established; }
  std::error_code error() const { return error_; }
  bool initiator() const { return initiator_; }
  const wire::ConnectionId& local_cid() const { return local_cid_; }
  std::optional<wire::ConnectionId> peer_cid() const { return peer_cid_; }
  const SocketAddress& peer_address() const { return peer_; }
  const std::optional<PublicKey>& peer_identity() const { return peer_identity_; }
  const std::vector<std::uint8_t>& peer_payload() const { return peer_payload_; }

  struct Stats {
    std::uint64_t datagrams_sent = 0, datagrams_received = 0, bytes_sent = 0, bytes_received = 0;
    std::uint64_t dropped_unauthenticated = 0, dropped_replayed = 0, handshake_retransmits = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  SecureSession(SessionConfig config, RandomSource& rng);

  void on_data_packet(Instant now, const SocketAddress& from, std::span<const std::uint8_t> datagram);
  void complete_handshake(Instant now);
  void fail(std::error_code ec);
  bool amplification_allows(std::size_t bytes) const;
  RetransmitPolicy retransmit_policy() const;
  std::optional<Transmit> emit_data_packet(Instant now, std::span<std::uint8_t> out);
  bool wants_data_packet() const;
  bool retransmission_pending() const;

  SessionConfig config_;
  RandomSource* rng_;
  SessionState state_ = SessionState::handshaking;
  std::error_code error_;
  bool initiator_ = true;
  SocketAddress peer_;
  wire::ConnectionId local_cid_{};
  std::optional<wire::ConnectionId> peer_cid_;
  std::optional<PublicKey> peer_identity_;
  std::vector<std::uint8_t> peer_payload_;

  // Handshake phase (kept until established: it answers retransmitted handshake packets).
  std::optional<HandshakeDriver> driver_;
  Instant started_{};

  // Anti-amplification until the peer proves it receives at its address.
  bool address_validated_ = false;
  std::uint64_t unvalidated_received_ = 0;
  std::uint64_t unvalidated_sent_ = 0;

  // After the handshake.
  std::optional<PacketProtection> protection_;
  Instant next_retransmit_{};   // ESTABLISHED
  int retransmits_ = 0;
  ReplayWindow replay_;
  std::uint64_t next_pn_ = 0;
  std::optional<std::uint64_t> largest_received_;
  std::optional<std::uint64_t> largest_acked_;
  bool peer_confirmed_ = false;        // we received the peer's ESTABLISHED
  bool ours_acked_ = false;            // the peer acknowledged our ESTABLISHED
  bool send_established_ = false;     // until the peer acknowledged one
  bool established_due_ = false;      // put ESTABLISHED in the next packet
  std::vector<std::uint64_t> established_pns_;
  std::deque<std::uint64_t> recently_received_;  // ack-eliciting packet numbers, newest last
  bool ack_pending_ = false;
  bool send_ping_ = false;
  std::deque<std::vector<std::uint8_t>> outgoing_datagrams_;
  Instant last_received_{};
  Instant last_sent_{};
  std::optional<std::pair<std::uint64_t, std::string>> close_to_send_;
  std::deque<SessionEvent> events_;
  Stats stats_;
};

}  // namespace srudp::crypto
