// What an endpoint's many idle connections cost the one that is busy: a client and a server
// transport::Endpoint in memory with N established, idle connections between them, and a bulk
// stream on one more, every datagram handed over directly. Reports ns per data packet (sender
// build + seal, endpoint routing and timers, receiver open + reassembly + read, the ACKs back) for
// N = 10 and N = 10,000; the ratio of the two is what scaling costs (1.0 is ideal).
#include "transport/endpoint.hpp"

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <array>
#include <optional>
#include <stdexcept>
#include <vector>

namespace {

using srudp::Instant;
using srudp::SocketAddress;
using srudp::transport::ConnectionConfig;
using srudp::transport::ConnectionHandle;
using srudp::transport::Endpoint;
using srudp::transport::EndpointConfig;

const SocketAddress kClient = SocketAddress::v4(198, 51, 100, 1, 4000);
const SocketAddress kServer = SocketAddress::v4(203, 0, 113, 2, 5000);

ConnectionConfig connection_config() {
  ConnectionConfig c;
  std::array<std::uint8_t, 32> key{};
  key.fill(42);
  c.handshake.psk = srudp::crypto::PresharedKey(std::span<const std::uint8_t, 32>(key));
  c.aead = srudp::crypto::AeadAlgorithm::chacha20_poly1305;
  c.keepalive_interval = std::chrono::hours(1);  // idle means idle for the whole run
  c.idle_timeout = std::chrono::hours(2);
  return c;
}

EndpointConfig endpoint_config(bool server) {
  EndpointConfig c;
  c.accept_incoming = server;
  c.server_connection = connection_config();
  c.max_connections = 20'000;
  c.responder_limits.max_half_open = 20'000;
  c.responder_limits.cookie_threshold = 20'000;
  return c;
}

struct Pair {
  explicit Pair(std::size_t idle) : client(endpoint_config(false), rng_c), server(endpoint_config(true), rng_s) {
    // Open the idle connections in batches (as a busy server would see them arrive), each batch
    // run until established; then the busy one.
    constexpr std::size_t kBatch = 250;
    for (std::size_t opened = 0; opened < idle; opened += kBatch) {
      for (std::size_t i = opened; i < std::min(idle, opened + kBatch); ++i) {
        if (!client.connect(connection_config(), kServer, now)) throw std::runtime_error("connect");
      }
      for (int round = 0; round < 50; ++round) exchange(std::chrono::milliseconds(1));
    }
    auto busy = client.connect(connection_config(), kServer, now);
    if (!busy) throw std::runtime_error("connect");
    busy_ = *busy;
    for (int round = 0; round < 50; ++round) exchange(std::chrono::milliseconds(1));
    // Let every connection settle (delayed ACKs, confirmations) before measuring.
    for (int round = 0; round < 30; ++round) exchange(std::chrono::milliseconds(100));
    if (client.connection_count() != idle + 1 || server.connection_count() != idle + 1) {
      throw std::runtime_error("not every connection was established");
    }
    if (!client.connection(busy_)->is_established()) throw std::runtime_error("busy connection not established");
    stream_ = *client.connection(busy_)->open_stream();
  }

  void timers() {
    for (Endpoint* e : {&client, &server}) {
      if (auto t = e->poll_timeout(); t && *t <= now) e->handle_timeout(now);
    }
  }
  void server_to_client() {
    while (auto t = server.poll_transmit(now, buf)) client.handle_datagram(now, kServer, std::span(buf).first(t->size));
  }
  void exchange(srudp::Duration step) {
    now += step;
    timers();
    while (auto t = client.poll_transmit(now, buf)) server.handle_datagram(now, kClient, std::span(buf).first(t->size));
    server_to_client();
    while (auto e = server.poll_event()) {
      if (e->kind == srudp::transport::EndpointEvent::Kind::accepted) server_busy_ = e->handle;  // the latest
    }
    while (client.poll_event()) {
    }
  }

  // One data packet client -> server; returns the stream bytes the server read.
  std::size_t step() {
    (void)client.connection(busy_)->stream_write(stream_, payload);
    now += std::chrono::microseconds(2);
    timers();
    if (auto t = client.poll_transmit(now, buf)) {
      server.handle_datagram(now, kClient, std::span(buf).first(t->size));
      ++packets;
    } else {
      now += std::chrono::microseconds(100);  // paced: let time pass
    }
    std::size_t read = 0;
    auto* receiving = server.connection(server_busy_);
    while (true) {
      auto n = receiving->stream_read(stream_, sink);
      if (!n || *n == 0) break;
      read += *n;
    }
    server_to_client();
    while (server.poll_event()) {
    }
    while (client.poll_event()) {
    }
    return read;
  }

  Instant now{std::chrono::hours(1)};
  srudp::SeededRandom rng_c{1}, rng_s{2};
  Endpoint client, server;
  ConnectionHandle busy_ = 0, server_busy_ = 0;
  std::uint64_t stream_ = 0;
  std::array<std::uint8_t, 2048> buf{};
  std::vector<std::uint8_t> payload = std::vector<std::uint8_t>(64 * 1024, 0xab);
  std::array<std::uint8_t, 64 * 1024> sink{};
  std::uint64_t packets = 0;
};

void BM_BusyConnectionAmongIdleOnes(benchmark::State& state) {
  Pair p(static_cast<std::size_t>(state.range(0)));
  std::uint64_t bytes = 0;
  const std::uint64_t packets_before = p.packets;
  for (auto _ : state) bytes += p.step();
  const auto packets = static_cast<double>(p.packets - packets_before);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["idle_connections"] = static_cast<double>(state.range(0));
  state.counters["time_per_packet"] =
      benchmark::Counter(packets, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  if (!p.client.connection(p.busy_)->is_established()) state.SkipWithError("connection lost");
}

BENCHMARK(BM_BusyConnectionAmongIdleOnes)->Arg(10)->Arg(10'000)->Unit(benchmark::kMicrosecond);

// Heap memory per idle, established connection (one side's), from glibc's count of allocated
// bytes before and after opening state.range(0) of them between the two endpoints.
std::size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;  // the arenas' allocated bytes, plus the mmap'd large blocks
}

void BM_IdleConnectionMemory(benchmark::State& state) {
  const auto idle = static_cast<std::size_t>(state.range(0));
  const std::size_t before = heap_in_use();
  std::optional<Pair> p(std::in_place, idle);
  const std::size_t after = heap_in_use();
  for (auto _ : state) benchmark::DoNotOptimize(p->client.connection_count());
  // Both endpoints hold idle + 1 connections; the pair's own 64 KiB payload is noise at this scale.
  const double per_connection = (static_cast<double>(after) - static_cast<double>(before)) / static_cast<double>(2 * (idle + 1));
  state.counters["bytes_per_idle_connection"] = per_connection;
  state.counters["connections"] = static_cast<double>(idle + 1);
}

BENCHMARK(BM_IdleConnectionMemory)->Arg(1000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
