#include "crypto/handshake.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "common/sodium.hpp"

namespace srudp::crypto {
namespace {

constexpr std::size_t kMaxPayload = 512;         // application payload (transport parameters)
constexpr std::size_t kMaxNoiseMessage = 1024;   // our messages are far smaller
constexpr std::string_view kPrologueLabel = "srudp/1 handshake";

NoisePatternId pattern_for(HandshakeMode mode) {
  switch (mode) {
    case HandshakeMode::psk: return NoisePatternId::NNpsk0;
    case HandshakeMode::identity: return NoisePatternId::XX;
    case HandshakeMode::identity_psk: return NoisePatternId::XXpsk3;
  }
  return NoisePatternId::NNpsk0;
}

// The Noise message (1-based) in which each side sends its first encrypted payload, which carries
// its connection id and transport parameters.
int payload_message(HandshakeMode mode, bool initiator) {
  if (mode == HandshakeMode::psk) return initiator ? 1 : 2;
  return initiator ? 3 : 2;
}

int message_count(HandshakeMode mode) { return mode == HandshakeMode::psk ? 2 : 3; }

}  // namespace

std::vector<std::uint8_t> handshake_prologue(std::uint32_t version,
                                             const wire::ConnectionId& initiator_cid) {
  std::vector<std::uint8_t> p(kPrologueLabel.begin(), kPrologueLabel.end());
  for (int shift = 24; shift >= 0; shift -= 8) p.push_back(static_cast<std::uint8_t>(version >> shift));
  p.insert(p.end(), initiator_cid.begin(), initiator_cid.end());
  return p;
}

HandshakeConfig::HandshakeConfig(const HandshakeConfig& other)
    : pinned_peer(other.pinned_peer), payload(other.payload), version(other.version) {
  if (other.psk) psk = other.psk->clone();
  if (other.identity) identity = other.identity->clone();
}

HandshakeConfig& HandshakeConfig::operator=(const HandshakeConfig& other) {
  if (this != &other) *this = HandshakeConfig(other);
  return *this;
}

Result<HandshakeMode> HandshakeConfig::mode() const {
  if (payload.size() > kMaxPayload) return errc::invalid_argument;
  if (identity && psk) return HandshakeMode::identity_psk;
  if (identity) return HandshakeMode::identity;
  if (psk) {
    if (pinned_peer) return errc::invalid_argument;  // pinning needs identity keys on both sides
    return HandshakeMode::psk;
  }
  return errc::invalid_argument;  // srudp never runs an unauthenticated handshake
}

Handshake::Handshake(Handshake&&) noexcept = default;
Handshake& Handshake::operator=(Handshake&&) noexcept = default;
Handshake::~Handshake() = default;

std::vector<std::uint8_t> Handshake::encrypted_payload() const {
  std::vector<std::uint8_t> p(local_cid_.begin(), local_cid_.end());
  p.insert(p.end(), payload_.begin(), payload_.end());
  return p;
}

std::error_code Handshake::read_peer_payload(std::span<const std::uint8_t> plaintext) {
  if (plaintext.size() < wire::kConnectionIdSize) return errc::malformed;
  wire::ConnectionId cid{};
  std::copy_n(plaintext.begin(), cid.size(), cid.begin());
  if (peer_cid_ && *peer_cid_ != cid) return errc::protocol_violation;  // header and payload disagree
  peer_cid_ = cid;
  peer_payload_.assign(plaintext.begin() + static_cast<std::ptrdiff_t>(cid.size()), plaintext.end());
  return {};
}

std::error_code Handshake::check_peer_identity(const HandshakeState& noise) const {
  if (!pinned_peer_) return {};
  const auto rs = noise.remote_static();
  if (!rs) return errc::peer_key_missing;
  if (!(*rs == *pinned_peer_)) return errc::peer_key_mismatch;
  return {};
}

Result<Handshake> Handshake::start(const HandshakeConfig& config, const wire::ConnectionId& local_cid,
                                   bool initiator, const wire::ConnectionId& initiator_cid, RandomSource& rng) {
  ensure_sodium_initialized();
  auto mode = config.mode();
  if (!mode) return mode.error();
  Handshake h;
  h.initiator_ = initiator;
  h.mode_ = *mode;
  h.version_ = config.version;
  h.local_cid_ = local_cid;
  h.pinned_peer_ = config.pinned_peer;
  h.payload_ = config.payload;

  const auto prologue = handshake_prologue(config.version, initiator_cid);
  NoiseConfig nc;
  nc.pattern = pattern_for(*mode);
  nc.initiator = initiator;
  nc.prologue = prologue;
  nc.local_static = config.identity ? &*config.identity : nullptr;
  nc.psk = config.psk ? &*config.psk : nullptr;
  nc.rng = &rng;
  auto state = HandshakeState::create(nc);
  if (!state) return state.error();
  h.noise_.emplace(std::move(*state));
  return h;
}

std::error_code Handshake::write_flight(std::uint8_t message_index) {
  std::vector<std::uint8_t> message(kMaxNoiseMessage);
  auto written = noise_->write_message(encrypted_payload(), message);
  if (!written) return written.error();
  message.resize(*written);
  wire::Handshake packet;
  packet.version = version_;
  packet.receiver_cid = *peer_cid_;
  packet.sender_cid = local_cid_;
  packet.message_index = message_index;
  packet.noise_message = message;
  flight_.resize(wire::kHandshakeFixedSize + 8 + message.size());
  auto encoded = wire::encode_handshake(packet, flight_);
  if (!encoded) return encoded.error();
  flight_.resize(*encoded);
  return {};
}

Result<Handshake> Handshake::initiate(const HandshakeConfig& config,
                                      const wire::ConnectionId& local_cid, RandomSource& rng) {
  auto h = start(config, local_cid, true, local_cid, rng);
  if (!h) return h.error();
  h->mac_keys_ = std::make_unique<MacKeys>(config.psk ? &*config.psk : nullptr);
  const auto payload = payload_message(h->mode_, true) == 1 ? h->encrypted_payload()
                                                            : std::vector<std::uint8_t>{};
  h->message1_.resize(kMaxNoiseMessage);
  auto written = h->noise_->write_message(payload, h->message1_);
  if (!written) return written.error();
  h->message1_.resize(*written);
  std::copy_n(h->message1_.begin(), h->initiation_id_.size(), h->initiation_id_.begin());
  return h;
}

Result<Handshake> Handshake::respond(const HandshakeConfig& config,
                                     const wire::ConnectionId& local_cid,
                                     const wire::Initiation& initiation, RandomSource& rng) {
  if (initiation.version != config.version) return errc::unsupported_version;
  if (initiation.noise_message.size() < 32) return errc::malformed;
  auto h = start(config, local_cid, false, initiation.sender_cid, rng);
  if (!h) return h.error();
  h->peer_cid_ = initiation.sender_cid;
  std::copy_n(initiation.noise_message.begin(), h->initiation_id_.size(), h->initiation_id_.begin());

  std::vector<std::uint8_t> plaintext(kMaxNoiseMessage);
  auto read = h->noise_->read_message(initiation.noise_message, plaintext);
  if (!read) return read.error();  // wrong PSK, corrupted or forged: the caller drops silently
  plaintext.resize(*read);
  if (payload_message(h->mode_, true) == 1) {
    if (auto ec = h->read_peer_payload(plaintext)) return ec;
  }
  // Message 2. In the two-message pattern the responder is done; pinning cannot apply there.
  if (auto ec = h->write_flight(2)) return ec;
  return h;
}

bool Handshake::is_complete() const { return !failed_ && noise_ && noise_->is_complete(); }

std::vector<std::uint8_t> Handshake::initiation_datagram(Instant now) {
  const std::size_t total = std::max(wire::kMinInitiationSize,
                                     wire::kInitiationFixedSize + 8 + message1_.size() + 2 * wire::kMacSize);
  std::vector<std::uint8_t> out(total);
  auto size = wire::encode_initiation(version_, local_cid_, message1_, out, total);
  if (!size) return {};
  out.resize(*size);
  last_mac1_ = mac_keys_->mac1(wire::initiation_mac1_input(out));
  std::copy(last_mac1_.begin(), last_mac1_.end(), wire::initiation_mac1(out).begin());
  const Mac mac2 = cookies_.mac2(now, wire::initiation_mac2_input(out));
  std::copy(mac2.begin(), mac2.end(), wire::initiation_mac2(out).begin());
  return out;
}

std::error_code Handshake::handle_cookie_reply(Instant now, const wire::CookieReply& reply) {
  if (!initiator_ || reply.receiver_cid != local_cid_) return errc::unexpected_packet;
  std::array<std::uint8_t, wire::kCookieNonceSize + wire::kEncryptedCookieSize> sealed{};
  std::copy(reply.nonce.begin(), reply.nonce.end(), sealed.begin());
  std::copy(reply.encrypted_cookie.begin(), reply.encrypted_cookie.end(), sealed.begin() + wire::kCookieNonceSize);
  return cookies_.accept_reply(now, *mac_keys_, sealed, last_mac1_);
}

std::error_code Handshake::handle_handshake_packet(const wire::Handshake& packet) {
  if (failed_ || !noise_) return errc::invalid_state;
  if (packet.version != version_) return errc::unsupported_version;
  if (packet.receiver_cid != local_cid_) return errc::unexpected_packet;
  const int expected = initiator_ ? 2 : 3;
  if (packet.message_index != expected || noise_->is_complete() || noise_->is_my_turn()) {
    return errc::unexpected_packet;  // duplicate or out of order: harmless, ignore
  }
  if (peer_cid_ && packet.sender_cid != *peer_cid_) return errc::unexpected_packet;

  // The message is read on a copy of the Noise state, which replaces ours only when the message
  // authenticates, carries a consistent payload and reveals the pinned identity. A well-formed
  // message from someone else (a man in the middle answering our cleartext Initiation under his
  // own static key) is thus dropped like a corrupted one, and the genuine answer still completes.
  HandshakeState attempt = noise_->clone();
  std::vector<std::uint8_t> plaintext(kMaxNoiseMessage);
  auto read = attempt.read_message(packet.noise_message, plaintext);
  if (!read) return read.error();
  plaintext.resize(*read);
  // The peer's identity is known after message 2 in XX: check the pin before revealing ours.
  if (auto ec = check_peer_identity(attempt)) return ec;
  const bool carries_peer_payload = payload_message(mode_, !initiator_) == expected;
  if (carries_peer_payload) {
    const auto previous_cid = peer_cid_;
    if (!peer_cid_) peer_cid_ = packet.sender_cid;
    if (auto ec = read_peer_payload(plaintext)) {
      peer_cid_ = previous_cid;
      return ec;
    }
  }
  noise_ = std::move(attempt);
  if (initiator_ && message_count(mode_) == 3) {
    if (auto ec = write_flight(3)) {
      failed_ = true;
      return ec;
    }
  } else if (initiator_) {
    flight_.clear();
  }
  return {};
}

Result<HandshakeOutcome> Handshake::finish() {
  if (!is_complete() || !peer_cid_) return errc::invalid_state;
  if (auto ec = check_peer_identity(*noise_)) return ec;
  auto keys = noise_->split();
  if (!keys) return keys.error();
  HandshakeOutcome out;
  out.initiator = initiator_;
  out.send_secret = initiator_ ? std::move(keys->initiator_to_responder) : std::move(keys->responder_to_initiator);
  out.receive_secret = initiator_ ? std::move(keys->responder_to_initiator) : std::move(keys->initiator_to_responder);
  out.local_cid = local_cid_;
  out.peer_cid = *peer_cid_;
  out.peer_identity = noise_->remote_static();
  out.peer_payload = std::move(peer_payload_);
  const auto hash = noise_->handshake_hash();
  std::copy(hash.begin(), hash.end(), out.handshake_hash.begin());
  noise_.reset();
  return out;
}

}  // namespace srudp::crypto
