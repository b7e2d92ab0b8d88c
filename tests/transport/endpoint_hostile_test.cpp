// An attacker throwing datagrams at a server endpoint that holds one established connection:
// random bytes, and mutations of the real client's own datagrams (its Initiation, its handshake
// confirmation and its data packets), from the client's address and from addresses of the
// attacker's own. The attacker is written as code; the endpoint is driven directly (no simulated
// network) so a million datagrams take seconds.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/random.hpp"
#include "sim/network.hpp"
#include "transport/endpoint.hpp"
#include "transport/endpoint_node.hpp"
#include "wire/packet.hpp"

namespace srudp::transport {
namespace {

const SocketAddress kServer = SocketAddress::v4(203, 0, 113, 1, 4433);
const SocketAddress kClient = SocketAddress::v4(198, 51, 100, 1, 5000);

using test::EndpointNode;
using test::psk_config;

// Everything the server has counted as dropped, wherever it was dropped.
std::uint64_t drops_counted(Endpoint& server, ConnectionHandle connection) {
  const auto& e = server.counters();
  const auto& r = server.responder()->counters();
  const ConnectionStats s = server.connection(connection)->stats();
  return e.dropped_unknown + e.dropped_malformed + e.dropped_over_capacity + r.dropped_mac1 + r.dropped_replay +
         r.dropped_capacity + r.dropped_malformed + r.dropped_handshake + s.dropped_unauthenticated +
         s.dropped_replayed;
}

// The attacker's own randomness: fast and seeded (srudp's SeededRandom runs a cipher per draw).
class Attacker {
 public:
  explicit Attacker(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t uniform(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(engine_); }
  void fill(std::span<std::uint8_t> bytes) {
    std::size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
      const std::uint64_t word = engine_();
      std::memcpy(bytes.data() + i, &word, 8);
    }
    for (; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(engine_());
  }

 private:
  std::mt19937_64 engine_;
};

// One of: random bytes of a random length (a quarter), or a captured datagram with one to four
// changes: a flipped bit, a byte overwritten, cut short, random bytes appended, or (the attacker
// knows the wire format) a data packet's packet number set to a fresh value, so the packet gets
// past duplicate detection to the AEAD. Never the captured datagram itself (that would be a plain
// replay, tested elsewhere).
std::vector<std::uint8_t> hostile_datagram(Attacker& rng, const std::vector<std::vector<std::uint8_t>>& captured) {
  if (rng.uniform(4) == 0) {
    std::vector<std::uint8_t> bytes(rng.uniform(1501));
    rng.fill(bytes);
    return bytes;
  }
  const auto& original = captured[rng.uniform(captured.size())];
  std::vector<std::uint8_t> bytes = original;
  const std::uint64_t changes = 1 + rng.uniform(4);
  for (std::uint64_t i = 0; i < changes || bytes == original; ++i) {
    switch (rng.uniform(5)) {
      case 0:
        if (!bytes.empty()) bytes[rng.uniform(bytes.size())] ^= static_cast<std::uint8_t>(1u << rng.uniform(8));
        break;
      case 1:
        if (!bytes.empty()) bytes[rng.uniform(bytes.size())] = static_cast<std::uint8_t>(rng.uniform(256));
        break;
      case 2:
        bytes.resize(rng.uniform(bytes.size() + 1));
        break;
      case 3:
        if (const auto header = wire::decode_data_header(bytes)) {
          rng.fill(std::span(bytes).subspan(header->header_size - header->pn_length, header->pn_length));
        }
        break;
      default: {
        const std::size_t old_size = bytes.size();
        bytes.resize(old_size + 1 + rng.uniform(64));
        rng.fill(std::span(bytes).subspan(old_size));
        break;
      }
    }
  }
  return bytes;
}

// A server endpoint and a real client on a simulated network, with a tap that records every
// datagram the client sends (what an attacker on the path sees) and counts the server's datagrams
// to anyone else. connect() establishes the client's connection.
struct ObservedPair {
  ObservedPair(std::uint64_t seed, ConnectionConfig connection_config)
      : net(seed),
        rng(seed),
        config(std::move(connection_config)),
        server(kServer, [&] {
          EndpointConfig c;
          c.accept_incoming = true;
          c.server_connection = config.clone();
          return c;
        }(), rng),
        client(kClient, {}, rng) {
    net.add_host(server, kServer);
    net.add_host(client, kClient);
    net.add_tap(net.internet(), [this](Instant, sim::Datagram& d) {
      if (d.from == kClient) captured.push_back(d.bytes);
      if (d.from == kServer && d.to != kClient) ++sent_elsewhere;
      return sim::TapVerdict::pass;
    });
  }
  ::testing::AssertionResult connect() {
    handle = client.endpoint.connect(config.clone(), kServer, net.now());
    if (!handle) return ::testing::AssertionFailure() << handle.error().message();
    if (!net.run_until([&] { return server.established.size() == 1 && client.established.size() == 1; },
                       std::chrono::seconds(5))) {
      return ::testing::AssertionFailure() << "not established";
    }
    return ::testing::AssertionSuccess();
  }
  // Through the endpoint each time: that is how it learns the connection has something to send.
  Connection* sender() { return client.endpoint.connection(*handle); }

