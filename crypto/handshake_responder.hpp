// The stateless front door for handshakes from unknown peers (the server role of an endpoint).
//
// For every Initiation it decides, without keeping per-peer state until the very end:
//   drop    - mac1 wrong (no PSK knowledge), malformed, wrong version, replayed, or over capacity;
//   cookie  - under load and mac2 missing or stale: reply with a 69-byte CookieReply (smaller than
//             the >= 1200-byte Initiation, so no amplification) and forget the datagram;
//   accept  - a new responder Handshake plus its response flight.
// "Under load" is decided by the caller's count of half-open handshakes against the limits.
// A replayed Initiation (same initiator ephemeral key seen within the replay horizon) never creates
// a second session; the caller routes genuine retransmissions to the existing session first.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_set>
#include <variant>
#include <vector>

#include "common/address.hpp"
#include "common/random.hpp"
#include "common/time.hpp"
#include "crypto/cookie.hpp"
#include "crypto/handshake.hpp"

namespace srudp::crypto {

struct ResponderLimits {
  std::size_t max_half_open = 4096;       // beyond this, Initiations are dropped
  std::size_t cookie_threshold = 256;     // at or beyond this many half-open, mac2 is required
  bool always_require_cookie = false;     // for tests and for operators under attack
  Duration replay_horizon = std::chrono::seconds(180);
  std::size_t replay_cache_size = 65536;  // remembered Initiations (32-byte keys)
};

enum class DropReason { malformed, bad_mac1, unsupported_version, replayed, over_capacity, handshake_failed };

class HandshakeResponder {
 public:
  struct Drop { DropReason reason; };
  struct SendCookie { std::vector<std::uint8_t> datagram; };
  struct Accept { Handshake handshake; };
  using Decision = std::variant<Drop, SendCookie, Accept>;

  HandshakeResponder(HandshakeConfig config, ResponderLimits limits, RandomSource& rng);

  // `datagram` is a whole UDP payload whose first byte says Initiation. `half_open` is how many
  // handshakes the caller currently holds that have not completed.
  Decision on_initiation(Instant now, const SocketAddress& source, std::span<const std::uint8_t> datagram,
                         std::size_t half_open, const wire::ConnectionId& new_local_cid);

  const HandshakeConfig& config() const { return config_; }

  struct Counters {
    std::uint64_t accepted = 0, cookies_sent = 0, dropped_mac1 = 0, dropped_replay = 0,
                  dropped_capacity = 0, dropped_malformed = 0, dropped_handshake = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  bool seen_recently(Instant now, const std::array<std::uint8_t, 32>& id);
  void remember(Instant now, const std::array<std::uint8_t, 32>& id);

  // SipHash (libsodium's crypto_shorthash) under a random key: the ids are chosen by whoever
  // sends Initiations, so a plain hash of their bytes would let a flood pile them into one bucket.
  struct IdHash {
    std::array<std::uint8_t, 16> key{};
    std::size_t operator()(const std::array<std::uint8_t, 32>& a) const noexcept;
    static IdHash with_random_key(RandomSource& rng);
  };

  HandshakeConfig config_;
  ResponderLimits limits_;
  RandomSource& rng_;
  MacKeys mac_keys_;
  CookieIssuer cookies_;
  std::unordered_set<std::array<std::uint8_t, 32>, IdHash> seen_;
  std::deque<std::pair<Instant, std::array<std::uint8_t, 32>>> seen_order_;
  Counters counters_;
};

}  // namespace srudp::crypto
