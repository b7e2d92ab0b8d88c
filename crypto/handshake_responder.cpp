#include "crypto/handshake_responder.hpp"

#include <sodium.h>

#include <cstring>

#include "common/sodium.hpp"

namespace srudp::crypto {

std::size_t HandshakeResponder::IdHash::operator()(const std::array<std::uint8_t, 32>& a) const noexcept {
  std::array<std::uint8_t, crypto_shorthash_BYTES> h{};
  crypto_shorthash(h.data(), a.data(), a.size(), key.data());
  std::size_t out = 0;
  std::memcpy(&out, h.data(), sizeof out);
  return out;
}

HandshakeResponder::IdHash HandshakeResponder::IdHash::with_random_key(RandomSource& rng) {
  ensure_sodium_initialized();
  IdHash hash;
  rng.fill(hash.key);
  return hash;
}

HandshakeResponder::HandshakeResponder(HandshakeConfig config, ResponderLimits limits, RandomSource& rng)
    : config_(std::move(config)),
      limits_(limits),
      rng_(rng),
      mac_keys_(config_.psk ? &*config_.psk : nullptr),
      cookies_(mac_keys_, rng),
      seen_(0, IdHash::with_random_key(rng)) {}

bool HandshakeResponder::seen_recently(Instant now, const std::array<std::uint8_t, 32>& id) {
  while (!seen_order_.empty() &&
         (now - seen_order_.front().first > limits_.replay_horizon || seen_order_.size() > limits_.replay_cache_size)) {
    seen_.erase(seen_order_.front().second);
    seen_order_.pop_front();
  }
  return seen_.contains(id);
}

void HandshakeResponder::remember(Instant now, const std::array<std::uint8_t, 32>& id) {
  if (seen_.insert(id).second) seen_order_.emplace_back(now, id);
}

HandshakeResponder::Decision HandshakeResponder::on_initiation(
    Instant now, const SocketAddress& source, std::span<const std::uint8_t> datagram,
    std::size_t half_open, const wire::ConnectionId& new_local_cid) {
  auto initiation = wire::decode_initiation(datagram);
  if (!initiation) {
    ++counters_.dropped_malformed;
    return Drop{DropReason::malformed};
  }
  if (initiation->version != config_.version) {
    ++counters_.dropped_malformed;
    return Drop{DropReason::unsupported_version};
  }
  // mac1 first: one keyed hash rejects anyone who does not know the PSK.
  if (!mac_equal(mac_keys_.mac1(initiation->mac1_covered), initiation->mac1)) {
    ++counters_.dropped_mac1;
    return Drop{DropReason::bad_mac1};
  }
  if (half_open >= limits_.max_half_open) {
    ++counters_.dropped_capacity;
    return Drop{DropReason::over_capacity};
  }
  const bool under_load = limits_.always_require_cookie || half_open >= limits_.cookie_threshold;
  if (under_load && !cookies_.mac2_valid(now, source, initiation->mac2_covered, initiation->mac2)) {
    wire::CookieReply reply;
    reply.version = config_.version;
    reply.receiver_cid = initiation->sender_cid;
    const auto sealed = cookies_.seal_cookie(now, source, initiation->mac1);
    std::copy_n(sealed.begin(), reply.nonce.size(), reply.nonce.begin());
    std::copy_n(sealed.begin() + static_cast<std::ptrdiff_t>(reply.nonce.size()), reply.encrypted_cookie.size(),
                reply.encrypted_cookie.begin());
    std::vector<std::uint8_t> out(wire::kCookieReplySize);
    auto size = wire::encode_cookie_reply(reply, out);
    if (!size) return Drop{DropReason::malformed};
    out.resize(*size);
    ++counters_.cookies_sent;
    return SendCookie{std::move(out)};
  }
  if (initiation->noise_message.size() < 32) {
    ++counters_.dropped_malformed;
    return Drop{DropReason::malformed};
  }
  std::array<std::uint8_t, 32> id{};
  std::copy_n(initiation->noise_message.begin(), id.size(), id.begin());
  if (seen_recently(now, id)) {
    ++counters_.dropped_replay;
    return Drop{DropReason::replayed};
  }
  auto handshake = Handshake::respond(config_, new_local_cid, *initiation, rng_);
  if (!handshake) {
    ++counters_.dropped_handshake;
    return Drop{DropReason::handshake_failed};
  }
  remember(now, id);
  ++counters_.accepted;
  return Accept{std::move(*handshake)};
}

}  // namespace srudp::crypto