  sim::Network net;
  SeededRandom rng;
  ConnectionConfig config;
  EndpointNode server;
  EndpointNode client;
  Result<ConnectionHandle> handle = errc::invalid_argument;
  std::vector<std::vector<std::uint8_t>> captured;
  std::uint64_t sent_elsewhere = 0;  // datagrams from the server to anyone but the client
};

TEST(EndpointHostile, AMillionRandomAndMutatedDatagramsGetNoAnswerAndLeaveNoState) {
  ObservedPair pair(91, psk_config());
  auto& [net, rng, config, server, client, handle, captured, sent_elsewhere] = pair;
  // A real connection carrying a stream, whose datagrams the attacker has seen.
  ASSERT_TRUE(pair.connect());
  const auto sender = [&] { return pair.sender(); };
  const auto stream = sender()->open_stream();
  ASSERT_TRUE(stream);
  const std::string text(20'000, 'x');
  ASSERT_EQ(*sender()->stream_write(*stream, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())),
            text.size());
  net.wake(client);
  ASSERT_TRUE(net.run_for(std::chrono::milliseconds(500)));
  ASSERT_GE(captured.size(), 10u);
  const ConnectionHandle victim = server.accepted.at(0);
  const ConnectionStats before = server.endpoint.connection(victim)->stats();
  const std::uint64_t drops_before = drops_counted(server.endpoint, victim);

  // The flood, at one instant: no timer can fire, so anything sent would be an answer to it.
  constexpr std::uint64_t kDatagrams = 1'000'000;
  const Instant now = net.now();
  Attacker attacker(91);
  std::uint64_t answers = 0;
  std::array<std::uint8_t, 2048> out{};
  for (std::uint64_t i = 0; i < kDatagrams; ++i) {
    const SocketAddress from =
        attacker.uniform(2) == 0
            ? kClient
            : SocketAddress::v4(static_cast<std::uint32_t>(0x0A000000u + attacker.uniform(1u << 24)),
                                static_cast<std::uint16_t>(1024 + attacker.uniform(60000)));
    server.endpoint.handle_datagram(now, from, hostile_datagram(attacker, captured));
    if (i % 1024 == 0) {
      while (server.endpoint.poll_transmit(now, out)) ++answers;
      server.drain();
    }
  }
  while (server.endpoint.poll_transmit(now, out)) ++answers;
  server.drain();

  EXPECT_EQ(answers, 0u);
  EXPECT_EQ(server.endpoint.connection_count(), 1u);
  EXPECT_EQ(server.accepted.size(), 1u);
  const ConnectionStats after = server.endpoint.connection(victim)->stats();
  EXPECT_EQ(after.packets_received, before.packets_received);  // nothing got through
  EXPECT_EQ(after.path_migrations, before.path_migrations);
  EXPECT_EQ(server.endpoint.connection(victim)->peer_address(), kClient);
  // Every datagram was dropped and counted somewhere; where, shows how deep the flood got.
  EXPECT_EQ(drops_counted(server.endpoint, victim) - drops_before, kDatagrams);
  const auto& e = server.endpoint.counters();
  const auto& r = server.endpoint.responder()->counters();
  std::printf("  dropped: unknown %llu, malformed %llu, Initiations failing mac1 %llu (malformed %llu), "
              "data packets failing the AEAD %llu, replayed or duplicate %llu\n",
              static_cast<unsigned long long>(e.dropped_unknown), static_cast<unsigned long long>(e.dropped_malformed),
              static_cast<unsigned long long>(r.dropped_mac1), static_cast<unsigned long long>(r.dropped_malformed),
              static_cast<unsigned long long>(after.dropped_unauthenticated - before.dropped_unauthenticated),
              static_cast<unsigned long long>(after.dropped_replayed - before.dropped_replayed));

  // The connection is untouched: more data still arrives, in order, and the stream completes.
  ASSERT_EQ(*sender()->stream_write(*stream, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())),
            text.size());
  ASSERT_FALSE(sender()->stream_finish(*stream));
  net.wake(client);
  std::vector<std::uint8_t> got;
  std::array<std::uint8_t, 4096> buf{};
  ASSERT_TRUE(net.run_until([&] {
    for (;;) {
      const auto n = server.endpoint.connection(victim)->stream_read(*stream, buf);
      if (!n || *n == 0) break;
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    return got.size() == 2 * text.size();
  }, std::chrono::seconds(5))) << got.size();
  EXPECT_EQ(std::string(got.begin(), got.end()), text + text);
  // Nor did anything reach the attacker's addresses later, once time moved on again.
  EXPECT_EQ(sent_elsewhere, 0u);
}


// Everything the client ever sent (its Initiation, handshake confirmation, data packets under
// several key generations, ACKs, the stream's FIN) is replayed a thousand times, from the client's
// address and from the attacker's own: no new session, no key update, no byte delivered twice, no
// answer, and the connection carries on.
TEST(EndpointHostile, EveryDatagramReplayedAThousandTimesChangesNothing) {
  auto limits = crypto::PacketProtectionLimits::defaults_for(crypto::AeadAlgorithm::aes256_gcm);
  limits.key_update_after = 16;  // so the capture spans several key generations
  auto replay_config = psk_config();
  replay_config.key_limits = limits;
  ObservedPair pair(93, std::move(replay_config));
  auto& [net, rng, config, server, client, handle, captured, sent_elsewhere] = pair;
  ASSERT_TRUE(pair.connect());
  const auto sender = [&] { return pair.sender(); };
  const auto stream = sender()->open_stream();
  ASSERT_TRUE(stream);
  std::vector<std::uint8_t> text(100'000);
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<std::uint8_t>(i * 7 + i / 256);
  ASSERT_EQ(*sender()->stream_write(*stream, text), text.size());
  ASSERT_FALSE(sender()->stream_finish(*stream));
  net.wake(client);
  const ConnectionHandle victim = server.accepted.at(0);
  std::vector<std::uint8_t> got;
  ASSERT_TRUE(net.run_until([&] {
    server.read_all(victim, *stream, got);
    return server.endpoint.connection(victim)->stream_at_end(*stream);
  }, std::chrono::seconds(10)));
  ASSERT_TRUE(got == text);
  ASSERT_TRUE(net.run_for(std::chrono::milliseconds(200)));  // the last ACKs settle
  const ConnectionStats before = server.endpoint.connection(victim)->stats();
  ASSERT_GE(before.key_updates, 3u) << "the capture should span several key generations";
  const std::uint64_t drops_before = drops_counted(server.endpoint, victim);

  constexpr int kReplays = 1000;
  const Instant now = net.now();
  const SocketAddress elsewhere = SocketAddress::v4(192, 0, 2, 66, 6666);
  std::uint64_t answers = 0;
  std::array<std::uint8_t, 2048> out{};
  for (int round = 0; round < kReplays; ++round) {
    for (const auto& datagram : captured) {
      server.endpoint.handle_datagram(now, round % 2 == 0 ? kClient : elsewhere, datagram);
    }
    while (server.endpoint.poll_transmit(now, out)) ++answers;
    server.drain();
  }

  const std::uint64_t replayed = static_cast<std::uint64_t>(kReplays) * captured.size();
  std::printf("  %zu captured datagrams replayed %d times each: %llu datagrams, %llu answers\n", captured.size(),
              kReplays, static_cast<unsigned long long>(replayed), static_cast<unsigned long long>(answers));
  EXPECT_EQ(answers, 0u);
  EXPECT_EQ(server.endpoint.connection_count(), 1u);  // no new session
  EXPECT_EQ(server.accepted.size(), 1u);
  const ConnectionStats after = server.endpoint.connection(victim)->stats();
  EXPECT_EQ(after.key_updates, before.key_updates);  // no rekey
  EXPECT_EQ(after.packets_received, before.packets_received);
  EXPECT_EQ(after.path_migrations, before.path_migrations);
  EXPECT_EQ(server.endpoint.connection(victim)->peer_address(), kClient);
  EXPECT_EQ(drops_counted(server.endpoint, victim) - drops_before, replayed);
  // No byte delivered twice: the stream stays at its end.
  std::array<std::uint8_t, 64> buf{};
  const auto n = server.endpoint.connection(victim)->stream_read(*stream, buf);
  EXPECT_TRUE(!n || *n == 0);
  EXPECT_TRUE(server.endpoint.connection(victim)->stream_at_end(*stream));

  // The connection carries on: a new stream arrives intact.
  const auto second = sender()->open_stream();
  ASSERT_TRUE(second);
  ASSERT_EQ(*sender()->stream_write(*second, text), text.size());
  net.wake(client);
  std::vector<std::uint8_t> again;
  ASSERT_TRUE(net.run_until([&] {
    server.read_all(victim, *second, again);
    return again.size() >= text.size();
  }, std::chrono::seconds(10)));
  EXPECT_TRUE(again == text);
  EXPECT_EQ(sent_elsewhere, 0u);  // not even a path challenge went to the replayer's address
}


// An attacker on the path takes one genuine client packet, drops it, and sends it on with a
// victim's address as the source (or a NAT rebinds for just one packet). The packet is
// authentic and new, so the server probes the victim's address as the connection's new path; until
// that path is validated it sends there at most three times what it received from there, here a
// single packet, however much it has to send. The transfer then carries on over the client's path.
TEST(EndpointHostile, AGenuinePacketRedirectedFromAVictimDrawsAtMostThreeTimesItsSize) {
  // (The server's packets to the victim go nowhere: no host has that address.)
  ObservedPair pair(95, psk_config());
  ASSERT_TRUE(pair.connect());
  const SocketAddress victim_address = SocketAddress::v4(192, 0, 2, 99, 9999);
  std::uint64_t large_client_datagrams = 0, redirected = 0, to_victim = 0;
  std::optional<Instant> redirected_at;
  pair.net.add_tap(pair.net.internet(), [&](Instant now, sim::Datagram& d) {
    // Then the attacker holds the client's packets back for 300 ms, so the server has a while on
    // the path it was pointed to, with plenty to send.
    if (d.from == kClient && redirected_at && now < *redirected_at + std::chrono::milliseconds(300)) {
      return sim::TapVerdict::drop;
    }
    if (d.from == kClient && d.bytes.size() >= 1000 && ++large_client_datagrams == 10) {
      d.from = victim_address;
      redirected = d.bytes.size();
      redirected_at = now;
    }
    if (d.to == victim_address) to_victim += d.bytes.size();
    return sim::TapVerdict::pass;
  });
  // The server has a lot to send: 2 MB on a stream of its own.
  const ConnectionHandle at_server = pair.server.accepted.at(0);
  auto* server_connection = pair.server.endpoint.connection(at_server);
  const auto stream = server_connection->open_stream();
  ASSERT_TRUE(stream);
  std::vector<std::uint8_t> data(2'000'000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i ^ (i >> 9));
  std::size_t written = 0;
  // The client sends too, so the attacker has full-size packets to redirect.
  const auto upload = pair.sender()->open_stream();
  ASSERT_TRUE(upload);
  ASSERT_EQ(*pair.sender()->stream_write(*upload, std::span(data).first(200'000)), 200'000u);
  pair.net.wake(pair.client);
  std::vector<std::uint8_t> got;
  ASSERT_TRUE(pair.net.run_until([&] {
    if (written < data.size()) {
      const auto n = pair.server.endpoint.connection(at_server)->stream_write(*stream, std::span(data).subspan(written));
      if (n && *n > 0) {
        written += *n;
        pair.net.wake(pair.server);
      }
    }
    pair.client.read_all(*pair.handle, *stream, got);
    return got.size() == data.size();
  }, std::chrono::seconds(30))) << got.size();
  EXPECT_TRUE(got == data);
  ASSERT_GT(redirected, 0u);
  const ConnectionStats stats = pair.server.endpoint.connection(at_server)->stats();
  EXPECT_GE(stats.path_migrations, 2u);  // to the victim, and back to the client
  std::printf("  one redirected packet of %llu bytes drew %llu bytes to the victim\n",
              static_cast<unsigned long long>(redirected), static_cast<unsigned long long>(to_victim));
  EXPECT_GT(to_victim, 0u);  // the new path was probed...
  EXPECT_LE(to_victim, 3 * redirected);  // ...within the anti-amplification limit
  EXPECT_EQ(pair.server.endpoint.connection(at_server)->peer_address(), kClient);
}

}  // namespace
}  // namespace srudp::transport
