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

  // Whose work the pair is doing: a meter (packet_instructions.cpp under callgrind) can count one
  // side only. The sender writes, builds data packets and takes ACKs; the receiver the rest.
  enum class Side { sender, receiver };
  void (*on_side)(Side) = nullptr;

  void timers() {
    for (auto* c : {&*client, &*server}) fire_timer(*c);
  }
  void fire_timer(Connection& c) {
    if (auto t = c.poll_timeout(); t && *t <= now) c.handle_timeout(now);
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

  // Sends up to `batch` data packets client -> server (2 us apart), then lets the server take them
  // all, read the stream and answer, as the I/O layer does with a batch of datagrams (one GSO send,
  // one recvmmsg): with batch 1 the server acknowledges every packet or two, with 32 about once
  // per batch, as on a real path. Returns the stream bytes the server read.
  std::size_t step(std::size_t batch = 1) {
    enter(Side::sender);
    (void)client->stream_write(stream, payload);
    if (in_flight.size() < batch) in_flight.resize(batch);
    std::size_t sent = 0;
    for (; sent < batch; ++sent) {
      now += std::chrono::microseconds(2);
      fire_timer(*client);
      auto t = client->poll_transmit(now, in_flight[sent].bytes);
      if (!t) break;
      in_flight[sent].size = t->size;
    }
    packets += sent;
    if (sent == 0) now += std::chrono::microseconds(100);  // paced: let time pass
    enter(Side::receiver);
    fire_timer(*server);
    for (std::size_t i = 0; i < sent; ++i) {
      server->handle_datagram(now, kClient, std::span(in_flight[i].bytes).first(in_flight[i].size));
    }
    std::size_t read = 0;
    while (true) {
      auto n = server->stream_read(stream, sink);
      if (!n || *n == 0) break;
      read += *n;
    }
    // Every answer (ACKs, flow-control updates): built by the receiver, taken by the sender.
    while (auto t = server->poll_transmit(now, buf)) {
      enter(Side::sender);
      client->handle_datagram(now, kServer, std::span(buf).first(t->size));
      enter(Side::receiver);
    }
    return read;
  }

  void enter(Side side) {
    if (on_side != nullptr) on_side(side);
  }

  struct Datagram {
    std::array<std::uint8_t, 2048> bytes{};
    std::size_t size = 0;
  };
  std::vector<Datagram> in_flight;  // one batch of data packets between the two
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
