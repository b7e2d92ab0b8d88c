#include "crypto/noise_handshake_state.hpp"

#include <algorithm>
#include <array>

namespace srudp::crypto {
namespace {

constexpr std::size_t kDhLen = kKeySize;  // X25519 public keys and shared secrets
constexpr std::size_t kTagLen = CipherState::kTagSize;

bool contains(std::span<const NoiseToken> tokens, NoiseToken token) {
  return std::find(tokens.begin(), tokens.end(), token) != tokens.end();
}

// Whether the side playing `initiator` must own a static key: it appears in its pre-message or
// it sends an "s" token in one of its messages.
bool needs_local_static(const NoisePattern& pattern, bool initiator) {
  if (contains(initiator ? pattern.initiator_premessage : pattern.responder_premessage,
               NoiseToken::s)) {
    return true;
  }
  for (std::size_t i = 0; i < pattern.messages.size(); ++i) {
    if (written_by_initiator(i) == initiator && contains(pattern.messages[i], NoiseToken::s)) {
      return true;
    }
  }
  return false;
}

// Whether the cipher has a key at the start of message `index` (it gets one at the first DH or
// psk token, or at the first "e" when a psk is in use, and keeps it).
bool has_key_before(const NoisePattern& pattern, std::size_t index) {
  for (std::size_t i = 0; i < index && i < pattern.messages.size(); ++i) {
    for (const NoiseToken token : pattern.messages[i]) {
      if (token != NoiseToken::s && (token != NoiseToken::e || pattern.uses_psk)) return true;
    }
  }
  return false;
}

// Bytes that message `index` adds to its payload: 32 per "e", 32 (+16 once keyed) per "s", and a
// 16-byte tag on the payload once keyed.
std::size_t overhead_of(const NoisePattern& pattern, std::size_t index) {
  if (index >= pattern.messages.size()) return 0;
  bool keyed = has_key_before(pattern, index);
  std::size_t total = 0;
  for (const NoiseToken token : pattern.messages[index]) {
    switch (token) {
      case NoiseToken::e:
        total += kDhLen;
        if (pattern.uses_psk) keyed = true;
        break;
      case NoiseToken::s:
        total += kDhLen + (keyed ? kTagLen : 0);
        break;
      case NoiseToken::ee:
      case NoiseToken::es:
      case NoiseToken::se:
      case NoiseToken::ss:
      case NoiseToken::psk:
        keyed = true;
        break;
    }
  }
  return total + (keyed ? kTagLen : 0);
}

bool overlaps(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.empty() || b.empty()) return false;
  return a.data() < b.data() + b.size() && b.data() < a.data() + a.size();
}

}  // namespace

HandshakeState::Progress HandshakeState::Progress::clone() const {
  Progress copy;
  copy.symmetric = symmetric.clone();
  if (ephemeral) copy.ephemeral = ephemeral->clone();
  copy.remote_ephemeral = remote_ephemeral;
  copy.remote_static = remote_static;
  copy.next_message = next_message;
  return copy;
}

HandshakeState HandshakeState::clone() const {
  HandshakeState copy;
  copy.pattern_ = pattern_;
  copy.initiator_ = initiator_;
  if (local_static_) copy.local_static_ = local_static_->clone();
  if (psk_) copy.psk_ = psk_->clone();
  if (fixed_ephemeral_) copy.fixed_ephemeral_ = fixed_ephemeral_->clone();
  copy.rng_ = rng_;
  copy.progress_ = progress_.clone();
  copy.failed_ = failed_;
  copy.split_done_ = split_done_;
  return copy;
}

