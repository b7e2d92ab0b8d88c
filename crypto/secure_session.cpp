#include "crypto/secure_session.hpp"

#include <algorithm>

#include "wire/buffer.hpp"
#include "wire/frame.hpp"

namespace srudp::crypto {
namespace {

constexpr std::size_t kAeadTag = 16;
constexpr std::size_t kRecentlyReceived = 32;  // packet numbers an ACK frame re-acknowledges
constexpr std::size_t kMaxPlaintext = 2048;

}  // namespace


SecureSession::SecureSession(SessionConfig config, RandomSource& rng) : config_(std::move(config)), rng_(&rng) {}

SecureSession::SecureSession(SecureSession&&) noexcept = default;
SecureSession& SecureSession::operator=(SecureSession&&) noexcept = default;
SecureSession::~SecureSession() = default;

Result<SecureSession> SecureSession::connect(SessionConfig config, const SocketAddress& peer,
                                             Instant now, RandomSource& rng) {
  if (config.max_datagram_size < 1200) return errc::invalid_argument;
  SecureSession s(std::move(config), rng);
  auto driver = HandshakeDriver::connect(s.config_.handshake, peer, now, rng, s.retransmit_policy());
  if (!driver) return driver.error();
  s.driver_.emplace(std::move(*driver));
  s.initiator_ = true;
  s.peer_ = peer;
  s.local_cid_ = s.driver_->local_cid();
  s.started_ = now;
  s.last_received_ = now;
  s.address_validated_ = true;  // we chose the address ourselves
  return s;
}

Result<SecureSession> SecureSession::accept(SessionConfig config, Handshake handshake,
                                            const SocketAddress& peer, std::size_t initiation_size,
                                            Instant now, RandomSource& rng) {
  SecureSession s(std::move(config), rng);
  auto driver = HandshakeDriver::accept(s.config_.handshake, std::move(handshake), peer, now, s.retransmit_policy());
  if (!driver) return driver.error();
  s.driver_.emplace(std::move(*driver));
  s.initiator_ = false;
  s.peer_ = peer;
  s.local_cid_ = s.driver_->local_cid();
  s.peer_cid_ = s.driver_->peer_cid();
  s.started_ = now;
  s.last_received_ = now;
  s.unvalidated_received_ = initiation_size;
  if (s.driver_->is_complete()) s.complete_handshake(now);
  return s;
}

RetransmitPolicy SecureSession::retransmit_policy() const {
  return RetransmitPolicy{config_.initial_retransmit, config_.max_retransmit};
}

void SecureSession::fail(std::error_code ec) {
  if (state_ == SessionState::closed || state_ == SessionState::failed) return;
  state_ = SessionState::failed;
  error_ = ec;
  driver_.reset();
  outgoing_datagrams_.clear();
  events_.push_back({SessionEvent::Kind::closed, {}, ec});
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
  if (*type == wire::PacketType::Data) {
    on_data_packet(now, from, datagram);
    return;
  }
  if (!driver_) return;
  if (*type == wire::PacketType::Handshake && protection_ && !initiator_ && send_established_ && !ours_acked_) {
    // The XX initiator resends message 3: it has not heard from us since. Hurry ESTABLISHED up.
    established_due_ = true;
  }
  if (auto ec = driver_->handle_packet(now, from, datagram)) {
    fail(ec);
    return;
  }
  initiator_ = driver_->initiator();
  if (driver_->heard_authenticated_reply()) {
    address_validated_ = true;  // an authenticated reply at this address
    last_received_ = now;
  }
  if (!protection_ && driver_->is_complete()) complete_handshake(now);
}

void SecureSession::complete_handshake(Instant now) {
  auto outcome = driver_->take_outcome();
  if (!outcome) {
    fail(outcome.error());
    return;
  }
  initiator_ = outcome->initiator;
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
  std::array<std::uint8_t, kMaxPlaintext> plaintext;  // written before read: no zero-fill per packet
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
  if (driver_) driver_->peer_has_keys();

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
    driver_.reset();
    events_.push_back({SessionEvent::Kind::established, {}, {}});
  }
}

bool SecureSession::wants_data_packet() const {
  if (!protection_) return false;
  if (close_to_send_ || ack_pending_ || send_ping_) return true;
  if (established_due_) return true;
  return state_ == SessionState::established && !outgoing_datagrams_.empty();
}

std::optional<Transmit> SecureSession::poll_transmit(Instant now, std::span<std::uint8_t> out) {
  if (state_ == SessionState::failed) return std::nullopt;
  if (state_ == SessionState::closed && !close_to_send_) return std::nullopt;
  if (driver_) {
    if (auto size = driver_->poll_transmit(now, out)) {
      // A flight the anti-amplification budget does not allow is not sent; the peer retries.
      if (!amplification_allows(*size)) return std::nullopt;
      if (!address_validated_) unvalidated_sent_ += *size;
      stats_.bytes_sent += *size;
      last_sent_ = now;
      return Transmit{peer_, *size};
    }
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
  std::array<std::uint8_t, kMaxPlaintext> plaintext;  // written before read: no zero-fill per packet
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

bool SecureSession::retransmission_pending() const { return send_established_ && !ours_acked_; }

std::optional<Instant> SecureSession::poll_timeout() const {
  if (state_ == SessionState::closed || state_ == SessionState::failed) return std::nullopt;
  Instant t = last_received_ + config_.idle_timeout;
  if (state_ != SessionState::established) t = std::min(t, started_ + config_.handshake_timeout);
  if (driver_) {
    if (auto d = driver_->poll_timeout()) t = std::min(t, *d);
  }
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
    const std::error_code rejection = driver_ ? driver_->identity_rejection() : std::error_code{};
    fail(rejection ? rejection : make_error_code(errc::handshake_timeout));
    return;
  }
  if (driver_) {
    const int before = driver_->retransmits();
    driver_->handle_timeout(now);
    stats_.handshake_retransmits += static_cast<std::uint64_t>(driver_->retransmits() - before);
  }
  if (retransmission_pending() && now >= next_retransmit_) {
    established_due_ = true;
    ++stats_.handshake_retransmits;
    ++retransmits_;
    next_retransmit_ = now + retransmit_policy().interval(retransmits_);
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
