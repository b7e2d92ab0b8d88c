// Two Connections in memory with a bulk stream from client to server, every datagram handed over
// directly (no simulator, no loss). Virtual time advances 2 us per data packet, which keeps pacing
// and the congestion window out of the way. Shared by the Google Benchmark of the packet path
// (connection_bench.cpp) and its instruction count under callgrind (packet_instructions.cpp).
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <vector>

#include "crypto/handshake_responder.hpp"
#include "transport/connection.hpp"

namespace srudp::bench {

using srudp::Instant;
using srudp::SocketAddress;
using srudp::transport::Connection;
using srudp::transport::ConnectionConfig;

inline const SocketAddress kClient = SocketAddress::v4(198, 51, 100, 1, 4000);
inline const SocketAddress kServer = SocketAddress::v4(203, 0, 113, 2, 5000);

inline ConnectionConfig bulk_config(srudp::crypto::AeadAlgorithm aead, std::size_t max_mtu) {
  ConnectionConfig c;
  c.pmtud.max_plpmtu = max_mtu;
  std::array<std::uint8_t, 32> key{};
  key.fill(42);
  c.handshake.psk = srudp::crypto::PresharedKey(std::span<const std::uint8_t, 32>(key));
  c.aead = aead;
  c.keepalive_interval = std::chrono::hours(1);
  c.idle_timeout = std::chrono::hours(1);
  return c;
}

struct BulkPair {
  BulkPair(srudp::crypto::AeadAlgorithm aead, std::size_t max_mtu) : rng_c(1), rng_s(2) {
    auto c = Connection::connect(bulk_config(aead, max_mtu), kServer, now, rng_c);
    if (!c) throw std::runtime_error("connect");
    client.emplace(std::move(*c));
    auto hc = bulk_config(aead, max_mtu).handshake.clone();
    hc.payload = Connection::handshake_payload(bulk_config(aead, max_mtu));
    srudp::crypto::HandshakeResponder responder(std::move(hc), {}, rng_s);
    auto t = client->poll_transmit(now, buf);
    srudp::wire::ConnectionId cid{};
    rng_s.fill(cid);
    auto decision = responder.on_initiation(now, kClient, std::span(buf).first(t->size), 0, cid);
    auto* accept = std::get_if<srudp::crypto::HandshakeResponder::Accept>(&decision);
    if (!accept) throw std::runtime_error("accept");
    auto s = Connection::accept(bulk_config(aead, max_mtu), std::move(accept->handshake), kClient, t->size, now, rng_s);
    if (!s) throw std::runtime_error("accept");
    server.emplace(std::move(*s));
    for (int i = 0; i < 100 && !(client->is_established() && server->is_established()); ++i) exchange();
    if (!client->is_established()) throw std::runtime_error("not established");
    stream = *client->open_stream();
  }

  void timers() {
    for (auto* c : {&*client, &*server}) {
      if (auto t = c->poll_timeout(); t && *t <= now) c->handle_timeout(now);
    }
  }
  std::size_t server_to_client() {
    std::size_t n = 0;
    while (auto t = server->poll_transmit(now, buf)) {
      client->handle_datagram(now, kServer, std::span(buf).first(t->size));
      ++n;
    }
    return n;
  }
  void exchange() {
    now += std::chrono::milliseconds(1);
    timers();
    while (auto t = client->poll_transmit(now, buf)) server->handle_datagram(now, kClient, std::span(buf).first(t->size));
    server_to_client();
  }

  // Sends one data packet client -> server and returns its stream bytes read by the server.
  std::size_t step() {
    (void)client->stream_write(stream, payload);
    now += std::chrono::microseconds(2);
    timers();
    std::size_t read = 0;
    if (auto t = client->poll_transmit(now, buf)) {
      server->handle_datagram(now, kClient, std::span(buf).first(t->size));
      ++packets;
    } else {
      now += std::chrono::microseconds(100);  // paced: let time pass
    }
    while (true) {
      auto n = server->stream_read(stream, sink);
      if (!n || *n == 0) break;
      read += *n;
    }
    server_to_client();
    return read;
  }

  Instant now{std::chrono::hours(1)};
  srudp::SeededRandom rng_c, rng_s;
  std::optional<Connection> client, server;
  std::array<std::uint8_t, 2048> buf{};
  std::vector<std::uint8_t> payload = std::vector<std::uint8_t>(64 * 1024, 0xab);
  std::array<std::uint8_t, 64 * 1024> sink{};
  std::uint64_t stream = 0;
  std::uint64_t packets = 0;
};

}  // namespace srudp::bench