Result<HandshakeState> HandshakeState::create(const NoiseConfig& config) {
  if (static_cast<std::size_t>(config.pattern) >= all_noise_patterns().size()) {
    return errc::invalid_argument;
  }
  const NoisePattern& pattern = noise_pattern(config.pattern);
  const bool initiator = config.initiator;
  const auto& peer_premessage =
      initiator ? pattern.responder_premessage : pattern.initiator_premessage;

  if (config.rng == nullptr && config.fixed_ephemeral == nullptr) return errc::invalid_argument;
  if (needs_local_static(pattern, initiator) && config.local_static == nullptr) {
    return errc::invalid_argument;
  }
  // A remote key the pattern does not use would look like pinning but protect nothing.
  if (contains(peer_premessage, NoiseToken::s) != config.remote_static.has_value()) {
    return errc::invalid_argument;
  }
  // Likewise a PSK for a pattern without a psk token would silently not be checked.
  if (pattern.uses_psk != (config.psk != nullptr)) return errc::invalid_argument;

  HandshakeState state;
  state.pattern_ = &pattern;
  state.initiator_ = initiator;
  state.rng_ = config.rng;
  if (config.local_static != nullptr) state.local_static_ = config.local_static->clone();
  if (config.psk != nullptr) state.psk_ = config.psk->clone();
  if (config.fixed_ephemeral != nullptr) state.fixed_ephemeral_ = config.fixed_ephemeral->clone();
  state.progress_.remote_static = config.remote_static;

  SymmetricState& symmetric = state.progress_.symmetric;
  symmetric.initialize(noise_protocol_name(config.pattern));
  symmetric.mix_hash(config.prologue);
  // Pre-messages: the initiator's first, then the responder's. Only "s" occurs in srudp's table.
  for (const bool premessage_of_initiator : {true, false}) {
    const auto& tokens =
        premessage_of_initiator ? pattern.initiator_premessage : pattern.responder_premessage;
    for (const NoiseToken token : tokens) {
      if (token != NoiseToken::s) return errc::invalid_argument;
      const PublicKey& key = premessage_of_initiator == initiator
                                 ? state.local_static_->public_key
                                 : *state.progress_.remote_static;
      symmetric.mix_hash(key.bytes);
    }
  }
  return state;
}

bool HandshakeState::is_complete() const noexcept {
  return progress_.next_message >= pattern_->messages.size();
}

bool HandshakeState::is_my_turn() const noexcept {
  return !failed_ && !is_complete() && written_by_initiator(progress_.next_message) == initiator_;
}

std::size_t HandshakeState::next_message_overhead() const noexcept {
  return overhead_of(*pattern_, progress_.next_message);
}

std::size_t HandshakeState::message_overhead(NoisePatternId pattern, std::size_t message_index) {
  if (static_cast<std::size_t>(pattern) >= all_noise_patterns().size()) return 0;
  return overhead_of(noise_pattern(pattern), message_index);
}

std::size_t HandshakeState::max_message_overhead(NoisePatternId pattern) {
  if (static_cast<std::size_t>(pattern) >= all_noise_patterns().size()) return 0;
  const NoisePattern& p = noise_pattern(pattern);
  std::size_t largest = 0;
  for (std::size_t i = 0; i < p.messages.size(); ++i) largest = std::max(largest, overhead_of(p, i));
  return largest;
}

std::error_code HandshakeState::mix_dh(Progress& progress, NoiseToken token) const {
  // Which of our keys meets which of theirs (section 5.3, WriteMessage/ReadMessage):
  //   ee: e with re;  ss: s with rs;
  //   es: initiator e with rs, responder s with re;  se: initiator s with re, responder e with rs.
  const bool local_ephemeral =
      token == NoiseToken::ee || (token == NoiseToken::es && initiator_) ||
      (token == NoiseToken::se && !initiator_);
  const bool remote_ephemeral =
      token == NoiseToken::ee || (token == NoiseToken::es && !initiator_) ||
      (token == NoiseToken::se && initiator_);
  const std::optional<KeyPair>& local = local_ephemeral ? progress.ephemeral : local_static_;
  const std::optional<PublicKey>& remote =
      remote_ephemeral ? progress.remote_ephemeral : progress.remote_static;
  if (!local || !remote) return errc::invalid_state;  // the pattern table guarantees both
  Result<Secret<kKeySize>> shared = x25519(local->secret, *remote);
  if (!shared) return shared.error();
  progress.symmetric.mix_key(shared->bytes());
  return {};
}

