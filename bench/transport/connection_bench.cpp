// CPU cost of the connection's send and receive path: two Connections in memory, a bulk stream
// from client to server, every datagram handed over directly (no simulator, no loss). Virtual time
// advances 2 us per data packet, which keeps pacing and the congestion window out of the way.
// Reports ns per data packet (sender build + seal, receiver open + reassembly + read, and the
// ACK traffic back, all included) and stream MB/s.
#include "transport/connection.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <optional>
#include <stdexcept>
#include <vector>

#include "crypto/handshake_responder.hpp"

namespace {

using srudp::Instant;
using srudp::SocketAddress;
using srudp::transport::Connection;
using srudp::transport::ConnectionConfig;

const SocketAddress kClient = SocketAddress::v4(198, 51, 100, 1, 4000);
const SocketAddress kServer = SocketAddress::v4(203, 0, 113, 2, 5000);

ConnectionConfig config(srudp::crypto::AeadAlgorithm aead) {
  ConnectionConfig c;
  std::array<std::uint8_t, 32> key{};
  key.fill(42);
  c.handshake.psk = srudp::crypto::PresharedKey(std::span<const std::uint8_t, 32>(key));
  c.aead = aead;
  c.keepalive_interval = std::chrono::hours(1);
  c.idle_timeout = std::chrono::hours(1);
  return c;
}

struct Pair {
  explicit Pair(srudp::crypto::AeadAlgorithm aead) : rng_c(1), rng_s(2) {
    auto c = Connection::connect(config(aead), kServer, now, rng_c);
    if (!c) throw std::runtime_error("connect");
    client.emplace(std::move(*c));
    auto hc = config(aead).handshake.clone();
    hc.payload = Connection::handshake_payload(config(aead));
    srudp::crypto::HandshakeResponder responder(std::move(hc), {}, rng_s);
    auto t = client->poll_transmit(now, buf);
    srudp::wire::ConnectionId cid{};
    rng_s.fill(cid);
    auto decision = responder.on_initiation(now, kClient, std::span(buf).first(t->size), 0, cid);
    auto* accept = std::get_if<srudp::crypto::HandshakeResponder::Accept>(&decision);
    if (!accept) throw std::runtime_error("accept");
    auto s = Connection::accept(config(aead), std::move(accept->handshake), kClient, t->size, now, rng_s);
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

void BM_BulkStream(benchmark::State& state, srudp::crypto::AeadAlgorithm aead) {
  if (!srudp::crypto::aead_available(aead)) {
    state.SkipWithError("algorithm not available on this CPU");
    return;
  }
  Pair p(aead);
  std::uint64_t bytes = 0;
  const std::uint64_t packets_before = p.packets;
  for (auto _ : state) bytes += p.step();
  const auto packets = static_cast<double>(p.packets - packets_before);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["packets"] = packets;
  state.counters["time_per_packet"] =
      benchmark::Counter(packets, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["path_mtu"] = static_cast<double>(p.client->stats().path_mtu);
  if (!p.client->is_established()) state.SkipWithError("connection lost");
}

BENCHMARK_CAPTURE(BM_BulkStream, chacha20_poly1305, srudp::crypto::AeadAlgorithm::chacha20_poly1305);
BENCHMARK_CAPTURE(BM_BulkStream, aes256_gcm, srudp::crypto::AeadAlgorithm::aes256_gcm);

}  // namespace
