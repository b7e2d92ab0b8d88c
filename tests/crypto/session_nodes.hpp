// Simulator nodes that wrap SecureSession for the handshake tests: a peer that connects (or waits
// for a simultaneous open), and a server that accepts through a HandshakeResponder.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "crypto/handshake_responder.hpp"
#include "crypto/secure_session.hpp"
#include "sim/node.hpp"

namespace srudp::test {

inline std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

// Drains a session's events into counters the tests look at.
struct SessionRecord {
  bool established = false;
  std::vector<std::vector<std::uint8_t>> datagrams;
  std::optional<std::error_code> closed;

  void drain(crypto::SecureSession& s) {
    while (auto e = s.poll_event()) {
      switch (e->kind) {
        case crypto::SessionEvent::Kind::established: established = true; break;
        case crypto::SessionEvent::Kind::datagram: datagrams.push_back(std::move(e->data)); break;
        case crypto::SessionEvent::Kind::closed: closed = e->error; break;
      }
    }
  }
};

class PeerNode final : public sim::Node {
 public:
  explicit PeerNode(SocketAddress self) : self_(self) {}

  void connect(crypto::SessionConfig config, const SocketAddress& peer, Instant now, RandomSource& rng) {
    auto s = crypto::SecureSession::connect(std::move(config), peer, now, rng);
    if (!s) throw std::runtime_error("connect: " + s.error().message());
    session.emplace(std::move(*s));
  }

  void handle_datagram(Instant now, const sim::Datagram& d) override {
    ++received;
    if (session) {
      session->handle_datagram(now, d.from, d.bytes);
      record.drain(*session);
    }
  }
  std::optional<sim::Datagram> poll_transmit(Instant now) override {
    if (!session) return std::nullopt;
    std::vector<std::uint8_t> buf(1500);
    auto t = session->poll_transmit(now, buf);
    record.drain(*session);
    if (!t) return std::nullopt;
    buf.resize(t->size);
    return sim::Datagram{self_, t->to, std::move(buf)};
  }
  std::optional<Instant> poll_timeout() override { return session ? session->poll_timeout() : std::nullopt; }
  void handle_timeout(Instant now) override {
    if (!session) return;
    session->handle_timeout(now);
    record.drain(*session);
  }

  SocketAddress self_;
  std::optional<crypto::SecureSession> session;
  SessionRecord record;
  std::uint64_t received = 0;
};

// A server: unknown peers go through the HandshakeResponder; accepted ones get a session keyed by
// their address (a real endpoint keys by connection id; the address is enough for these tests).
class ServerNode final : public sim::Node {
 public:
  ServerNode(SocketAddress self, crypto::SessionConfig config, crypto::ResponderLimits limits, RandomSource& rng)
      : self_(self), config_(std::move(config)), rng_(rng),
        responder(config_.handshake.clone(), limits, rng) {}

  void handle_datagram(Instant now, const sim::Datagram& d) override {
    ++received;
    auto it = sessions.find(d.from);
    if (it != sessions.end()) {
      it->second.session.handle_datagram(now, d.from, d.bytes);
      it->second.record.drain(it->second.session);
      return;
    }
    auto type = wire::peek_packet_type(d.bytes);
    if (!type || *type != wire::PacketType::Initiation) return;  // silence
    wire::ConnectionId cid{};
    rng_.fill(cid);
    auto decision = responder.on_initiation(now, d.from, d.bytes, half_open(), cid);
    if (auto* cookie = std::get_if<crypto::HandshakeResponder::SendCookie>(&decision)) {
      out_.push_back({self_, d.from, std::move(cookie->datagram)});
    } else if (auto* accept = std::get_if<crypto::HandshakeResponder::Accept>(&decision)) {
      auto s = crypto::SecureSession::accept(config_.clone(), std::move(accept->handshake), d.from,
                                             d.bytes.size(), now, rng_);
      if (s) sessions.emplace(d.from, Entry{std::move(*s), {}});
    }
  }
  std::optional<sim::Datagram> poll_transmit(Instant now) override {
    if (!out_.empty()) {
      auto d = std::move(out_.front());
      out_.erase(out_.begin());
      return d;
    }
    for (auto& [addr, e] : sessions) {
      std::vector<std::uint8_t> buf(1500);
      if (auto t = e.session.poll_transmit(now, buf)) {
        buf.resize(t->size);
        e.record.drain(e.session);
        return sim::Datagram{self_, t->to, std::move(buf)};
      }
    }
    return std::nullopt;
  }
  std::optional<Instant> poll_timeout() override {
    std::optional<Instant> t;
    for (auto& [addr, e] : sessions) {
      if (auto s = e.session.poll_timeout(); s && (!t || *s < *t)) t = s;
    }
    return t;
  }
  void handle_timeout(Instant now) override {
    for (auto& [addr, e] : sessions) {
      if (auto t = e.session.poll_timeout(); t && *t <= now) e.session.handle_timeout(now);
      e.record.drain(e.session);
    }
  }

  std::size_t half_open() const {
    std::size_t n = 0;
    for (const auto& [addr, e] : sessions) n += e.session.state() == crypto::SessionState::handshaking ||
                                                   e.session.state() == crypto::SessionState::confirming;
    return n;
  }
  std::size_t established() const {
    std::size_t n = 0;
    for (const auto& [addr, e] : sessions) n += e.session.is_established();
    return n;
  }

  struct Entry {
    crypto::SecureSession session;
    SessionRecord record;
  };
  SocketAddress self_;
  crypto::SessionConfig config_;
  RandomSource& rng_;
  crypto::HandshakeResponder responder;
  std::map<SocketAddress, Entry> sessions;
  std::vector<sim::Datagram> out_;
  std::uint64_t received = 0;
};

}  // namespace srudp::test