Result<std::size_t> HandshakeState::write_message(std::span<const std::uint8_t> payload,
                                                  std::span<std::uint8_t> out) {
  if (!is_my_turn()) return errc::invalid_state;
  const std::size_t total = next_message_overhead() + payload.size();
  if (total > kMaxMessageSize || payload.size() > kMaxMessageSize) return errc::invalid_argument;
  if (out.size() < total) return errc::buffer_too_small;
  if (overlaps(payload, out)) return errc::invalid_argument;

  // From here on a failure leaves a half-written state: mark it failed.
  Progress& progress = progress_;
  std::size_t pos = 0;
  auto fail = [this](std::error_code ec) -> Result<std::size_t> {
    failed_ = true;
    return ec;
  };
  for (const NoiseToken token : pattern_->messages[progress.next_message]) {
    switch (token) {
      case NoiseToken::e: {
        progress.ephemeral =
            fixed_ephemeral_ ? fixed_ephemeral_->clone() : KeyPair::generate(*rng_);
        const auto& key = progress.ephemeral->public_key.bytes;
        std::copy(key.begin(), key.end(), out.begin() + static_cast<std::ptrdiff_t>(pos));
        pos += key.size();
        progress.symmetric.mix_hash(key);
        if (pattern_->uses_psk) progress.symmetric.mix_key(key);
        break;
      }
      case NoiseToken::s: {
        Result<std::size_t> written =
            progress.symmetric.encrypt_and_hash(local_static_->public_key.bytes, out.subspan(pos));
        if (!written) return fail(written.error());
        pos += *written;
        break;
      }
      case NoiseToken::psk:
        progress.symmetric.mix_key_and_hash(psk_->bytes());
        break;
      case NoiseToken::ee:
      case NoiseToken::es:
      case NoiseToken::se:
      case NoiseToken::ss:
        if (const std::error_code ec = mix_dh(progress, token)) return fail(ec);
        break;
    }
  }
  Result<std::size_t> written = progress.symmetric.encrypt_and_hash(payload, out.subspan(pos));
  if (!written) return fail(written.error());
  pos += *written;
  ++progress.next_message;
  if (is_complete()) on_complete();
  return pos;
}

Result<std::size_t> HandshakeState::read_message(std::span<const std::uint8_t> message,
                                                 std::span<std::uint8_t> payload_out) {
  if (failed_ || is_complete() || is_my_turn()) return errc::invalid_state;
  if (message.size() > kMaxMessageSize) return errc::malformed;
  const std::size_t overhead = next_message_overhead();
  if (message.size() < overhead) return errc::truncated;
  if (payload_out.size() < message.size() - overhead) return errc::buffer_too_small;
  if (overlaps(message, payload_out)) return errc::invalid_argument;

  Progress next = progress_.clone();
  std::size_t pos = 0;
  for (const NoiseToken token : pattern_->messages[next.next_message]) {
    switch (token) {
      case NoiseToken::e: {
        PublicKey key;
        std::copy_n(message.begin() + static_cast<std::ptrdiff_t>(pos), key.bytes.size(),
                    key.bytes.begin());
        pos += key.bytes.size();
        next.remote_ephemeral = key;
        next.symmetric.mix_hash(key.bytes);
        if (pattern_->uses_psk) next.symmetric.mix_key(key.bytes);
        break;
      }
      case NoiseToken::s: {
        const std::size_t length = kDhLen + (next.symmetric.has_key() ? kTagLen : 0);
        PublicKey key;
        Result<std::size_t> read =
            next.symmetric.decrypt_and_hash(message.subspan(pos, length), key.bytes);
        if (!read) return read.error();
        pos += length;
        next.remote_static = key;
        break;
      }
      case NoiseToken::psk:
        next.symmetric.mix_key_and_hash(psk_->bytes());
        break;
      case NoiseToken::ee:
      case NoiseToken::es:
      case NoiseToken::se:
      case NoiseToken::ss:
        if (const std::error_code ec = mix_dh(next, token)) return ec;
        break;
    }
  }
  Result<std::size_t> read = next.symmetric.decrypt_and_hash(message.subspan(pos), payload_out);
  if (!read) return read.error();
  ++next.next_message;
  progress_ = std::move(next);  // the whole message checked out: commit
  if (is_complete()) on_complete();
  return read;
}

void HandshakeState::on_complete() {
  // Forward secrecy: the ephemeral secret must not outlive the handshake. The static and PSK
  // copies are no longer needed either. (optional::reset runs Secret's wiping destructor.)
  progress_.ephemeral.reset();
  fixed_ephemeral_.reset();
  local_static_.reset();
  psk_.reset();
}

Result<HandshakeState::SplitKeys> HandshakeState::split() {
  if (failed_ || !is_complete() || split_done_) return errc::invalid_state;
  SplitKeys keys = progress_.symmetric.split();
  progress_.symmetric.wipe_keys();
  split_done_ = true;
  return keys;
}

}  // namespace srudp::crypto
