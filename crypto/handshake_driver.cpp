#include "crypto/handshake_driver.hpp"

#include <algorithm>
#include <stdexcept>

namespace srudp::crypto {
namespace {

bool cid_less(const wire::ConnectionId& a, const wire::ConnectionId& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

Duration RetransmitPolicy::interval(int retransmits) const {
  Duration d = initial;
  for (int i = 0; i < retransmits && d < max; ++i) d *= 2;
  return std::min(d, max);
}

HandshakeDriver::HandshakeDriver(HandshakeDriver&&) noexcept = default;
HandshakeDriver& HandshakeDriver::operator=(HandshakeDriver&&) noexcept = default;
HandshakeDriver::~HandshakeDriver() = default;

Result<HandshakeDriver> HandshakeDriver::connect(const HandshakeConfig& config, const SocketAddress& peer,
                                                 Instant now, RandomSource& rng, RetransmitPolicy policy) {
  HandshakeDriver d;
  d.config_ = std::make_unique<HandshakeConfig>(config.clone());
  d.rng_ = &rng;
  d.policy_ = policy;
  d.peer_ = peer;
  d.mac_keys_ = std::make_unique<MacKeys>(config.psk ? &*config.psk : nullptr);
  rng.fill(d.local_cid_);
  auto handshake = Handshake::initiate(*d.config_, d.local_cid_, rng);
  if (!handshake) return handshake.error();
  d.handshake_.emplace(std::move(*handshake));
  d.initiator_ = true;
  d.send_initiation_ = true;
  d.restart_timer(now);
  return d;
}

Result<HandshakeDriver> HandshakeDriver::accept(const HandshakeConfig& config, Handshake handshake,
                                                const SocketAddress& peer, Instant now, RetransmitPolicy policy) {
  if (handshake.initiator()) return errc::invalid_argument;
  HandshakeDriver d;
  d.config_ = std::make_unique<HandshakeConfig>(config.clone());
  d.policy_ = policy;
  d.peer_ = peer;
  d.mac_keys_ = std::make_unique<MacKeys>(config.psk ? &*config.psk : nullptr);
  d.initiator_ = false;
  d.local_cid_ = handshake.local_cid();
  d.peer_cid_ = handshake.peer_cid();
  d.handshake_.emplace(std::move(handshake));
  d.send_flight_ = true;
  d.restart_timer(now);
  return d;
}

void HandshakeDriver::restart_timer(Instant now) {
  retransmits_ = 0;
  next_retransmit_ = now + policy_.initial;
}

bool HandshakeDriver::is_complete() const {
  return outcome_taken_ || confirmed_.has_value() || (handshake_ && handshake_->is_complete());
}

Result<HandshakeOutcome> HandshakeDriver::take_outcome() {
  if (outcome_taken_) return errc::invalid_state;
  if (confirmed_) {  // a provisional answer that a data packet confirmed
    HandshakeOutcome outcome = std::move(*confirmed_);
    confirmed_.reset();
    outcome_taken_ = true;
    peer_cid_ = outcome.peer_cid;
    initiator_ = false;
    return outcome;
  }
  if (!handshake_ || !handshake_->is_complete()) return errc::invalid_state;
  auto outcome = handshake_->finish();
  if (!outcome) return outcome.error();
  outcome_taken_ = true;
  answers_.clear();
  peer_cid_ = outcome->peer_cid;
  initiator_ = outcome->initiator;
  // The spent Handshake still holds the last flight: the responder's message 2 (resent when the
  // Initiation comes again) or the XX initiator's message 3 (resent until the peer has the keys).
  // A NNpsk0 initiator has nothing left to resend.
  if (initiator_ && handshake_->last_flight().empty()) handshake_.reset();
  return outcome;
}

std::size_t HandshakeDriver::provisional_count() const {
  return static_cast<std::size_t>(
      std::count_if(answers_.begin(), answers_.end(), [](const Answer& a) { return a.provisional.has_value(); }));
}

const HandshakeOutcome& HandshakeDriver::provisional_outcome(std::size_t i) const {
  for (const Answer& a : answers_) {
    if (a.provisional && i-- == 0) return *a.provisional;
  }
  throw std::out_of_range("HandshakeDriver::provisional_outcome");
}

void HandshakeDriver::confirm_provisional(std::size_t i) {
  for (std::size_t k = 0; k < answers_.size(); ++k) {
    if (answers_[k].provisional && i-- == 0) {
      heard_reply_ = true;  // the peer sent a packet under these keys: it has them
      adopt_answer(k);
      return;
    }
  }
}

void HandshakeDriver::adopt_answer(std::size_t i) {
  Answer chosen = std::move(answers_[i]);
  answers_.clear();
  handshake_.emplace(std::move(chosen.handshake));
  if (chosen.provisional) confirmed_.emplace(std::move(*chosen.provisional));
  initiator_ = false;
  peer_cid_ = handshake_->peer_cid();
  send_initiation_ = false;
  send_flight_ = false;
  adopted_answer_ = true;  // our Initiation's clock says nothing about the answer we adopted
}

void HandshakeDriver::on_flight_sent(Instant now) {
  if (flight_sends_++ == 0) flight_sent_at_ = now;
}

void HandshakeDriver::on_flight_answered(Instant now) {
  if (flight_sends_ == 1 && !adopted_answer_ && !round_trip_) round_trip_ = std::max(now - flight_sent_at_, Duration::zero());
}

void HandshakeDriver::peer_has_keys(Instant now) {
  if (!initiator_ && !peer_has_keys_) on_flight_answered(now);
  peer_has_keys_ = true;
  heard_reply_ = true;
  send_flight_ = false;
  send_initiation_ = false;
  if (outcome_taken_) {
    handshake_.reset();
    answers_.clear();
  }
}

std::error_code HandshakeDriver::handle_packet(Instant now, const SocketAddress& from,
                                               std::span<const std::uint8_t> datagram) {
  if (from != peer_ || !handshake_) return {};
  auto type = wire::peek_packet_type(datagram);
  if (!type) return {};
  switch (*type) {
    case wire::PacketType::Initiation: on_initiation(now, datagram); return {};
    case wire::PacketType::Handshake: return on_handshake_packet(now, datagram);
    case wire::PacketType::CookieReply: on_cookie_reply(now, datagram); return {};
    case wire::PacketType::Data: return {};
  }
  return {};
}

void HandshakeDriver::on_initiation(Instant now, std::span<const std::uint8_t> datagram) {
  auto initiation = wire::decode_initiation(datagram);
  if (!initiation || initiation->version != config_->version) return;
  if (!mac_equal(mac_keys_->mac1(initiation->mac1_covered), initiation->mac1)) return;
  if (initiation->noise_message.size() < 32) return;
  if (!handshake_->initiator()) {
    // The Initiation again: our response was lost. Resend it (the caller's amplification budget
    // counts this Initiation's bytes).
    if (std::equal(handshake_->initiation_id().begin(), handshake_->initiation_id().end(),
                   initiation->noise_message.begin())) {
      send_flight_ = true;
    }
    return;
  }
  // Simultaneous open: both sides initiated. The Initiation from the smaller connection id wins on
  // both sides, so one handshake survives; we answer it beside our own attempt (see the header).
  // Our own Initiation reflected back is dropped.
  if (outcome_taken_ || initiation->sender_cid == local_cid_) return;
  if (!cid_less(initiation->sender_cid, local_cid_)) return;  // ours wins; the peer answers it
  answer(now, *initiation);
}

void HandshakeDriver::answer(Instant, const wire::Initiation& initiation) {
  for (Answer& a : answers_) {
    if (std::equal(a.handshake.initiation_id().begin(), a.handshake.initiation_id().end(),
                   initiation.noise_message.begin())) {
      a.send_flight = true;  // the Initiation again: our answer was lost
      return;
    }
  }
  auto responder = Handshake::respond(*config_, local_cid_, initiation, *rng_);
  if (!responder) return;
  Answer a{std::move(*responder), true, std::nullopt};
  if (a.handshake.is_complete()) {  // NNpsk0: keys now, proof later
    auto outcome = a.handshake.finish();
    if (!outcome) return;
    a.provisional.emplace(std::move(*outcome));
  }
  if (answers_.size() == kMaxAnswers) answers_.erase(answers_.begin());
  answers_.push_back(std::move(a));
}

bool HandshakeDriver::try_answers(const wire::Handshake& packet) {
  for (std::size_t i = 0; i < answers_.size(); ++i) {
    Answer& a = answers_[i];
    if (a.provisional) continue;
    const auto ec = a.handshake.handle_handshake_packet(packet);
    if (ec == errc::peer_key_mismatch || ec == errc::peer_key_missing) identity_rejection_ = ec;
    if (ec) continue;
    heard_reply_ = true;  // message 3 proves the peer holds that Initiation's ephemeral secret
    adopt_answer(i);
    return true;
  }
  return false;
}

std::error_code HandshakeDriver::on_handshake_packet(Instant now, std::span<const std::uint8_t> datagram) {
  auto packet = wire::decode_handshake(datagram);
  if (!packet || packet->receiver_cid != local_cid_) return {};
  if (outcome_taken_) return {};  // a duplicate: the data phase answers it
  if (packet->message_index == 3 && !answers_.empty() && try_answers(*packet)) return {};
  const auto ec = handshake_->handle_handshake_packet(*packet);
  if (ec == errc::peer_key_mismatch || ec == errc::peer_key_missing) {
    // Someone answered under another static key: drop it and keep waiting for the pinned peer,
    // but remember why, so a handshake that then times out can say so.
    identity_rejection_ = ec;
    return {};
  }
  if (ec) return {};  // forged, duplicate or out of order: ignore
  on_flight_answered(now);  // message 2 to our Initiation, or XX message 3 to our message 2
  heard_reply_ = true;
  send_initiation_ = false;
  answers_.clear();  // our own attempt won
  if (handshake_->initiator() && !handshake_->last_flight().empty()) {
    send_flight_ = true;  // message 3
    restart_timer(now);
  }
  return {};
}

void HandshakeDriver::on_cookie_reply(Instant now, std::span<const std::uint8_t> datagram) {
  if (!handshake_->initiator() || heard_reply_) return;
  auto reply = wire::decode_cookie_reply(datagram);
  if (!reply) return;
  if (!handshake_->handle_cookie_reply(now, *reply)) send_initiation_ = true;  // at once, with mac2
}

std::optional<std::size_t> HandshakeDriver::poll_transmit(Instant now, std::span<std::uint8_t> out) {
  if (!handshake_) return std::nullopt;
  if (send_initiation_ && handshake_->initiator() && !heard_reply_) {
    const auto datagram = handshake_->initiation_datagram(now);
    if (datagram.empty() || datagram.size() > out.size()) return std::nullopt;
    std::copy(datagram.begin(), datagram.end(), out.begin());
    send_initiation_ = false;
    on_flight_sent(now);
    return datagram.size();
  }
  if (send_flight_ && !handshake_->last_flight().empty()) {
    const auto flight = handshake_->last_flight();
    if (flight.size() > out.size()) return std::nullopt;
    std::copy(flight.begin(), flight.end(), out.begin());
    send_flight_ = false;
    if (!handshake_->initiator()) on_flight_sent(now);  // message 2; the initiator's clock ran on the Initiation
    return flight.size();
  }
  for (Answer& a : answers_) {
    const auto flight = a.handshake.last_flight();
    if (!a.send_flight || flight.empty() || flight.size() > out.size()) continue;
    std::copy(flight.begin(), flight.end(), out.begin());
    a.send_flight = false;
    return flight.size();
  }
  return std::nullopt;
}

std::optional<Instant> HandshakeDriver::poll_timeout() const {
  if (!handshake_ || peer_has_keys_) return std::nullopt;
  // Only the initiator resends on a timer: the Initiation until it hears back, then message 3.
  // A responder answers retransmitted Initiations instead, so it is never a reflector.
  const bool initiation = handshake_->initiator() && !heard_reply_;
  const bool message3 = handshake_->initiator() && heard_reply_ && !handshake_->last_flight().empty();
  if (initiation || message3) return next_retransmit_;
  return std::nullopt;
}

void HandshakeDriver::handle_timeout(Instant now) {
  const auto deadline = poll_timeout();
  if (!deadline || now < *deadline) return;
  if (!heard_reply_) {
    send_initiation_ = true;
  } else {
    send_flight_ = true;
  }
  ++retransmits_;
  ++total_retransmits_;
  next_retransmit_ = now + policy_.interval(retransmits_);
}

}  // namespace srudp::crypto
