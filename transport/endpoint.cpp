#include "transport/endpoint.hpp"

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
  return e ? &e->connection : nullptr;
}

Result<ConnectionHandle> Endpoint::connect(ConnectionConfig config, const SocketAddress& peer, Instant now) {
  if (connections_.size() >= config_.max_connections) return errc::invalid_state;
  auto c = Connection::connect(std::move(config), peer, now, rng_);
  if (!c) return c.error();
  const ConnectionHandle handle = next_handle_++;
  by_cid_[c->local_cid()] = handle;
  connections_.emplace(handle, Entry{std::move(*c), peer, std::nullopt});
  return handle;
}

std::size_t Endpoint::half_open() const {
  std::size_t n = 0;
  for (const auto& [handle, e] : connections_) {
    const auto state = e.connection.state();
    n += state == ConnectionState::handshaking || state == ConnectionState::confirming;
  }
  return n;
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
      // closing, draining or half-open connection never swallows a new handshake.
      const auto initiation = wire::decode_initiation(datagram);
      if (!initiation || initiation->noise_message.size() < 32) return std::nullopt;
      for (const auto& [handle, e] : connections_) {
        if (e.peer != from) continue;
        const auto state = e.connection.state();
        if (state != ConnectionState::handshaking && state != ConnectionState::confirming) continue;
        if (!e.accepted_from) return handle;
        if (std::equal(e.accepted_from->begin(), e.accepted_from->end(), initiation->noise_message.begin())) {
          return handle;
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
  auto type = wire::peek_packet_type(datagram);
  if (!type) {
    ++counters_.dropped_malformed;
    return;
  }
  if (auto handle = route(from, datagram)) {
    Entry* e = find(*handle);
    e->connection.handle_datagram(now, from, datagram);
    collect_events(*handle, e->connection);
    reap_if_closed(*handle);
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
  auto decision = responder_->on_initiation(now, from, datagram, half_open(), cid);
  if (auto* cookie = std::get_if<crypto::HandshakeResponder::SendCookie>(&decision)) {
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
  const ConnectionHandle handle = next_handle_++;
  by_cid_[c->local_cid()] = handle;
  auto [it, inserted] = connections_.emplace(handle, Entry{std::move(*c), from, initiation_id});
  ++counters_.accepted;
  events_.push_back({EndpointEvent::Kind::accepted, handle, {}});
  collect_events(handle, it->second.connection);
}

std::optional<Transmit> Endpoint::poll_transmit(Instant now, std::span<std::uint8_t> out) {
  if (!stateless_out_.empty()) {
    auto [to, bytes] = std::move(stateless_out_.front());
    stateless_out_.pop_front();
    if (bytes.size() > out.size()) return std::nullopt;
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return Transmit{to, bytes.size()};
  }
  if (connections_.empty()) return std::nullopt;
  // Round robin, starting after the connection that sent last, so one busy connection cannot
  // starve the others.
  auto it = connections_.upper_bound(next_to_poll_);
  std::optional<Transmit> transmit;
  std::vector<ConnectionHandle> closed;
  for (std::size_t i = 0; i < connections_.size() && !transmit; ++i, ++it) {
    if (it == connections_.end()) it = connections_.begin();
    transmit = it->second.connection.poll_transmit(now, out);
    collect_events(it->first, it->second.connection);
    if (transmit) next_to_poll_ = it->first;
    if (it->second.connection.state() == ConnectionState::closed) closed.push_back(it->first);
  }
  for (const ConnectionHandle handle : closed) reap_if_closed(handle);
  return transmit;
}

std::optional<Instant> Endpoint::poll_timeout() const {
  std::optional<Instant> earliest;
  for (const auto& [handle, e] : connections_) {
    if (auto t = e.connection.poll_timeout(); t && (!earliest || *t < *earliest)) earliest = t;
  }
  return earliest;
}

void Endpoint::handle_timeout(Instant now) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    auto& [handle, e] = *it;
    if (auto t = e.connection.poll_timeout(); t && *t <= now) {
      e.connection.handle_timeout(now);
      collect_events(handle, e.connection);
    }
    if (e.connection.state() == ConnectionState::closed) {
      by_cid_.erase(e.connection.local_cid());
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void Endpoint::collect_events(ConnectionHandle handle, Connection& connection) {
  while (auto event = connection.poll_event()) {
    events_.push_back({EndpointEvent::Kind::connection, handle, std::move(*event)});
  }
}

std::optional<EndpointEvent> Endpoint::poll_event() {
  if (events_.empty()) return std::nullopt;
  EndpointEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void Endpoint::reap_if_closed(ConnectionHandle handle) {
  auto it = connections_.find(handle);
  if (it == connections_.end() || it->second.connection.state() != ConnectionState::closed) return;
  by_cid_.erase(it->second.connection.local_cid());
  connections_.erase(it);
}

}  // namespace srudp::transport
