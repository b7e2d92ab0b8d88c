#include "crypto/secure_session.hpp"

#include <algorithm>

#include "wire/buffer.hpp"
#include "wire/frame.hpp"

namespace srudp::crypto {
namespace {

constexpr std::size_t kAeadTag = 16;
constexpr std::size_t kRecentlyReceived = 32;  // packet numbers an ACK frame re-acknowledges
constexpr std::size_t kMaxPlaintext = 2048;

bool cid_less(const wire::ConnectionId& a, const wire::ConnectionId& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

SessionConfig SessionConfig::clone() const {
  SessionConfig c;
  c.handshake = handshake.clone();
  c.aead = aead;
  c.handshake_timeout = handshake_timeout;
  c.initial_retransmit = initial_retransmit;
  c.max_retransmit = max_retransmit;
  c.idle_timeout = idle_timeout;
  c.keepalive_interval = keepalive_interval;
  c.max_datagram_size = max_datagram_size;
  c.max_queued_datagrams = max_queued_datagrams;
  c.limits = limits;
  return c;
}

SecureSession::SecureSession(SessionConfig config, RandomSource& rng)
    : config_(std::move(config)),
      rng_(&rng),
      mac_keys_(std::make_unique<MacKeys>(config_.handshake.psk ? &*config_.handshake.psk : nullptr)) {}

SecureSession::SecureSession(SecureSession&&) noexcept = default;
SecureSession& SecureSession::operator=(SecureSession&&) noexcept = default;
SecureSession::~SecureSession() = default;

Result<SecureSession> SecureSession::connect(SessionConfig config, const SocketAddress& peer,
                                             Instant now, RandomSource& rng) {
  if (config.max_datagram_size < 1200) return errc::invalid_argument;
  SecureSession s(std::move(config), rng);
  s.initiator_ = true;
  s.peer_ = peer;
  rng.fill(s.local_cid_);
  auto handshake = Handshake::initiate(s.config_.handshake, s.local_cid_, rng);
  if (!handshake) return handshake.error();
  s.handshake_.emplace(std::move(*handshake));
  s.started_ = now;
  s.last_received_ = now;
  s.send_initiation_ = true;
  s.next_retransmit_ = now + s.config_.initial_retransmit;
  s.address_validated_ = true;  // we chose the address ourselves
  return s;
}

Result<SecureSession> SecureSession::accept(SessionConfig config, Handshake handshake,
                                            const SocketAddress& peer, std::size_t initiation_size,
                                            Instant now, RandomSource& rng) {
  if (handshake.initiator()) return errc::invalid_argument;
  SecureSession s(std::move(config), rng);
  s.initiator_ = false;
  s.peer_ = peer;
  s.local_cid_ = handshake.local_cid();
  s.peer_cid_ = handshake.peer_cid();
  s.handshake_.emplace(std::move(handshake));
  s.started_ = now;
  s.last_received_ = now;
  s.unvalidated_received_ = initiation_size;
  s.send_flight_ = true;
  s.next_retransmit_ = now + s.config_.initial_retransmit;
  if (s.handshake_->is_complete()) s.complete_handshake(now);
  return s;
}

void SecureSession::fail(std::error_code ec) {
  if (state_ == SessionState::closed || state_ == SessionState::failed) return;
  state_ = SessionState::failed;
  error_ = ec;
  handshake_.reset();
  outgoing_datagrams_.clear();
  events_.push_back({SessionEvent::Kind::closed, {}, ec});
}

Duration SecureSession::retransmit_interval() const {
  Duration d = config_.initial_retransmit;
  for (int i = 0; i < retransmits_ && d < config_.max_retransmit; ++i) d *= 2;
  return std::min(d, config_.max_retransmit);
}

bool SecureSession::amplification_allows(std::size_t bytes) const {
  return address_validated_ || unvalidated_sent_ + bytes <= 3 * unvalidated_received_;
}

void SecureSession::handle_datagram(Instant now, const SocketAddress& from,
                                    std::span<const std::uint8_t> datagram) {
  if (state_ == SessionState::closed || state_ == SessionState::failed) return;
  auto type = wire::peek_packet_type(datagram);
  if (!type) return;
  if (!address_validated_ && from == peer_) unvalidated_received_ += datagram.size();
  switch (*type) {
    case wire::PacketType::Initiation: on_initiation(now, from, datagram); break;
    case wire::PacketType::Handshake: if (from == peer_) on_handshake_packet(now, datagram); break;
    case wire::PacketType::CookieReply: if (from == peer_) on_cookie_reply(now, datagram); break;
    case wire::PacketType::Data: on_data_packet(now, from, datagram); break;
  }
}

void SecureSession::on_initiation(Instant now, const SocketAddress& from,
                                  std::span<const std::uint8_t> datagram) {
  if (from != peer_ || !handshake_) return;
  auto initiation = wire::decode_initiation(datagram);
  if (!initiation || initiation->version != config_.handshake.version) return;
  if (!mac_equal(mac_keys_->mac1(initiation->mac1_covered), initiation->mac1)) return;
  if (initiation->noise_message.size() < 32) return;
  if (!initiator_) {
    // A retransmitted Initiation: our response was lost. Resend it (amplification permitting).
    if (std::equal(handshake_->initiation_id().begin(), handshake_->initiation_id().end(),
                   initiation->noise_message.begin())) {
      send_flight_ = true;
    }
    return;
  }
  // Simultaneous open: both sides initiated. The Initiation from the smaller connection id wins,
  // on both sides, so exactly one handshake survives. Our own Initiation reflected back loses to
  // nothing and is dropped.
  if (initiation->sender_cid == local_cid_) return;
  if (!cid_less(initiation->sender_cid, local_cid_)) return;  // ours wins; the peer will answer it
  auto responder = Handshake::respond(config_.handshake, local_cid_, *initiation, *rng_);
  if (!responder) return;
  initiator_ = false;
  handshake_.emplace(std::move(*responder));
  peer_cid_ = handshake_->peer_cid();
  send_initiation_ = false;
  send_flight_ = true;
  retransmits_ = 0;
  next_retransmit_ = now + config_.initial_retransmit;
  if (handshake_->is_complete()) complete_handshake(now);
}

void SecureSession::on_handshake_packet(Instant now, std::span<const std::uint8_t> datagram) {
  auto packet = wire::decode_handshake(datagram);
  if (!packet || packet->receiver_cid != local_cid_) return;
  if (!handshake_) {
    // The responder's handshake is finished but the initiator resends message 3: it has not heard
    // from us since. Our ESTABLISHED retransmission answers it; hurry it up.
    if (!initiator_ && send_established_ && !ours_acked_) established_due_ = true;
    return;
  }
  const auto ec = handshake_->handle_handshake_packet(*packet);
  if (ec == errc::peer_key_mismatch || ec == errc::peer_key_missing) {
    fail(ec);
    return;
  }
  if (ec) return;  // forged, duplicate or out of order: ignore
  last_received_ = now;
  address_validated_ = true;  // an authenticated reply at this address
  if (!handshake_->last_flight().empty() && handshake_->initiator()) {
    send_flight_ = true;  // message 3
    retransmits_ = 0;
    next_retransmit_ = now + config_.initial_retransmit;
  }
  send_initiation_ = false;
  if (handshake_->is_complete()) complete_handshake(now);
}

void SecureSession::on_cookie_reply(Instant now, std::span<const std::uint8_t> datagram) {
  if (!handshake_ || !initiator_ || protection_) return;
  auto reply = wire::decode_cookie_reply(datagram);
  if (!reply) return;
  if (!handshake_->handle_cookie_reply(now, *reply)) {
    send_initiation_ = true;  // resend at once, now with mac2
  }
}

void SecureSession::complete_handshake(Instant now) {
  auto outcome = handshake_->finish();
  if (!outcome) {
    fail(outcome.error());
    return;
  }
  const bool keep_flight = handshake_->initiator() && !handshake_->last_flight().empty();
  peer_cid_ = outcome->peer_cid;
  peer_identity_ = outcome->peer_identity;
  peer_payload_ = std::move(outcome->peer_payload);
  PacketProtectionConfig pp;
  pp.send_secret = std::move(outcome->send_secret);
  pp.receive_secret = std::move(outcome->receive_secret);
  pp.algorithm = config_.aead;
  pp.limits = config_.limits;
  auto protection = PacketProtection::create(std::move(pp));
  if (!protection) {
    fail(protection.error());
    return;
  }
  protection_.emplace(std::move(*protection));
  // The responder keeps its Handshake only to resend message 2 if the Initiation is retransmitted;
  // the XX initiator keeps it to resend message 3 until the peer shows it has the keys.
  if (!keep_flight && handshake_->initiator()) handshake_.reset();
  state_ = SessionState::confirming;
  send_established_ = true;
  established_due_ = true;
  retransmits_ = 0;
  next_retransmit_ = now + config_.initial_retransmit;
}

void SecureSession::on_data_packet(Instant now, const SocketAddress& from,
                                   std::span<const std::uint8_t> datagram) {
  auto header = wire::decode_data_header(datagram);
  if (!header || header->receiver_cid != local_cid_ || !protection_) return;
  const std::uint64_t pn = wire::decode_packet_number(largest_received_, header->truncated_pn,
                                                      header->pn_length * 8u);
  if (!replay_.may_accept(pn)) {
    ++stats_.dropped_replayed;
    return;
  }
  std::array<std::uint8_t, kMaxPlaintext> plaintext{};
  const auto header_bytes = datagram.first(header->header_size);
  const auto ciphertext = datagram.subspan(header->header_size);
  if (ciphertext.size() > plaintext.size() + kAeadTag) return;
  auto opened = protection_->open(pn, header->key_phase, header_bytes, ciphertext, plaintext);
  if (!opened) {
    ++stats_.dropped_unauthenticated;
    if (opened.error() == errc::key_limit_reached) fail(opened.error());
    return;
  }
  replay_.mark(pn);
  const std::size_t plaintext_size = opened->size;
  const bool newest = !largest_received_ || pn > *largest_received_;
  if (newest) largest_received_ = pn;
  last_received_ = now;
  stats_.bytes_received += datagram.size();
  address_validated_ = true;
  // The peer's address may change under NAT rebinding; follow it only for authenticated,
  // non-replayed packets that are the newest we have seen.
  if (from != peer_ && newest) peer_ = from;
  // Any authenticated packet shows the peer completed the handshake: stop resending message 3.
  if (handshake_ && handshake_->initiator()) {
    handshake_.reset();
    send_flight_ = false;
  }

  // Only ESTABLISHED and PING need an acknowledgement here: datagrams are unreliable by contract,
  // so acknowledging them would only double the packet count. (The transport acknowledges
  // everything ack-eliciting, for its reliability and congestion control.)
  bool needs_ack = false;
  std::error_code frame_error = wire::parse_frames(
      std::span<const std::uint8_t>(plaintext.data(), plaintext_size), [&](const wire::Frame& frame) {
        if (std::holds_alternative<wire::Ping>(frame)) needs_ack = true;
        if (std::holds_alternative<wire::Established>(frame)) {
          needs_ack = true;
          peer_confirmed_ = true;
        } else if (const auto* ack = std::get_if<wire::Ack>(&frame)) {
          for (const auto& range : ack->ranges) {
            if (range.largest >= next_pn_) return;  // acknowledges what we never sent
            for (std::uint64_t sent : established_pns_) {
              if (sent >= range.smallest && sent <= range.largest) ours_acked_ = true;
            }
          }
          if (!largest_acked_ || ack->largest() > *largest_acked_) largest_acked_ = ack->largest();
        } else if (const auto* dg = std::get_if<wire::Datagram>(&frame)) {
          if (state_ == SessionState::established || state_ == SessionState::confirming) {
            ++stats_.datagrams_received;
            events_.push_back({SessionEvent::Kind::datagram,
                               std::vector<std::uint8_t>(dg->data.begin(), dg->data.end()), {}});
          }
        } else if (const auto* close = std::get_if<wire::Close>(&frame)) {
          state_ = SessionState::closed;
          error_ = errc::connection_closed;
          events_.push_back({SessionEvent::Kind::closed,
                             std::vector<std::uint8_t>(close->reason.begin(), close->reason.end()),
                             errc::connection_closed});
        }
      });
  if (frame_error) {
    fail(errc::protocol_violation);
    return;
  }
  if (state_ == SessionState::closed) return;
  if (needs_ack) {
    ack_pending_ = true;
    if (recently_received_.size() == kRecentlyReceived) recently_received_.pop_front();
    recently_received_.push_back(pn);
  }
  if (state_ == SessionState::confirming && peer_confirmed_ && ours_acked_) {
    state_ = SessionState::established;
    send_established_ = false;
    handshake_.reset();
    events_.push_back({SessionEvent::Kind::established, {}, {}});
  }
}

bool SecureSession::wants_data_packet() const {
  if (!protection_) return false;
  if (close_to_send_ || ack_pending_ || send_ping_) return true;
  if (established_due_) return true;
  return state_ == SessionState::established && !outgoing_datagrams_.empty();
}

std::optional<Transmit> SecureSession::emit(std::span<std::uint8_t> out,
                                            std::span<const std::uint8_t> bytes) {
  if (bytes.size() > out.size() || !amplification_allows(bytes.size())) return std::nullopt;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  if (!address_validated_) unvalidated_sent_ += bytes.size();
  stats_.bytes_sent += bytes.size();
  return Transmit{peer_, bytes.size()};
}

std::optional<Transmit> SecureSession::poll_transmit(Instant now, std::span<std::uint8_t> out) {
  if (state_ == SessionState::failed) return std::nullopt;
  if (state_ == SessionState::closed && !close_to_send_) return std::nullopt;
  if (send_initiation_ && handshake_ && initiator_) {
    const auto datagram = handshake_->initiation_datagram(now);
    auto t = emit(out, datagram);
    if (t) {
      send_initiation_ = false;
      last_sent_ = now;
    }
    return t;
  }
  if (send_flight_ && handshake_ && !handshake_->last_flight().empty()) {
    auto t = emit(out, handshake_->last_flight());
    if (t) {
      send_flight_ = false;
      last_sent_ = now;
    }
    return t;
  }
  if (wants_data_packet()) return emit_data_packet(now, out);
  return std::nullopt;
}

std::optional<Transmit> SecureSession::emit_data_packet(Instant now, std::span<std::uint8_t> out) {
  if (next_pn_ > wire::kMaxPacketNumber) {
    fail(errc::key_limit_reached);
    return std::nullopt;
  }
  const std::size_t limit = std::min(out.size(), config_.max_datagram_size);
  std::array<std::uint8_t, kMaxPlaintext> plaintext{};
  const std::size_t reserve = 1 + wire::kConnectionIdSize + 8 + kAeadTag;
  if (limit <= reserve) return std::nullopt;
  wire::Writer payload(std::span<std::uint8_t>(plaintext.data(), limit - reserve));

  bool carries_established = false;
  if (close_to_send_) {
    wire::Close close;
    close.error_code = close_to_send_->first;
    close.reason = std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(close_to_send_->second.data()), close_to_send_->second.size());
    if (wire::encode_frame(close, payload)) return std::nullopt;
  } else {
    // ACKs are cumulative over the recently received packets, and ride along with every
    // ESTABLISHED: a lost ACK is repaired by the next packet rather than by a backoff period.
    if ((ack_pending_ || established_due_) && !recently_received_.empty()) {
      std::vector<std::uint64_t> pns(recently_received_.begin(), recently_received_.end());
      std::sort(pns.begin(), pns.end(), std::greater<>());
      pns.erase(std::unique(pns.begin(), pns.end()), pns.end());
      wire::Ack ack;
      for (std::uint64_t pn : pns) {
        if (!ack.ranges.empty() && (ack.ranges.back().smallest == pn || ack.ranges.back().smallest == pn + 1)) {
          ack.ranges.back().smallest = pn;
        } else {
          ack.ranges.push_back({pn, pn});
        }
      }
      if (wire::encode_frame(ack, payload)) return std::nullopt;
      ack_pending_ = false;
    }
    if (established_due_) {
      if (!wire::encode_frame(wire::Established{}, payload)) carries_established = true;
    }
    if (send_ping_) {
      if (!wire::encode_frame(wire::Ping{}, payload)) send_ping_ = false;
    }
    while (state_ == SessionState::established && !outgoing_datagrams_.empty()) {
      const auto& data = outgoing_datagrams_.front();
      wire::Datagram dg;
      dg.data = data;
      if (wire::encoded_size(wire::Frame{dg}) > payload.remaining()) break;
      if (wire::encode_frame(dg, payload)) break;
      ++stats_.datagrams_sent;
      outgoing_datagrams_.pop_front();
    }
  }
  if (payload.position() == 0) return std::nullopt;

  const std::uint64_t pn = next_pn_;
  const wire::DataHeader header =
      wire::make_data_header(*peer_cid_, protection_->send_key_phase(), pn, largest_acked_);
  auto header_size = wire::encode_data_header(header, out);
  if (!header_size) return std::nullopt;
  const std::size_t total = *header_size + payload.position() + kAeadTag;
  if (!amplification_allows(total)) return std::nullopt;
  auto sealed = protection_->seal(pn, out.first(*header_size),
                                  std::span<const std::uint8_t>(plaintext.data(), payload.position()),
                                  out.subspan(*header_size));
  if (!sealed) {
    fail(sealed.error());
    return std::nullopt;
  }
  ++next_pn_;
  if (carries_established) {
    established_due_ = false;
    if (established_pns_.size() < 64) established_pns_.push_back(pn);
  }
  if (close_to_send_) {
    close_to_send_.reset();
    state_ = SessionState::closed;
  }
  const std::size_t size = *header_size + sealed->size;
  if (!address_validated_) unvalidated_sent_ += size;
  stats_.bytes_sent += size;
  last_sent_ = now;
  return Transmit{peer_, size};
}

bool SecureSession::retransmission_pending() const {
  const bool initiation = state_ == SessionState::handshaking && handshake_ && initiator_;
  const bool message3 = handshake_ && handshake_->initiator() && protection_ &&
                        !handshake_->last_flight().empty();
  const bool established = send_established_ && !ours_acked_;
  return initiation || message3 || established;
}

std::optional<Instant> SecureSession::poll_timeout() const {
  if (state_ == SessionState::closed || state_ == SessionState::failed) return std::nullopt;
  Instant t = last_received_ + config_.idle_timeout;
  if (state_ != SessionState::established) t = std::min(t, started_ + config_.handshake_timeout);
  if (retransmission_pending()) t = std::min(t, next_retransmit_);
  if (state_ == SessionState::established) {
    t = std::min(t, std::max(last_sent_, last_received_) + config_.keepalive_interval);
  }
  return t;
}

void SecureSession::handle_timeout(Instant now) {
  if (state_ == SessionState::closed || state_ == SessionState::failed) return;
  if (now >= last_received_ + config_.idle_timeout) {
    fail(errc::connection_timed_out);
    return;
  }
  // Key confirmation belongs to the handshake: both must be done within the handshake timeout.
  if (state_ != SessionState::established && now >= started_ + config_.handshake_timeout) {
    fail(errc::handshake_timeout);
    return;
  }
  if (retransmission_pending() && now >= next_retransmit_) {
    // A responder never resends on its own timer, only when the Initiation comes again: that keeps
    // it inside the anti-amplification budget and makes it no reflector.
    if (state_ == SessionState::handshaking && handshake_ && initiator_) send_initiation_ = true;
    if (handshake_ && handshake_->initiator() && protection_ && !handshake_->last_flight().empty()) {
      send_flight_ = true;
    }
    if (send_established_ && !ours_acked_) established_due_ = true;
    ++retransmits_;
    ++stats_.handshake_retransmits;
    next_retransmit_ = now + retransmit_interval();
  }
  if (state_ == SessionState::established &&
      now >= std::max(last_sent_, last_received_) + config_.keepalive_interval) {
    send_ping_ = true;
  }
}

std::optional<SessionEvent> SecureSession::poll_event() {
  if (events_.empty()) return std::nullopt;
  SessionEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::size_t SecureSession::max_datagram_payload() const {
  // header (1 + cid + up to 8-byte pn) + frame type + length varint + AEAD tag
  return config_.max_datagram_size - (1 + wire::kConnectionIdSize + 8) - 1 - 2 - kAeadTag;
}

std::error_code SecureSession::send_datagram(std::span<const std::uint8_t> payload) {
  if (state_ != SessionState::established) return errc::invalid_state;
  if (payload.size() > max_datagram_payload()) return errc::invalid_argument;
  if (outgoing_datagrams_.size() >= config_.max_queued_datagrams) outgoing_datagrams_.pop_front();
  outgoing_datagrams_.emplace_back(payload.begin(), payload.end());
  return {};
}

void SecureSession::close(std::uint64_t code, std::string_view reason) {
  if (state_ == SessionState::closed || state_ == SessionState::failed) return;
  if (!protection_) {
    state_ = SessionState::closed;
    error_ = errc::connection_closed;
    return;
  }
  close_to_send_.emplace(code, std::string(reason.substr(0, 256)));
}

}  // namespace srudp::crypto
