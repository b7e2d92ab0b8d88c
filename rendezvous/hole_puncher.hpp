// rendezvous::HolePuncher: finds a direct UDP path to the peer after the rdv server has told each
// side the other's candidate addresses, and (on the side that picks the path) keeps checking that
// it still works. Sans-IO: the driver feeds it the STUN datagrams its socket receives and sends
// what poll_transmit returns from the same socket, so the probes open exactly the NAT mappings the
// srudp connection will use.
//
// Both peers probe every candidate at once with path checks (rendezvous/path_check.hpp): the first
// probes staggered by 20 ms, then each candidate again after 50, 100, 200, 400, 800 ms and every
// second, at most max_probes times until it answers. A check from the peer is answered wherever
// it came from, and an address we had not heard of (the peer's NAT gave it a new port: symmetric
// mapping, or a router that moved its mapping after a colliding inbound packet) becomes a
// candidate of its own at once. A response proves the path both ways; its source is the address
// to use, even when it is not the candidate we probed (it authenticated).
//
// The controlling side (the dialer, which picks the path) takes the first working address and
// from then on sends a check every consent_interval; consent_misses unanswered in a row report the
// path lost, the next answer reports it back. Nothing in here changes state for a datagram that
// does not authenticate under the peer's key.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "common/address.hpp"
#include "common/random.hpp"
#include "common/time.hpp"
#include "rendezvous/path_check.hpp"

namespace srudp::rendezvous {

struct HolePuncherConfig {
  bool controlling = false;  // the dialer: picks the path and watches it
  CheckKey our_key{};        // we sign with it (our role's key)
  CheckKey peer_key{};       // the peer signs with it
  std::size_t max_candidates = 8;      // from the server's list
  std::size_t max_peer_reflexive = 4;  // learned from the peer's checks
  unsigned max_probes = 10;            // per candidate, until it answers
  Duration consent_interval = std::chrono::milliseconds(500);
  unsigned consent_misses = 3;
};

struct PunchTransmit {
  SocketAddress to;
  std::size_t size = 0;
};

struct PunchEvent {
  enum class Kind {
    found,      // `address` works both ways (the controlling side now watches it)
    lost,       // the watched address stopped answering
    restored,   // it answers again
    exhausted,  // every candidate was probed max_probes times and none answered
  };
  Kind kind;
  SocketAddress address;
};

class HolePuncher {
 public:
  HolePuncher(HolePuncherConfig config, RandomSource& rng);

  // The peer's candidates (duplicates and those beyond max_candidates are ignored). Probing starts.
  void start(Instant now, std::span<const SocketAddress> candidates);
  // A datagram our socket received. True when it was a path check (authentic or not): the driver
  // should not hand it to anyone else.
  bool handle_datagram(Instant now, const SocketAddress& from, std::span<const std::uint8_t> datagram);
  std::optional<PunchTransmit> poll_transmit(Instant now, std::span<std::uint8_t> out);
  std::optional<Instant> poll_timeout() const;
  std::optional<PunchEvent> poll_event();
  void stop();  // no more probes or answers

  // The controlling side's working direct address while it answers (between found/restored and lost).
  std::optional<SocketAddress> working() const;

  struct Counters {
    std::uint64_t probes_sent = 0, answers_sent = 0, responses = 0;
    std::uint64_t unauthenticated = 0;  // check-shaped datagrams that did not verify
    std::uint64_t answers_dropped = 0;  // answers beyond the queue's cap
  };
  const Counters& counters() const { return counters_; }
  std::size_t candidate_count() const { return candidates_.size(); }

 private:
  struct Candidate {
    SocketAddress address;
    unsigned probes = 0;
    Instant next_probe{};
    bool answered = false;
    bool peer_reflexive = false;
  };
  struct Outstanding {
    StunTransactionId id{};
    SocketAddress to;
    Instant sent{};
  };
  static constexpr std::size_t kMaxOutstanding = 128;
  static constexpr std::size_t kMaxQueuedAnswers = 16;

  Candidate* find(const SocketAddress& address);
  bool probing() const;  // candidates are still being probed
  void on_response(Instant now, const SocketAddress& from, const StunIdField& id);
  void on_request(Instant now, const SocketAddress& from, const StunIdField& id);
  std::optional<PunchTransmit> send_check(Instant now, const SocketAddress& to, std::span<std::uint8_t> out);
  void check_consent(Instant now);

  HolePuncherConfig config_;
  RandomSource& rng_;
  bool running_ = false;
  std::vector<Candidate> candidates_;
  std::size_t peer_reflexive_ = 0;
  std::deque<Outstanding> outstanding_;
  std::deque<std::pair<SocketAddress, StunIdField>> answers_;  // requests to answer: (source, id)
  bool found_ = false;
  bool exhausted_reported_ = false;
  Instant last_probe_{};
  // Consent (controlling side, once found).
  std::optional<SocketAddress> watched_;
  bool dark_ = false;
  unsigned missed_ = 0;
  Instant next_consent_{};
  bool consent_answered_ = true;  // the last consent check got its answer
  std::deque<PunchEvent> events_;
  Counters counters_;
};

}  // namespace srudp::rendezvous
