// The rdv lobby: clients wait here, keyed by token, until the opposite method arrives.
//
// join() pairs a client with a waiting one of the opposite method at once; otherwise the client
// waits, replacing an older waiter with the same token and method (which the server answers 409,
// as rdv does). Waiting is bounded in time (the server answers 408 to what expire() returns), in
// total and per source (503 past either cap). Time is an argument: the server arms one timer at
// next_deadline().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/time.hpp"
#include "rendezvous/ip_prefix.hpp"
#include "rendezvous/rdv_request.hpp"

namespace srudp::rendezvous {

using LobbyTicket = std::uint64_t;

struct LobbyLimits {
  Duration timeout = std::chrono::seconds(120);
  std::size_t max_waiting = 10000;
  std::size_t max_waiting_per_source = 32;  // per source_key(): an IPv4 address or IPv6 /64
};

struct LobbyJoin {
  enum class Outcome {
    waiting,  // in the lobby until paired, replaced, expired or left
    paired,   // with a waiter of the opposite method: dialer and acceptor are set
    full,     // a cap was reached: answer 503 (nothing changed)
    closed,   // the lobby is closed (shutting down): answer 503
  };
  Outcome outcome = Outcome::full;
  LobbyTicket ticket = 0;               // the joiner's (waiting, paired)
  std::optional<LobbyTicket> replaced;  // waiting: an older waiter it replaced; answer it 409
  LobbyTicket dialer = 0;               // paired
  LobbyTicket acceptor = 0;             // paired
};

class Lobby {
 public:
  explicit Lobby(LobbyLimits limits) : limits_(limits) {}

  LobbyJoin join(Instant now, std::string_view token, RdvMethod method, const IpBytes& source);
  // The client went away (or broke the protocol) while waiting. False if it was not waiting.
  bool leave(LobbyTicket ticket);
  std::optional<Instant> next_deadline() const;
  // Removes and returns the waiters whose time is up (answer them 408).
  std::vector<LobbyTicket> expire(Instant now);
  // Removes and returns every waiter (answer them 503); joins fail with `closed` from now on.
  std::vector<LobbyTicket> close();

  bool closed() const noexcept { return closed_; }
  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t waiting_from(const IpBytes& source) const;
  const LobbyLimits& limits() const noexcept { return limits_; }

 private:
  struct Entry {
    std::string token;
    RdvMethod method;
    IpBytes source_key;
    Instant deadline;
  };
  struct Slots {
    std::optional<LobbyTicket> dialer;
    std::optional<LobbyTicket> acceptor;
    std::optional<LobbyTicket>& of(RdvMethod m) { return m == RdvMethod::dial ? dialer : acceptor; }
  };

  void remove(LobbyTicket ticket);

  LobbyLimits limits_;
  bool closed_ = false;
  LobbyTicket next_ticket_ = 1;
  std::unordered_map<LobbyTicket, Entry> entries_;
  std::unordered_map<std::string, Slots> by_token_;
  std::set<std::pair<Instant, LobbyTicket>> deadlines_;
  std::unordered_map<IpBytes, std::size_t, IpBytesHash> per_source_;
};

}  // namespace srudp::rendezvous
