// transport::Endpoint: many connections on one UDP socket, sans-IO.
//
// It demultiplexes datagrams by connection id (data and handshake packets name the receiver's id;
// an Initiation is matched by its source address to a connection we are opening, which settles a
// simultaneous open), and in the server role hands Initiations from unknown peers to a
// crypto::HandshakeResponder (mac1, cookies under load, replay defence, limits) before any state is
// kept. Datagrams for nobody are dropped without a reply.
//
// Driver call order: as for Connection (handle_datagram, drain poll_transmit, one timer from
// poll_timeout / handle_timeout, drain poll_event), with one socket for everything.
//
// Cost per packet does not grow with the number of connections: a connection's deadline lives in
// an ordered timer set, connections with something to send wait in a ready queue (taken round
// robin), and the half-open count and the handshaking connections by address are kept as they
// change. A connection the application touched through connection() is looked at again before the
// next poll (its deadline or readiness may have changed). One that took a datagram or sent one has
// its events brought up to date once per batch: at the next poll_event, poll_timeout or
// handle_timeout; a close or the end of its handshake at once. Deadlines are brought up to date
// only where they are read, poll_timeout and handle_timeout: once per connection that changed
// since, not once per change.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/address.hpp"
#include "common/deque.hpp"
#include "common/random.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "crypto/handshake_responder.hpp"
#include "transport/connection.hpp"

namespace srudp::transport {

using ConnectionHandle = std::uint64_t;

struct EndpointConfig {
  bool accept_incoming = false;               // the server role
  ConnectionConfig server_connection;         // template for accepted connections
  crypto::ResponderLimits responder_limits;   // half-open limits, cookies, replay horizon
  std::size_t max_connections = 4096;         // established or not; Initiations beyond are dropped
  // Bounds for a driver that stops draining: datagram events beyond max_queued_events and cookie
  // replies beyond max_stateless_replies are dropped and counted (both are unreliable anyway).
  std::size_t max_queued_events = 65536;
  std::size_t max_stateless_replies = 1024;
};

struct EndpointEvent {
  enum class Kind { accepted, connection };  // a new incoming connection, or one of its events
  Kind kind;
  ConnectionHandle handle = 0;
  ConnectionEvent event{};                   // meaningful for Kind::connection only
};

class Endpoint {
 public:
  Endpoint(EndpointConfig config, RandomSource& rng);

  Result<ConnectionHandle> connect(ConnectionConfig config, const SocketAddress& peer, Instant now);

  void handle_datagram(Instant now, const SocketAddress& from, std::span<const std::uint8_t> datagram);
  std::optional<Transmit> poll_transmit(Instant now, std::span<std::uint8_t> out);
  // Not const: it brings the connections that changed since the last call up to date (their
  // events too, for poll_event) and files their deadlines.
  std::optional<Instant> poll_timeout();
  void handle_timeout(Instant now);
  std::optional<EndpointEvent> poll_event();

  // nullptr once the connection has closed: the endpoint forgets a connection as soon as it is
  // closed (after its closed event is queued), so its handle becomes invalid then.
  Connection* connection(ConnectionHandle handle);
  std::size_t connection_count() const { return connections_.size(); }
  // Connection::unread_stream_bytes over all connections, as of the last poll_event: how far the
  // application is behind the network. A driver reading the socket in a loop stops while this is
  // large, so the application's reads run before more data is taken in.
  std::uint64_t unread_stream_bytes() const { return unread_stream_bytes_; }

  struct Counters {
    std::uint64_t dropped_unknown = 0, dropped_malformed = 0, dropped_over_capacity = 0;
    std::uint64_t accepted = 0, cookies_sent = 0;
    std::uint64_t cookies_dropped = 0;          // stateless replies beyond the queue's cap
    std::uint64_t datagram_events_dropped = 0;  // datagram events beyond the event queue's cap
  };
  const Counters& counters() const { return counters_; }
  const crypto::HandshakeResponder* responder() const { return responder_ ? &*responder_ : nullptr; }

 private:
  struct Entry {
    Connection connection;
    SocketAddress peer;            // where it was opened to or accepted from (for Initiations)
    // Accepted connections: the Initiation they answer (its ephemeral key), whose retransmissions
    // they take. Connections we opened take any Initiation from `peer` (simultaneous open).
    std::optional<std::array<std::uint8_t, 32>> accepted_from;
    std::optional<Instant> timer;  // its entry in timers_
    bool ready = false;            // in ready_
    bool touched = false;          // in touched_
    bool stale = false;            // in stale_
    bool timer_dirty = false;      // in timer_dirty_: `timer` may be out of date
    bool half_open = true;         // handshaking or confirming, counted in half_open_, in by_peer_
    std::uint64_t unread = 0;      // its unread_stream_bytes() at its last refresh
  };
  struct CidHash {
    std::size_t operator()(const wire::ConnectionId& cid) const noexcept;
  };

  Entry* find(ConnectionHandle handle);
  ConnectionHandle add(Connection connection, const SocketAddress& peer,
                       std::optional<std::array<std::uint8_t, 32>> accepted_from);
  std::optional<ConnectionHandle> route(const SocketAddress& from, std::span<const std::uint8_t> datagram);
  void accept(Instant now, const SocketAddress& from, std::span<const std::uint8_t> datagram);
  void collect_events(ConnectionHandle handle, Connection& connection);
  // After anything happened to a connection: its events, deadline, readiness and half-open state
  // brought up to date; a closed connection is forgotten.
  void refresh(ConnectionHandle handle, bool ready);
  void refresh_touched();
  void make_ready(ConnectionHandle handle, Entry& e);
  // After a datagram or a transmit: the connection's events and deadline are refreshed lazily
  // (once per batch, not once per packet), a close or the end of its handshake at once.
  void after_activity(ConnectionHandle handle, Entry& e);
  void refresh_stale();
  // Files the deadlines of the connections in timer_dirty_ in timers_.
  void refresh_timers();
  // Touched, stale and timers: everything up to date, as poll_timeout and handle_timeout need.
  void refresh_all();
  void forget(std::map<ConnectionHandle, Entry>::iterator it);
  void leave_half_open(ConnectionHandle handle, Entry& e);

  EndpointConfig config_;
  RandomSource& rng_;
  std::optional<crypto::HandshakeResponder> responder_;
  ConnectionHandle next_handle_ = 1;
  std::map<ConnectionHandle, Entry> connections_;
  std::unordered_map<wire::ConnectionId, ConnectionHandle, CidHash> by_cid_;
  std::unordered_multimap<SocketAddress, ConnectionHandle> by_peer_;  // half-open ones only
  std::set<std::pair<Instant, ConnectionHandle>> timers_;
  Deque<ConnectionHandle> ready_;  // FIFOs: a Deque reuses its buffer, std::deque allocates as it cycles
  std::vector<ConnectionHandle> touched_;  // the application may have changed them: refresh, ready
  std::uint64_t unread_stream_bytes_ = 0;  // the entries' `unread` summed
  std::vector<ConnectionHandle> stale_;    // events not yet refreshed
  std::vector<ConnectionHandle> timer_dirty_;  // deadline not yet refreshed
  std::vector<ConnectionHandle> due_;  // scratch for handle_timeout
  std::size_t half_open_ = 0;
  std::deque<std::pair<SocketAddress, std::vector<std::uint8_t>>> stateless_out_;  // cookie replies
  Deque<EndpointEvent> events_;
  Counters counters_;
};

}  // namespace srudp::transport
