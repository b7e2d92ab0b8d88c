// HandshakeDriver: runs one handshake to completion over an unreliable network, for either role.
// It owns the Handshake while it is in progress and decides which handshake packet to send and
// when: the Initiation (resent with backoff, and at once with mac2 after a CookieReply), the
// responder's message 2 (resent only when the Initiation comes again: no amplification), and the
// XX initiator's message 3 (resent until the peer shows it has the keys). transport::Connection
// drives its handshake through it, then takes the outcome and runs the data phase.
//
// Simultaneous open (hole punching makes both peers initiate at once): an Initiation from the
// peer's address whose sender connection id is smaller than ours wins the tie-break, and we answer
// it, but as an *answer* kept beside our own attempt, never instead of it. Nothing unauthenticated
// can end our attempt: a spoofed or replayed Initiation only adds an answer that nobody can
// complete. Whichever finishes first with proof from the peer wins:
//   - our own attempt: the peer's message 2, bound to our fresh ephemeral key;
//   - an XX answer: the peer's message 3, which needs the ephemeral secret of that Initiation;
//   - a PSK-only (NNpsk0) answer is complete at once but proves nothing (a replayed Initiation
//     looks the same), so it stays provisional until the connection sees a data packet open under
//     its keys (provisional_outcome / confirm_provisional).
#pragma once
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
#include "crypto/handshake.hpp"

namespace srudp::crypto {

struct RetransmitPolicy {
  Duration initial = std::chrono::milliseconds(300);
  Duration max = std::chrono::seconds(1);
  Duration interval(int retransmits) const;  // initial * 2^retransmits, capped at max
};

class HandshakeDriver {
 public:
  static Result<HandshakeDriver> connect(const HandshakeConfig& config, const SocketAddress& peer,
                                         Instant now, RandomSource& rng, RetransmitPolicy policy = {});
  static Result<HandshakeDriver> accept(const HandshakeConfig& config, Handshake handshake,
                                        const SocketAddress& peer, Instant now, RetransmitPolicy policy = {});

  HandshakeDriver(HandshakeDriver&&) noexcept;
  HandshakeDriver& operator=(HandshakeDriver&&) noexcept;
  ~HandshakeDriver();

  // Feed a long-header packet (Initiation, Handshake, CookieReply) from the peer's address.
  // Nothing unauthenticated can end the handshake: anything forged, duplicated, malformed or
  // signed by a key other than the pinned one is ignored (see identity_rejection()). Returns an
  // error only for a failure of our own state.
  std::error_code handle_packet(Instant now, const SocketAddress& from, std::span<const std::uint8_t> datagram);

  // The handshake packet due now, if any (copied into `out`); nullopt when nothing is due.
  std::optional<std::size_t> poll_transmit(Instant now, std::span<std::uint8_t> out);
  std::optional<Instant> poll_timeout() const;
  void handle_timeout(Instant now);

  // Complete: the outcome can be taken (once). The driver stays usable to answer retransmitted
  // Initiations (responder) or to resend message 3 (XX initiator) until peer_has_keys().
  bool is_complete() const;
  Result<HandshakeOutcome> take_outcome();

  // Provisional answers (NNpsk0 simultaneous open, see the top of this file): their outcomes, to
  // try on data packets that arrive before the handshake is complete. confirm_provisional(i)
  // makes answer i the handshake (once a packet opened under its keys); take_outcome() then
  // returns its outcome.
  std::size_t provisional_count() const;
  const HandshakeOutcome& provisional_outcome(std::size_t i) const;
  void confirm_provisional(std::size_t i);
  // Call when an authenticated data packet arrives: the peer has the keys, stop resending.
  void peer_has_keys(Instant now);
  // The handshake's round trip, the transport's first RTT sample (RFC 9002 section 5 takes one from
  // the handshake too): for the initiator, from sending the Initiation to the authenticated
  // message 2; for the responder, from sending message 2 to the peer's answer (XX message 3, or
  // peer_has_keys()). It includes the peer's key agreement, so it errs long, never short. None
  // when the flight went out more than once, since the answer may be to either copy (Karn), and
  // none for a simultaneous open's answer.
  std::optional<Duration> round_trip() const { return round_trip_; }
  // True once the peer authenticated a handshake message from us (its address is validated).
  bool heard_authenticated_reply() const { return heard_reply_; }

  // Our role in the handshake that completed; while none has, true for a driver that initiated.
  bool initiator() const { return handshake_ ? handshake_->initiator() : initiator_; }
  const wire::ConnectionId& local_cid() const { return local_cid_; }
  std::optional<wire::ConnectionId> peer_cid() const { return peer_cid_; }
  int retransmits() const { return total_retransmits_; }
  // peer_key_mismatch or peer_key_missing once a handshake message authenticated under a static
  // key other than the pinned one (and was dropped); the reason to report if the handshake times
  // out. Empty otherwise.
  std::error_code identity_rejection() const { return identity_rejection_; }

 private:
  HandshakeDriver() = default;
  void on_initiation(Instant now, std::span<const std::uint8_t> datagram);
  std::error_code on_handshake_packet(Instant now, std::span<const std::uint8_t> datagram);
  void on_cookie_reply(Instant now, std::span<const std::uint8_t> datagram);
  void restart_timer(Instant now);
  void answer(Instant now, const wire::Initiation& initiation);  // the peer's winning Initiation
  bool try_answers(const wire::Handshake& packet);
  void adopt_answer(std::size_t i);
  void on_flight_sent(Instant now);   // the Initiation (initiator) or message 2 (responder)
  void on_flight_answered(Instant now);

  // An answer to the peer's winning Initiation in a simultaneous open (a responder Handshake).
  struct Answer {
    Handshake handshake;
    bool send_flight = true;
    std::optional<HandshakeOutcome> provisional;  // NNpsk0: complete at once, unconfirmed
  };
  static constexpr std::size_t kMaxAnswers = 4;  // the oldest goes first; the genuine one is resent

  std::unique_ptr<HandshakeConfig> config_;
  RandomSource* rng_ = nullptr;
  RetransmitPolicy policy_;
  SocketAddress peer_;
  std::unique_ptr<MacKeys> mac_keys_;
  std::optional<Handshake> handshake_;       // our own attempt, or the one that completed
  std::vector<Answer> answers_;               // only while our own attempt is in progress
  std::optional<HandshakeOutcome> confirmed_; // a confirmed provisional answer's outcome
  bool initiator_ = true;
  wire::ConnectionId local_cid_{};
  std::optional<wire::ConnectionId> peer_cid_;
  bool send_initiation_ = false;
  bool send_flight_ = false;
  bool outcome_taken_ = false;
  bool heard_reply_ = false;
  bool peer_has_keys_ = false;
  Instant next_retransmit_{};
  int retransmits_ = 0;
  int total_retransmits_ = 0;
  // For round_trip(): when the flight awaiting the peer's answer first went out, and how often.
  Instant flight_sent_at_{};
  int flight_sends_ = 0;
  bool adopted_answer_ = false;
  std::optional<Duration> round_trip_;
  std::error_code identity_rejection_;
};

}  // namespace srudp::crypto
