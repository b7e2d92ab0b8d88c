#include "transport/endpoint.hpp"

#include <algorithm>
#include <cstring>

namespace srudp::transport {

std::size_t Endpoint::CidHash::operator()(const wire::ConnectionId& cid) const noexcept {
  // Our own ids are random, so their bytes are a good hash already.
  std::size_t h = 0;
  std::memcpy(&h, cid.data(), sizeof h);
  return h;
}

Endpoint::Endpoint(EndpointConfig config, RandomSource& rng) : config_(std::move(config)), rng_(rng) {
  if (config_.accept_incoming) {
    // The responder writes message 2 before the Connection exists, so it carries the accepted
    // connections' transport parameters.
    crypto::HandshakeConfig handshake = config_.server_connection.handshake.clone();
    handshake.payload = Connection::handshake_payload(config_.server_connection);
    responder_.emplace(std::move(handshake), config_.responder_limits, rng_);
  }
}

Endpoint::Entry* Endpoint::find(ConnectionHandle handle) {
  auto it = connections_.find(handle);
  return it == connections_.end() ? nullptr : &it->second;
}

Connection* Endpoint::connection(ConnectionHandle handle) {
  Entry* e = find(handle);
  if (e == nullptr) return nullptr;
  // The caller may write, read or close: look at it again before the next poll.
  if (!e->touched) {
    e->touched = true;
    touched_.push_back(handle);
  }
  return &e->connection;
}

ConnectionHandle Endpoint::add(Connection connection, const SocketAddress& peer,
                               std::optional<std::array<std::uint8_t, 32>> accepted_from) {
  const ConnectionHandle handle = next_handle_++;
  by_cid_[connection.local_cid()] = handle;
  by_peer_.emplace(peer, handle);
  ++half_open_;
  connections_.emplace(handle, Entry{.connection = std::move(connection),
                                       .peer = peer,
                                       .accepted_from = accepted_from,
                                       .timer = std::nullopt,
                                       .ready = false,
                                       .touched = false,
                                       .stale = false,
                                       .timer_dirty = false,
                                       .half_open = true});
  return handle;
}

Result<ConnectionHandle> Endpoint::connect(ConnectionConfig config, const SocketAddress& peer, Instant now) {
  if (connections_.size() >= config_.max_connections) return errc::invalid_state;
  auto c = Connection::connect(std::move(config), peer, now, rng_);
  if (!c) return c.error();
  const ConnectionHandle handle = add(std::move(*c), peer, std::nullopt);
  refresh(handle, true);
  return handle;
}

std::optional<ConnectionHandle> Endpoint::route(const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  auto type = wire::peek_packet_type(datagram);
  if (!type) return std::nullopt;
  std::optional<wire::ConnectionId> cid;
  switch (*type) {
    case wire::PacketType::Data: {
      auto header = wire::decode_data_header(datagram);
      if (header) cid = header->receiver_cid;
      break;
    }
    case wire::PacketType::Handshake: {
      auto packet = wire::decode_handshake(datagram);
      if (packet) cid = packet->receiver_cid;
      break;
    }
    case wire::PacketType::CookieReply: {
      auto reply = wire::decode_cookie_reply(datagram);
      if (reply) cid = reply->receiver_cid;
      break;
    }
    case wire::PacketType::Initiation: {
      // The peer's half of a simultaneous open (a connection we are opening to that address), or
      // a retransmission of the very Initiation a connection was accepted from. Anything else,
      // a client that restarted on the same address among them, goes to the responder, so a
      // closing, draining or established connection never swallows a new handshake.
      const auto initiation = wire::decode_initiation(datagram);
      if (!initiation || initiation->noise_message.size() < 32) return std::nullopt;
      auto [first, last] = by_peer_.equal_range(from);
      for (auto it = first; it != last; ++it) {
        const Entry* e = find(it->second);
        if (e == nullptr) continue;
        if (!e->accepted_from ||
            std::equal(e->accepted_from->begin(), e->accepted_from->end(), initiation->noise_message.begin())) {
          return it->second;
        }
      }
      return std::nullopt;
    }
  }
  if (!cid) return std::nullopt;
  auto it = by_cid_.find(*cid);
  if (it == by_cid_.end()) return std::nullopt;
  return it->second;
}

void Endpoint::handle_datagram(Instant now, const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  refresh_touched();
  auto type = wire::peek_packet_type(datagram);
  if (!type) {
    ++counters_.dropped_malformed;
    return;
  }
  if (auto handle = route(from, datagram)) {
    Entry& e = *find(*handle);
    e.connection.handle_datagram(now, from, datagram);
    make_ready(*handle, e);
    after_activity(*handle, e);
    return;
  }
  if (*type == wire::PacketType::Initiation && responder_) {
    accept(now, from, datagram);
    return;
  }
  ++counters_.dropped_unknown;  // silence: no reply, no state
}

void Endpoint::accept(Instant now, const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  if (connections_.size() >= config_.max_connections) {
    ++counters_.dropped_over_capacity;
    return;
  }
  wire::ConnectionId cid{};
  do {
    rng_.fill(cid);
  } while (by_cid_.contains(cid));
  auto decision = responder_->on_initiation(now, from, datagram, half_open_, cid);
  if (auto* cookie = std::get_if<crypto::HandshakeResponder::SendCookie>(&decision)) {
    if (stateless_out_.size() >= config_.max_stateless_replies) {
      ++counters_.cookies_dropped;  // the driver is not draining: a flood; the client resends
      return;
    }
    ++counters_.cookies_sent;
    stateless_out_.emplace_back(from, std::move(cookie->datagram));
    return;
  }
  auto* accepted = std::get_if<crypto::HandshakeResponder::Accept>(&decision);
  if (accepted == nullptr) return;  // dropped: the responder counted why
  const std::array<std::uint8_t, 32> initiation_id = accepted->handshake.initiation_id();
  auto c = Connection::accept(config_.server_connection.clone(), std::move(accepted->handshake), from,
                              datagram.size(), now, rng_);
  if (!c) return;
  const ConnectionHandle handle = add(std::move(*c), from, initiation_id);
  ++counters_.accepted;
  events_.push_back({EndpointEvent::Kind::accepted, handle, {}});
  refresh(handle, true);
}

std::optional<Transmit> Endpoint::poll_transmit(Instant now, std::span<std::uint8_t> out) {
  refresh_touched();
  if (!stateless_out_.empty()) {
    auto [to, bytes] = std::move(stateless_out_.front());
    stateless_out_.pop_front();
    if (bytes.size() > out.size()) return std::nullopt;
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return Transmit{to, bytes.size()};
  }
  // Round robin over the connections that may have something to send: one that sent goes to the
  // back of the queue, one that had nothing leaves it until something happens to it again.
  while (!ready_.empty()) {
    const ConnectionHandle handle = ready_.front();
    ready_.pop_front();
    Entry* e = find(handle);
    if (e == nullptr) continue;  // forgotten meanwhile
    e->ready = false;
    auto transmit = e->connection.poll_transmit(now, out);
    if (transmit) make_ready(handle, *e);
    after_activity(handle, *e);
    if (transmit) return transmit;
  }
  return std::nullopt;
}

std::optional<Instant> Endpoint::poll_timeout() {
  refresh_all();
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first;
}

void Endpoint::refresh_all() {
  refresh_touched();
  refresh_stale();
  refresh_timers();
}

void Endpoint::handle_timeout(Instant now) {
  refresh_all();
  // Each due connection once: its new deadline goes back into the set.
  due_.clear();
  for (auto it = timers_.begin(); it != timers_.end() && it->first <= now; ++it) due_.push_back(it->second);
  for (const ConnectionHandle handle : due_) {
    Entry* e = find(handle);
    if (e == nullptr) continue;
    e->connection.handle_timeout(now);
    refresh(handle, true);
  }
}

void Endpoint::refresh_touched() {
  // refresh() can add nothing to touched_, so the loop is over a fixed list.
  for (const ConnectionHandle handle : touched_) {
    if (Entry* e = find(handle)) {
      e->touched = false;
      refresh(handle, true);
    }
  }
  touched_.clear();
}

void Endpoint::make_ready(ConnectionHandle handle, Entry& e) {
  if (e.ready) return;
  e.ready = true;
  ready_.push_back(handle);
}

void Endpoint::after_activity(ConnectionHandle handle, Entry& e) {
  // Closing and leaving the half-open state change what route() and accept() see: at once. The
  // rest (events, deadline) can wait for the next poll_event, handle_timeout or poll_timeout.
  const ConnectionState state = e.connection.state();
  const bool handshaking = state == ConnectionState::handshaking || state == ConnectionState::confirming;
  if (state == ConnectionState::closed || (e.half_open && !handshaking)) {
    refresh(handle, false);  // may forget it: e is not used after this
    return;
  }
  if (!e.stale) {
    e.stale = true;
    stale_.push_back(handle);
  }
}

void Endpoint::refresh_stale() {
  // refresh() can add nothing to stale_, so the loop is over a fixed list.
  for (const ConnectionHandle handle : stale_) {
    if (Entry* e = find(handle); e != nullptr && e->stale) {
      e->stale = false;
      refresh(handle, false);
    }
  }
  stale_.clear();
}

void Endpoint::refresh(ConnectionHandle handle, bool ready) {
  auto it = connections_.find(handle);
  if (it == connections_.end()) return;
  Entry& e = it->second;
  e.stale = false;
  collect_events(handle, e.connection);
  const ConnectionState state = e.connection.state();
  if (state == ConnectionState::closed) {
    forget(it);
    return;
  }
  if (e.half_open && state != ConnectionState::handshaking && state != ConnectionState::confirming) {
    leave_half_open(handle, e);
  }
  const std::uint64_t unread = e.connection.unread_stream_bytes();
  unread_stream_bytes_ = unread_stream_bytes_ - e.unread + unread;
  e.unread = unread;
  if (!e.timer_dirty) {
    e.timer_dirty = true;
    timer_dirty_.push_back(handle);
  }
  if (ready) make_ready(handle, e);
}

void Endpoint::refresh_timers() {
  // Nothing here adds to timer_dirty_, so the loop is over a fixed list.
  for (const ConnectionHandle handle : timer_dirty_) {
    Entry* e = find(handle);
    if (e == nullptr || !e->timer_dirty) continue;  // forgotten meanwhile
    e->timer_dirty = false;
    const std::optional<Instant> deadline = e->connection.poll_timeout();
    if (deadline == e->timer) continue;
    // Moves the entry by reusing its node: a deadline that changes with every batch of packets
    // costs no allocation.
    auto node = e->timer ? timers_.extract({*e->timer, handle}) : decltype(timers_)::node_type{};
    if (deadline && node) {
      node.value().first = *deadline;
      timers_.insert(std::move(node));
    } else if (deadline) {
      timers_.insert({*deadline, handle});
    }
    e->timer = deadline;
  }
  timer_dirty_.clear();
}

void Endpoint::leave_half_open(ConnectionHandle handle, Entry& e) {
  e.half_open = false;
  --half_open_;
  auto [first, last] = by_peer_.equal_range(e.peer);
  for (auto it = first; it != last; ++it) {
    if (it->second == handle) {
      by_peer_.erase(it);
      break;
    }
  }
}

void Endpoint::forget(std::map<ConnectionHandle, Entry>::iterator it) {
  Entry& e = it->second;
  if (e.half_open) leave_half_open(it->first, e);
  if (e.timer) timers_.erase({*e.timer, it->first});
  unread_stream_bytes_ -= e.unread;
  by_cid_.erase(e.connection.local_cid());
  // A forgotten handle in ready_, touched_, stale_ or timer_dirty_ is skipped when it comes up.
  connections_.erase(it);
}

void Endpoint::collect_events(ConnectionHandle handle, Connection& connection) {
  while (auto event = connection.poll_event()) {
    // Datagrams are unreliable: an application that stopped polling loses new ones, not memory.
    if (event->kind == ConnectionEvent::Kind::datagram && events_.size() >= config_.max_queued_events) {
      ++counters_.datagram_events_dropped;
      continue;
    }
    events_.push_back({EndpointEvent::Kind::connection, handle, std::move(*event)});
  }
}

std::optional<EndpointEvent> Endpoint::poll_event() {
  refresh_touched();
  refresh_stale();
  if (events_.empty()) return std::nullopt;
  EndpointEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace srudp::transport
