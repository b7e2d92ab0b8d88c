// A sim::Node around one transport::Connection, for simulator tests. `App` owns the connection
// (`std::optional<Connection> conn`) and reacts to it in `void pump(Instant)`. The node is a
// client (connect), a server (listen: Initiations go through a HandshakeResponder until the
// connection exists), or a peer in a simultaneous open (connect on both sides).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "crypto/handshake_responder.hpp"
#include "sim/network.hpp"
#include "sim/node.hpp"
#include "transport/connection.hpp"

namespace srudp::transport::test {

template <class App>
class ConnectionNode : public sim::Node {
 public:
  ConnectionNode(SocketAddress self, RandomSource& rng) : self_(self), rng_(rng) {}

  void connect(ConnectionConfig config, const SocketAddress& peer, Instant now) {
    auto c = Connection::connect(std::move(config), peer, now, rng_);
    if (!c) throw std::runtime_error("connect: " + c.error().message());
    app.conn.emplace(std::move(*c));
  }
  void listen(ConnectionConfig config) {
    server_config_ = std::move(config);
    auto hc = server_config_->handshake.clone();
    hc.payload = Connection::handshake_payload(*server_config_);
    responder_ = std::make_unique<crypto::HandshakeResponder>(std::move(hc), crypto::ResponderLimits{}, rng_);
  }

  void handle_datagram(Instant now, const sim::Datagram& d) override {
    if (!app.conn && responder_) {
      auto type = wire::peek_packet_type(d.bytes);
      if (!type || *type != wire::PacketType::Initiation) return;
      wire::ConnectionId cid{};
      rng_.fill(cid);
      auto decision = responder_->on_initiation(now, d.from, d.bytes, 0, cid);
      if (auto* accept = std::get_if<crypto::HandshakeResponder::Accept>(&decision)) {
        auto c = Connection::accept(server_config_->clone(), std::move(accept->handshake), d.from, d.bytes.size(),
                                    now, rng_);
        if (c) app.conn.emplace(std::move(*c));
      }
      app.pump(now);
      return;
    }
    if (!app.conn) return;
    app.conn->handle_datagram(now, d.from, d.bytes);
    app.pump(now);
  }
  std::optional<sim::Datagram> poll_transmit(Instant now) override {
    if (!app.conn) return std::nullopt;
    app.pump(now);
    std::vector<std::uint8_t> buf(2048);
    auto t = app.conn->poll_transmit(now, buf);
    app.pump(now);
    if (!t) return std::nullopt;
    buf.resize(t->size);
    on_transmit(buf);
    return sim::Datagram{self_, t->to, std::move(buf)};
  }
  std::optional<Instant> poll_timeout() override { return app.conn ? app.conn->poll_timeout() : std::nullopt; }
  void handle_timeout(Instant now) override {
    if (!app.conn) return;
    app.conn->handle_timeout(now);
    app.pump(now);
  }

  const crypto::HandshakeResponder* responder() const { return responder_.get(); }

  App app;

 protected:
  // Sees every datagram the connection sends (tests that inspect the wire override it).
  virtual void on_transmit(std::span<const std::uint8_t>) {}

 private:
  SocketAddress self_;
  RandomSource& rng_;
  std::optional<ConnectionConfig> server_config_;
  std::unique_ptr<crypto::HandshakeResponder> responder_;
};

// A at `a_address` and B at `b_address` on the simulated internet, one path link between them.
// B listens and A connects, or, with `simultaneous`, both connect to each other at once (as two
// peers do after hole punching).
template <class Node>
struct ConnectionPair {
  ConnectionPair(std::uint64_t seed, const SocketAddress& a_address, const SocketAddress& b_address,
                 const sim::LinkConfig& a_to_b, const sim::LinkConfig& b_to_a, ConnectionConfig a_config,
                 ConnectionConfig b_config, bool simultaneous = false)
      : net(seed), rng(net.seed()), a(a_address, rng), b(b_address, rng) {
    host_a = &net.add_host(a, a_address);
    host_b = &net.add_host(b, b_address);
    net.set_link(*host_a, *host_b, a_to_b, b_to_a);
    if (simultaneous) {
      a.connect(std::move(a_config), b_address, net.now());
      b.connect(std::move(b_config), a_address, net.now());
    } else {
      b.listen(std::move(b_config));
      a.connect(std::move(a_config), b_address, net.now());
    }
  }
  bool established() const { return a.app.established && b.app.established; }
  Connection& client() { return *a.app.conn; }
  Connection& server() { return *b.app.conn; }

  sim::Network net;
  SeededRandom rng;
  Node a;
  Node b;
  sim::Host* host_a = nullptr;
  sim::Host* host_b = nullptr;
};

}  // namespace srudp::transport::test
