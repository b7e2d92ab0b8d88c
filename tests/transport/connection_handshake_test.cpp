// transport::Connection handshakes through the network simulator: pinned identities (XX, XXpsk3),
// wrong pinned keys, simultaneous open, automatic key updates under load, handshakes under burst
// loss, and a man in the middle. Wherever data flows, the stream bytes are compared exactly.
#include "transport/connection.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/handshake_responder.hpp"
#include "crypto/keypair.hpp"
#include "sim/network.hpp"
#include "transport/test_data.hpp"
#include "transport/connection_node.hpp"
#include "wire/packet.hpp"

namespace srudp::transport {
namespace {

using test::pattern;
using test::delay_link;
using test::psk_from;

using std::chrono::milliseconds;
using std::chrono::seconds;

const SocketAddress kA = SocketAddress::v4(198, 51, 100, 1, 4000);
const SocketAddress kB = SocketAddress::v4(203, 0, 113, 2, 5000);
const SocketAddress kM = SocketAddress::v4(192, 0, 2, 66, 6000);

constexpr std::size_t k256KB = 256 * 1024;
constexpr std::size_t k3MB = 3 * 1024 * 1024;


ConnectionConfig psk_config(std::uint8_t fill = 7) {
  ConnectionConfig c;
  c.handshake.psk = psk_from(fill);
  return c;
}

// XX (or XXpsk3 with `with_psk`) with our identity key and, if given, the peer's pinned key.
ConnectionConfig identity_config(const crypto::KeyPair& me, std::optional<crypto::PublicKey> pin, bool with_psk) {
  ConnectionConfig c;
  c.handshake.identity = me.clone();
  c.handshake.pinned_peer = pin;
  if (with_psk) c.handshake.psk = psk_from(9);
  return c;
}



// The application on one side: writes `to_send` on one stream it opens (FIN after it unless
// `keep_open`), reads every stream the peer opens, and records the connection's events.
struct App {
  std::optional<Connection> conn;
  bool established = false;
  std::optional<Instant> established_at;
  std::optional<std::error_code> closed;

  std::vector<std::uint8_t> to_send;
  bool keep_open = false;  // a relay keeps appending to to_send
  std::optional<std::uint64_t> own_stream;
  std::size_t written = 0;
  bool finished = false;

  std::set<std::uint64_t> peer_streams;
  std::map<std::uint64_t, std::vector<std::uint8_t>> received;  // by peer stream id
  std::set<std::uint64_t> ended;                                 // peer streams read to their end

  std::size_t bytes_received() const {
    std::size_t n = 0;
    for (const auto& [id, r] : received) n += r.size();
    return n;
  }
  // The peer's one stream, read to its end.
  const std::vector<std::uint8_t>* complete_stream() const {
    if (ended.empty()) return nullptr;
    auto it = received.find(*ended.begin());
    return it == received.end() ? nullptr : &it->second;
  }

  void pump(Instant now) {
    if (!conn) return;
    while (auto e = conn->poll_event()) {
      switch (e->kind) {
        case ConnectionEvent::Kind::established:
          established = true;
          established_at = now;
          break;
        case ConnectionEvent::Kind::closed: closed = e->error; break;
        case ConnectionEvent::Kind::stream_opened:
        case ConnectionEvent::Kind::stream_readable:
          if (!own_stream || e->stream_id != *own_stream) peer_streams.insert(e->stream_id);
          break;
        default: break;
      }
    }
    if (!conn->is_established()) return;
    if (!to_send.empty() && !own_stream) {
      if (auto id = conn->open_stream()) own_stream = *id;
    }
    if (own_stream && written < to_send.size()) {
      auto n = conn->stream_write(*own_stream, std::span(to_send).subspan(written));
      if (n) written += *n;
    }
    if (own_stream && written == to_send.size() && !finished && !keep_open) {
      finished = !conn->stream_finish(*own_stream);
    }
    std::array<std::uint8_t, 16384> buf{};
    for (std::uint64_t id : peer_streams) {
      while (true) {
        auto n = conn->stream_read(id, buf);
        if (!n || *n == 0) break;
        auto& r = received[id];
        r.insert(r.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
      }
      if (conn->stream_at_end(id)) ended.insert(id);
    }
  }
};

// What one side put on the wire, seen at poll_transmit (sending order).
struct WireLog {
  std::uint64_t data_packets = 0;
  std::uint64_t handshake_packets = 0;  // Noise messages 2 and 3
  std::uint64_t initiations = 0;
  std::uint64_t key_phase_flips = 0;    // key updates, as seen in the short header's phase bit
  std::optional<bool> last_phase;
  std::set<wire::ConnectionId> data_receiver_cids;

  void record(std::span<const std::uint8_t> bytes) {
    auto type = wire::peek_packet_type(bytes);
    if (!type) return;
    switch (*type) {
      case wire::PacketType::Initiation: ++initiations; return;
      case wire::PacketType::Handshake: ++handshake_packets; return;
      case wire::PacketType::Data: break;
      default: return;
    }
    auto header = wire::decode_data_header(bytes);
    if (!header) return;
    ++data_packets;
    data_receiver_cids.insert(header->receiver_cid);
    if (last_phase && *last_phase != header->key_phase) ++key_phase_flips;
    last_phase = header->key_phase;
  }
};

// The shared Connection node, recording what it puts on the wire.
class ConnNode final : public test::ConnectionNode<App> {
 public:
  using ConnectionNode::ConnectionNode;
  WireLog wire_log;

 private:
  void on_transmit(std::span<const std::uint8_t> bytes) override { wire_log.record(bytes); }
};

// A and B with the same link both ways; B listens and A connects, or both connect at once.
struct Pair : test::ConnectionPair<ConnNode> {
  Pair(std::uint64_t seed, const sim::LinkConfig& link, ConnectionConfig a_config, ConnectionConfig b_config,
       bool simultaneous = false)
      : ConnectionPair(seed, kA, kB, link, link, std::move(a_config), std::move(b_config), simultaneous) {}
};

// Both sides send their own `bytes` (different contents) on a stream they open; both must read
// the other's exactly.
void transfer_both_ways(Pair& t, std::size_t bytes, Duration limit) {
  const auto a_data = pattern(bytes, t.net.seed() ^ 0xa);
  const auto b_data = pattern(bytes, t.net.seed() ^ 0xb);
  t.a.app.to_send = a_data;
  t.b.app.to_send = b_data;
  t.net.wake(t.a);
  t.net.wake(t.b);
  const auto r = t.net.run_until(
      [&] { return (t.a.app.complete_stream() && t.b.app.complete_stream()) || t.a.app.closed || t.b.app.closed; },
      limit);
  ASSERT_TRUE(r) << r;
  ASSERT_NE(t.a.app.complete_stream(), nullptr) << t.net.describe();
  ASSERT_NE(t.b.app.complete_stream(), nullptr) << t.net.describe();
  EXPECT_TRUE(*t.b.app.complete_stream() == a_data) << "A->B stream differs " << t.net.describe();
  EXPECT_TRUE(*t.a.app.complete_stream() == b_data) << "B->A stream differs " << t.net.describe();
  EXPECT_EQ(t.a.app.bytes_received(), bytes);
  EXPECT_EQ(t.b.app.bytes_received(), bytes);
}

// Each side's data packets must carry the other side's local connection id, and only that one.
void expect_cids_match(const ConnNode& a, const ConnNode& b, const sim::Network& net) {
  ASSERT_GT(a.wire_log.data_packets, 0u);
  ASSERT_GT(b.wire_log.data_packets, 0u);
  EXPECT_EQ(a.wire_log.data_receiver_cids, std::set<wire::ConnectionId>{b.app.conn->local_cid()}) << net.describe();
  EXPECT_EQ(b.wire_log.data_receiver_cids, std::set<wire::ConnectionId>{a.app.conn->local_cid()}) << net.describe();
  EXPECT_NE(a.app.conn->local_cid(), b.app.conn->local_cid());
}

// ---- 1. pinned identities -----------------------------------------------------------------------

TEST(ConnectionHandshake, PinnedIdentitiesEstablishAndCarryStreamsBothWays) {
  SeededRandom keys(1);
  const auto ka = crypto::KeyPair::generate(keys), kb = crypto::KeyPair::generate(keys);
  for (bool with_psk : {false, true}) {
    SCOPED_TRACE(with_psk ? "XXpsk3" : "XX");
    Pair t(sim::test_seed(with_psk ? 102 : 101), delay_link(milliseconds(10)),
           identity_config(ka, kb.public_key, with_psk), identity_config(kb, ka.public_key, with_psk));
    SCOPED_TRACE(t.net.describe());
    const auto r = t.net.run_until([&] { return t.established(); }, seconds(5));
    ASSERT_TRUE(r) << r;
    // XX: three messages, then ESTABLISHED both ways: well under 200 ms with 10 ms links.
    EXPECT_LE(t.net.elapsed(), milliseconds(200));
    ASSERT_TRUE(t.client().peer_identity().has_value());
    ASSERT_TRUE(t.server().peer_identity().has_value());
    EXPECT_EQ(*t.client().peer_identity(), kb.public_key);
    EXPECT_EQ(*t.server().peer_identity(), ka.public_key);
    transfer_both_ways(t, k256KB, seconds(20));
    expect_cids_match(t.a, t.b, t.net);
    // The client opened a client-initiated stream (even id), the server a server-initiated one.
    ASSERT_TRUE(t.a.app.own_stream && t.b.app.own_stream);
    EXPECT_EQ(*t.a.app.own_stream & 1, 0u);
    EXPECT_EQ(*t.b.app.own_stream & 1, 1u);
  }
}

// Both sides pick the packet AEAD from each other's announced lists: AES-256-GCM when both have
// hardware AES (both default here), ChaCha20-Poly1305 when either allows only that. Lists with
// nothing in common (only possible when both sides force one, as benchmarks do: default peers
// always share ChaCha20-Poly1305) make no connection: the responder sees it first and drops the
// handshake, and the initiator, never answered, gives up at its handshake timeout.
TEST(ConnectionHandshake, NegotiatesThePacketAead) {
  const bool aes = crypto::aead_available(crypto::AeadAlgorithm::aes256_gcm);
  struct Case {
    std::optional<crypto::AeadAlgorithm> a, b;
    std::optional<crypto::AeadAlgorithm> expected;  // nullopt: no connection
  };
  const std::vector<Case> cases{
      {std::nullopt, std::nullopt, aes ? crypto::AeadAlgorithm::aes256_gcm : crypto::AeadAlgorithm::chacha20_poly1305},
      {std::nullopt, crypto::AeadAlgorithm::chacha20_poly1305, crypto::AeadAlgorithm::chacha20_poly1305},
      {crypto::AeadAlgorithm::chacha20_poly1305, std::nullopt, crypto::AeadAlgorithm::chacha20_poly1305},
      {crypto::AeadAlgorithm::aes256_gcm, crypto::AeadAlgorithm::chacha20_poly1305, std::nullopt},
  };
  std::uint64_t seed = 150;
  for (const Case& c : cases) {
    if (!aes && (c.a == crypto::AeadAlgorithm::aes256_gcm || c.b == crypto::AeadAlgorithm::aes256_gcm)) continue;
    auto a_cfg = psk_config();
    auto b_cfg = psk_config();
    a_cfg.aead = c.a;
    b_cfg.aead = c.b;
    Pair t(sim::test_seed(++seed), delay_link(milliseconds(10)), std::move(a_cfg), std::move(b_cfg));
    SCOPED_TRACE(t.net.describe());
    if (!c.expected) {
      const auto r = t.net.run_until([&] { return t.a.app.closed && t.b.app.closed; }, seconds(25));
      ASSERT_TRUE(r) << r;
      EXPECT_EQ(*t.b.app.closed, errc::handshake_failed);
      EXPECT_EQ(*t.a.app.closed, errc::handshake_timeout);
      EXPECT_FALSE(t.a.app.established || t.b.app.established);
      continue;
    }
    const auto r = t.net.run_until([&] { return t.established(); }, seconds(5));
    ASSERT_TRUE(r) << r;
    EXPECT_EQ(t.client().stats().aead, c.expected);
    EXPECT_EQ(t.server().stats().aead, c.expected);
    transfer_both_ways(t, k256KB, seconds(20));
  }
}

// ---- 2. wrong pinned key ------------------------------------------------------------------------

TEST(ConnectionHandshake, WrongPinnedKeyOnEitherSideNeverEstablishes) {
  SeededRandom keys(2);
  const auto ka = crypto::KeyPair::generate(keys), kb = crypto::KeyPair::generate(keys),
             other = crypto::KeyPair::generate(keys);
  for (bool client_pins_wrong : {true, false}) {
    SCOPED_TRACE(client_pins_wrong ? "client pins the wrong server key" : "server pins the wrong client key");
    auto a_cfg = identity_config(ka, client_pins_wrong ? other.public_key : kb.public_key, false);
    auto b_cfg = identity_config(kb, client_pins_wrong ? ka.public_key : other.public_key, false);
    Pair t(sim::test_seed(client_pins_wrong ? 201 : 202), delay_link(milliseconds(10)), std::move(a_cfg),
           std::move(b_cfg));
    SCOPED_TRACE(t.net.describe());
    t.a.app.to_send = pattern(10'000, 1);
    t.b.app.to_send = pattern(10'000, 2);

    // The side that sees the wrong key drops that message (it might be a forgery, and the genuine
    // peer's answer could still come) and, when nothing else arrives, says why at the handshake
    // timeout.
    ConnNode& detector = client_pins_wrong ? t.a : t.b;
    ConnNode& other_side = client_pins_wrong ? t.b : t.a;
    ASSERT_TRUE(t.net.run_for(seconds(19)));
    EXPECT_FALSE(detector.app.closed.has_value());
    auto r = t.net.run_until([&] { return detector.app.closed.has_value(); }, seconds(3));
    ASSERT_TRUE(r) << r;
    EXPECT_EQ(*detector.app.closed, errc::peer_key_mismatch);
    EXPECT_EQ(detector.app.conn->error(), errc::peer_key_mismatch);
    EXPECT_EQ(detector.app.conn->state(), ConnectionState::closed);

    // The other side never hears a valid answer: it gives up at the handshake timeout.
    ASSERT_TRUE(other_side.app.conn.has_value());
    r = t.net.run_until([&] { return other_side.app.closed.has_value(); }, seconds(5));
    ASSERT_TRUE(r) << r;
    EXPECT_EQ(*other_side.app.closed, errc::handshake_timeout);
    EXPECT_GE(t.net.elapsed(), seconds(20));
    EXPECT_LE(t.net.elapsed(), seconds(21));

    EXPECT_FALSE(t.a.app.established);
    EXPECT_FALSE(t.b.app.established);
    EXPECT_FALSE(t.a.app.own_stream.has_value());
    EXPECT_FALSE(t.b.app.own_stream.has_value());
    EXPECT_EQ(t.a.app.bytes_received(), 0u);
    EXPECT_EQ(t.b.app.bytes_received(), 0u);
    EXPECT_TRUE(t.a.app.peer_streams.empty());
    EXPECT_TRUE(t.b.app.peer_streams.empty());
    // No data packet was ever authenticated by the side that refused the peer.
    EXPECT_EQ(detector.app.conn->stats().packets_received, 0u);
    EXPECT_EQ(t.a.app.conn->poll_timeout(), std::nullopt);
    EXPECT_EQ(t.b.app.conn->poll_timeout(), std::nullopt);
  }
}

// ---- 3. simultaneous open -----------------------------------------------------------------------

TEST(ConnectionHandshake, SimultaneousOpenYieldsOneConnection) {
  SeededRandom keys(3);
  const auto ka = crypto::KeyPair::generate(keys), kb = crypto::KeyPair::generate(keys);
  // SRUDP_SIM_SEED=N runs seeds N..N+15 (so a failing seed replays first).
  const std::uint64_t first = sim::test_seed(300);
  for (std::uint64_t seed = first; seed < first + 16; ++seed) {
    // Even seeds: NNpsk0; odd seeds: XXpsk3 with pinned keys (the loser must answer as XX responder).
    const bool identity = seed % 2 == 1;
    auto a_cfg = identity ? identity_config(ka, kb.public_key, true) : psk_config();
    auto b_cfg = identity ? identity_config(kb, ka.public_key, true) : psk_config();
    Pair t(seed, delay_link(milliseconds(20)), std::move(a_cfg), std::move(b_cfg), /*simultaneous=*/true);
    SCOPED_TRACE(t.net.describe());
    SCOPED_TRACE(identity ? "XXpsk3" : "NNpsk0");
    const auto r = t.net.run_until([&] { return t.established(); }, seconds(5));
    ASSERT_TRUE(r) << r;
    // Both sent an Initiation; exactly one side answered with message 2 (and, for XX, the other
    // with message 3): one handshake, one initiator, one responder.
    EXPECT_GE(t.a.wire_log.initiations, 1u);
    EXPECT_GE(t.b.wire_log.initiations, 1u);
    const bool a_answered = t.a.wire_log.handshake_packets > 0, b_answered = t.b.wire_log.handshake_packets > 0;
    if (identity) {
      EXPECT_TRUE(a_answered && b_answered);  // message 2 one way, message 3 the other
    } else {
      EXPECT_NE(a_answered, b_answered);  // NNpsk0: only the responder sends message 2
    }
    if (identity) {
      ASSERT_TRUE(t.a.app.conn->peer_identity() && t.b.app.conn->peer_identity());
      EXPECT_EQ(*t.a.app.conn->peer_identity(), kb.public_key);
      EXPECT_EQ(*t.b.app.conn->peer_identity(), ka.public_key);
    }
    transfer_both_ways(t, 64 * 1024, seconds(10));
    expect_cids_match(t.a, t.b, t.net);
    // Stream ids encode the role: one side opened a client (initiator) stream, the other a server one.
    ASSERT_TRUE(t.a.app.own_stream && t.b.app.own_stream);
    EXPECT_NE(*t.a.app.own_stream & 1, *t.b.app.own_stream & 1);
    EXPECT_EQ(t.a.app.peer_streams.size(), 1u);
    EXPECT_EQ(t.b.app.peer_streams.size(), 1u);
  }
}

// ---- 3b. what an attacker without the keys can do to a handshake --------------------------------

TEST(ConnectionHandshake, RefusesAnUnauthenticatedConfiguration) {
  SeededRandom rng(20);
  EXPECT_EQ(Connection::connect(ConnectionConfig{}, kB, Instant{}, rng).error(), errc::invalid_argument);
}

// Before B's message 2 reaches A, a forger sends A a corrupted copy addressed to A's cid: A drops
// it and B's genuine message completes the handshake.
TEST(ConnectionHandshake, ForgedHandshakePacketDoesNotAbortTheHandshake) {
  SeededRandom keys(15);
  const auto ka = crypto::KeyPair::generate(keys), kb = crypto::KeyPair::generate(keys);
  Pair t(16, delay_link(milliseconds(10)), identity_config(ka, kb.public_key, true),
         identity_config(kb, ka.public_key, true));
  bool forged_once = false;
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.from == kB && d.bytes[0] == 0x42 && !forged_once) {
      forged_once = true;
      sim::Datagram forged = d;
      for (std::size_t i = 30; i < forged.bytes.size(); ++i) forged.bytes[i] ^= 0x5a;
      t.net.inject(t.net.internet(), forged);                           // the forgery first,
      t.net.inject(t.net.internet(), d, milliseconds(5));               // the genuine one later
      return sim::TapVerdict::drop;
    }
    return sim::TapVerdict::pass;
  });
  const auto r = t.net.run_until([&] { return t.established(); }, seconds(5));
  ASSERT_TRUE(r) << r << t.net.describe();
  EXPECT_TRUE(forged_once);
  EXPECT_EQ(t.a.wire_log.initiations, 1u);  // no retransmission was needed
}

// The handshake's round trip is the first RTT sample (RFC 9002 section 5), so a first flight lost
// right after the handshake is resent one probe timeout later on this 20 ms path, not after the
// second the default 333 ms initial RTT makes of it. Here A's first data packets (its ESTABLISHED
// and its first stream bytes) are lost, so no ACK can give A a sample before the probe.
TEST(ConnectionHandshake, AFirstFlightLostRightAfterTheHandshakeIsResentOnItsRoundTrip) {
  Pair t(17, delay_link(milliseconds(10)), psk_config(), psk_config());
  std::optional<Instant> first_data;
  int dropped = 0;
  t.net.add_tap(t.net.internet(), [&](Instant now, sim::Datagram& d) {
    const auto type = wire::peek_packet_type(d.bytes);
    if (d.from != kA || !type || *type != wire::PacketType::Data) return sim::TapVerdict::pass;
    if (!first_data) first_data = now;
    if (now > *first_data + milliseconds(2)) return sim::TapVerdict::pass;
    ++dropped;
    return sim::TapVerdict::drop;
  });
  const auto message = pattern(1000, 17);
  t.a.app.to_send = message;
  const auto r = t.net.run_until([&] { return t.b.app.complete_stream() != nullptr; }, seconds(5));
  ASSERT_TRUE(r) << r << t.net.describe();
  EXPECT_TRUE(*t.b.app.complete_stream() == message);
  ASSERT_TRUE(first_data);
  EXPECT_GE(dropped, 2);  // the ESTABLISHED and the message
  const Duration late = t.net.now() - *first_data;
  EXPECT_LT(late, milliseconds(200)) << "B had the message " << std::chrono::duration<double, std::milli>(late).count()
                                     << " ms after A first sent it";
  EXPECT_GE(t.client().stats().pto_count, 1u);
}

// A can send but never hears back: B never sees its address validated and sends it at most three
// times what it received from it.
TEST(ConnectionHandshake, ResponderRespectsTheAntiAmplificationLimit) {
  Pair t(14, delay_link(milliseconds(10)), psk_config(), psk_config());
  std::uint64_t to_b = 0, from_b = 0;
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.to == kB) to_b += d.bytes.size();
    if (d.from == kB) {
      from_b += d.bytes.size();
      return sim::TapVerdict::drop;
    }
    return sim::TapVerdict::pass;
  });
  ASSERT_TRUE(t.net.run_for(seconds(25)));
  EXPECT_GT(to_b, 0u);
  EXPECT_GT(from_b, 0u);
  EXPECT_LE(from_b, 3 * to_b);
  EXPECT_FALSE(t.b.app.established);
}

// B has answered and waits for A's ESTABLISHED. Handshake packets (0x42) from other addresses, and
// forged ones from A's own address, change nothing: B sends nothing in reply, and the genuine
// confirmation still arrives.
TEST(ConnectionHandshake, UnauthenticatedHandshakePacketsLeaveAConfirmingResponderAlone) {
  SeededRandom keys(21);
  const auto ka = crypto::KeyPair::generate(keys), kb = crypto::KeyPair::generate(keys);
  for (const bool identity : {false, true}) {
    SCOPED_TRACE(identity ? "XXpsk3" : "NNpsk0");
    Pair t(22, delay_link(milliseconds(50)), identity ? identity_config(ka, kb.public_key, true) : psk_config(),
           identity ? identity_config(kb, ka.public_key, true) : psk_config());
    // Hold A's packets after the Initiation for a while, so B sits in its confirming state.
    bool holding = true;
    std::vector<sim::Datagram> held;
    t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
      if (holding && d.from == kA && d.bytes[0] != 0x41) {
        held.push_back(d);
        return sim::TapVerdict::drop;
      }
      return sim::TapVerdict::pass;
    });
    ASSERT_TRUE(t.net.run_until([&] { return t.b.app.conn.has_value(); }, seconds(1)));
    ASSERT_TRUE(t.net.run_for(milliseconds(200)));
    const auto state = t.b.app.conn->state();
    const auto sent_before = t.host_b->datagrams_sent();
    const auto stats_before = t.b.app.conn->stats();
    std::vector<std::uint8_t> junk(200, 0x42);
    for (int i = 0; i < 100; ++i) {
      junk[5] = static_cast<std::uint8_t>(i);
      const SocketAddress from = i % 2 ? kA : SocketAddress::v4(192, 0, 2, static_cast<std::uint8_t>(i), 7000);
      t.net.inject(t.net.internet(), sim::Datagram{from, kB, junk});
    }
    ASSERT_TRUE(t.net.run_for(milliseconds(100)));
    EXPECT_EQ(t.b.app.conn->state(), state);
    EXPECT_EQ(t.b.app.conn->peer_address(), kA);
    EXPECT_EQ(t.b.app.conn->stats().packets_received, stats_before.packets_received);
    // Whatever B sent meanwhile was its own retransmission schedule, not an answer to the junk.
    EXPECT_LE(t.host_b->datagrams_sent() - sent_before, 2u);
    holding = false;
    for (auto& d : held) t.net.inject(t.net.internet(), d);
    const auto r = t.net.run_until([&] { return t.established(); }, seconds(5));
    ASSERT_TRUE(r) << r;
  }
}

// An Initiation of the same PSK recorded long ago (replay caches have forgotten it), replayed from
// the peer's address with the smallest connection id, so it wins every tie-break: at a plain client
// (A connects to server B) and at both peers of a simultaneous open. Nobody can complete it, so it
// costs nothing: the genuine handshake completes as fast as without it and the streams are exact.
TEST(ConnectionHandshake, ReplayedOldInitiationCannotStallTheHandshake) {
  std::vector<std::uint8_t> recorded;
  {
    SeededRandom old_rng(99);
    auto old = crypto::Handshake::initiate(psk_config().handshake, wire::ConnectionId{}, old_rng);
    ASSERT_TRUE(old);
    recorded = old->initiation_datagram(Instant{});
  }
  for (const bool simultaneous : {false, true}) {
    SCOPED_TRACE(simultaneous ? "simultaneous open" : "client and server");
    for (std::uint64_t seed = 0; seed < 8; ++seed) {
      Pair t(sim::test_seed(500 + seed), delay_link(milliseconds(20)), psk_config(), psk_config(), simultaneous);
      // Each Initiation is followed at once by the recorded one, from the address it went to.
      t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
        if (d.bytes[0] == 0x41 && d.bytes != recorded) {
          t.net.inject(t.net.internet(), sim::Datagram{d.to, d.from, recorded}, milliseconds(1));
        }
        return sim::TapVerdict::pass;
      });
      const auto r = t.net.run_until([&] { return t.established(); }, seconds(2));
      ASSERT_TRUE(r) << r << t.net.describe();
      transfer_both_ways(t, 64 * 1024, seconds(10));
      expect_cids_match(t.a, t.b, t.net);
    }
  }
}

// ---- 4. key updates under load ------------------------------------------------------------------

TEST(ConnectionHandshake, FrequentKeyUpdatesUnderLossAndReorderingKeepStreamsExact) {
  auto limits = crypto::PacketProtectionLimits::defaults_for(crypto::AeadAlgorithm::chacha20_poly1305);
  limits.key_update_after = 64;
  auto a_cfg = psk_config(), b_cfg = psk_config();
  a_cfg.key_limits = limits;
  b_cfg.key_limits = limits;
  sim::LinkConfig link;
  link.delay = milliseconds(10);
  link.loss = 0.01;
  link.reorder = 0.02;  // held back by 10 ms: arrives after packets sent up to half an RTT later
  Pair t(sim::test_seed(401), link, std::move(a_cfg), std::move(b_cfg));
  SCOPED_TRACE(t.net.describe());
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));

  const auto a_data = pattern(k3MB, 0x4a);
  const auto b_data = pattern(k256KB, 0x4b);  // the other direction carries data too
  t.a.app.to_send = a_data;
  t.b.app.to_send = b_data;
  t.net.wake(t.a);
  t.net.wake(t.b);
  const auto r = t.net.run_until(
      [&] { return (t.a.app.complete_stream() && t.b.app.complete_stream()) || t.a.app.closed || t.b.app.closed; },
      seconds(60));
  ASSERT_TRUE(r) << r;
  ASSERT_NE(t.b.app.complete_stream(), nullptr);
  ASSERT_NE(t.a.app.complete_stream(), nullptr);
  EXPECT_TRUE(*t.b.app.complete_stream() == a_data);
  EXPECT_TRUE(*t.a.app.complete_stream() == b_data);
  EXPECT_TRUE(t.client().is_established());
  EXPECT_TRUE(t.server().is_established());

  // ConnectionStats has no key-update counter: count the key-phase flips each side put on the wire.
  const auto sa = t.client().stats(), sb = t.server().stats();
  const auto& wa = t.a.wire_log;
  const auto& wb = t.b.wire_log;
  std::printf("  key updates seen on the wire: A %llu flips in %llu data packets, B %llu flips in %llu; "
              "A lost %llu, unauthenticated drops A %llu B %llu, %.2f s virtual\n",
              static_cast<unsigned long long>(wa.key_phase_flips), static_cast<unsigned long long>(wa.data_packets),
              static_cast<unsigned long long>(wb.key_phase_flips), static_cast<unsigned long long>(wb.data_packets),
              static_cast<unsigned long long>(sa.packets_lost),
              static_cast<unsigned long long>(sa.dropped_unauthenticated),
              static_cast<unsigned long long>(sb.dropped_unauthenticated),
              std::chrono::duration<double>(t.net.elapsed()).count());
  // A sent thousands of packets with an update due every 64 (about 37 generations for A's
  // packets alone), but each generation must be confirmed, a round trip, before the next may
  // start: a sender with more than 64 packets per round trip in flight updates once per round
  // trip. At least half of the smaller of the two counts must have happened.
  EXPECT_GE(wa.data_packets, k3MB / 1500);
  const std::uint64_t round_trips = static_cast<std::uint64_t>(t.net.elapsed() / (2 * link.delay));
  const std::uint64_t possible = std::min<std::uint64_t>(wa.data_packets / 64, round_trips);
  EXPECT_GE(wa.key_phase_flips, possible / 2) << "too few key updates";
  EXPECT_GE(wb.key_phase_flips, possible / 2) << "the peer did not follow the updates";
  // Every generation is confirmed before the next starts: both directions move together.
  const auto diff = wa.key_phase_flips > wb.key_phase_flips ? wa.key_phase_flips - wb.key_phase_flips
                                                            : wb.key_phase_flips - wa.key_phase_flips;
  EXPECT_LE(diff, 1u);
}

// ---- 5. handshakes under burst loss -------------------------------------------------------------

// Regression: a side used to stay in `confirming` until its own ESTABLISHED was acknowledged and
// re-sent it only on PTO with unbounded backoff (about 1, 3, 7, 15, 31 s), so lost ACKs could run
// the 20 s handshake timeout out although the peer had proved it holds the keys. Now a side is
// established on the peer's ESTABLISHED and re-sends its own every second until acknowledged.
// Here the B->A direction goes down for 16 s right after B's first data packet reached A.
TEST(ConnectionHandshake, ConfirmationSurvivesAOneWayOutageRightAfterTheHandshake) {
  sim::LinkConfig b_to_a = delay_link(milliseconds(10));
  b_to_a.outages.push_back(sim::Outage{sim::kEpoch + milliseconds(20), sim::kEpoch + seconds(16)});
  Pair t(sim::test_seed(451), delay_link(milliseconds(10)), psk_config(), psk_config());
  t.net.set_link(*t.host_a, *t.host_b, delay_link(milliseconds(10)), b_to_a);
  SCOPED_TRACE(t.net.describe());
  const auto r = t.net.run_until([&] { return t.established() || t.a.app.closed || t.b.app.closed; }, seconds(21));
  ASSERT_TRUE(r) << r;
  EXPECT_TRUE(t.b.app.established);
  EXPECT_TRUE(t.a.app.established) << "A gave up with "
                                   << (t.a.app.closed ? t.a.app.closed->message() : std::string("nothing"))
                                   << " at " << std::chrono::duration<double>(t.net.elapsed()).count()
                                   << " s although the path recovered at 16 s";
  if (!t.established()) return;
  // Streams work once the outage is over.
  ASSERT_TRUE(t.net.run_for(seconds(17) - t.net.elapsed()));
  ASSERT_TRUE(t.client().is_established() && t.server().is_established());
  transfer_both_ways(t, 64 * 1024, seconds(10));
}

// The sparse confirmation packets meet Gilbert-Elliott loss runs; before the fix above, 4 of these
// 50 connections (seeds 507, 525, 527, 546) completed the Noise handshake but timed out confirming.

TEST(ConnectionHandshake, FiftyHandshakesCompleteUnderThirtyPercentBurstLoss) {
  SeededRandom keys(5);
  const auto ka = crypto::KeyPair::generate(keys), kb = crypto::KeyPair::generate(keys);
  // Gilbert-Elliott with every datagram lost in the bad state: mean burst 1/p_bad_to_good = 3,
  // stationary loss p_gb / (p_gb + p_bg) = 0.3.
  sim::LinkConfig lossy;
  lossy.delay = milliseconds(15);
  lossy.burst.p_bad_to_good = 1.0 / 3.0;
  lossy.burst.p_good_to_bad = 0.3 / 0.7 * lossy.burst.p_bad_to_good;
  lossy.burst.loss_in_bad = 1.0;
  int completed = 0;
  std::uint64_t sent = 0, burst_dropped = 0;
  Duration slowest{};
  // SRUDP_SIM_SEED=N runs seeds N..N+49 (so a failing seed replays first).
  const std::uint64_t first = sim::test_seed(500);
  for (std::uint64_t seed = first; seed < first + 50; ++seed) {
    const int mode = static_cast<int>(seed % 3);  // NNpsk0, XX pinned, XXpsk3 pinned
    auto a_cfg = mode == 0 ? psk_config() : identity_config(ka, kb.public_key, mode == 2);
    auto b_cfg = mode == 0 ? psk_config() : identity_config(kb, ka.public_key, mode == 2);
    Pair t(seed, lossy, std::move(a_cfg), std::move(b_cfg));
    const auto r = t.net.run_until([&] { return t.established() || t.a.app.closed || t.b.app.closed; }, seconds(21));
    const bool ok = r && t.established();
    completed += ok;
    if (!ok) {
      ADD_FAILURE() << "seed " << seed << " (mode " << mode << ") did not establish: " << r
                    << "; client: " << (t.a.app.established ? "established" : "not established") << ", "
                    << (t.a.app.closed ? t.a.app.closed->message() : std::string("open")) << "; server: "
                    << (t.b.app.established ? "established" : "not established") << ", "
                    << (t.b.app.closed ? t.b.app.closed->message() : std::string("open"));
    } else {
      slowest = std::max(slowest, t.net.elapsed());
    }
    for (auto* link : {t.net.path_link(*t.host_a, *t.host_b), t.net.path_link(*t.host_b, *t.host_a)}) {
      sent += link->counters().sent;
      burst_dropped += link->counters().dropped[sim::DropCause::burst_loss];
    }
  }
  EXPECT_EQ(completed, 50);
  const double loss = static_cast<double>(burst_dropped) / static_cast<double>(sent);
  std::printf("  50 handshakes: %d established, slowest %.2f s, measured loss %.1f%% of %llu datagrams\n", completed,
              std::chrono::duration<double>(slowest).count(), loss * 100, static_cast<unsigned long long>(sent));
  EXPECT_GE(loss, 0.15) << "the link was not as lossy as intended";
  EXPECT_LE(slowest, seconds(20));
}

// ---- 6. man in the middle -----------------------------------------------------------------------

// Mallory sits on the path: the tap diverts A's datagrams for B to her and makes hers to A look
// like B's. She answers A as if she were B (her own responder) and connects to B herself, relaying
// whatever stream bytes either side delivers. She knows neither the PSK nor the pinned keys.
class MitmNode final : public sim::Node {
 public:
  MitmNode(ConnectionConfig as_responder, ConnectionConfig as_initiator, RandomSource& rng)
      : as_b_(kM, rng), to_b_(kM, rng), to_b_config_(std::move(as_initiator)) {
    as_b_.listen(std::move(as_responder));
    as_b_.app.keep_open = true;
    to_b_.app.keep_open = true;
  }

  void handle_datagram(Instant now, const sim::Datagram& d) override {
    if (d.from == kA) {
      if (!to_b_.app.conn) to_b_.connect(to_b_config_.clone(), kB, now);
      as_b_.handle_datagram(now, d);
    } else {
      to_b_.handle_datagram(now, d);
    }
    relay();
  }
  std::optional<sim::Datagram> poll_transmit(Instant now) override {
    relay();
    if (auto d = as_b_.poll_transmit(now)) return d;
    return to_b_.poll_transmit(now);
  }
  std::optional<Instant> poll_timeout() override {
    auto a = as_b_.poll_timeout(), b = to_b_.poll_timeout();
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
  }
  void handle_timeout(Instant now) override {
    if (auto t = as_b_.poll_timeout(); t && *t <= now) as_b_.handle_timeout(now);
    if (auto t = to_b_.poll_timeout(); t && *t <= now) to_b_.handle_timeout(now);
  }

  bool established_any() const { return as_b_.app.established || to_b_.app.established; }
  std::size_t bytes_received() const { return as_b_.app.bytes_received() + to_b_.app.bytes_received(); }
  const ConnNode& facing_a() const { return as_b_; }

 private:
  // Whatever one side delivered to Mallory goes to the other.
  void relay() {
    forward(as_b_.app, to_b_.app);
    forward(to_b_.app, as_b_.app);
  }
  static void forward(const App& from, App& to) {
    const auto* bytes = from.received.empty() ? nullptr : &from.received.begin()->second;
    if (bytes && bytes->size() > to.to_send.size()) {
      to.to_send.insert(to.to_send.end(), bytes->begin() + static_cast<std::ptrdiff_t>(to.to_send.size()),
                        bytes->end());
    }
  }

  ConnNode as_b_;
  ConnNode to_b_;
  ConnectionConfig to_b_config_;
};

TEST(ConnectionHandshake, ManInTheMiddleNeverEstablishesNorDeliversBytes) {
  SeededRandom keys(6);
  const auto ka = crypto::KeyPair::generate(keys), kb = crypto::KeyPair::generate(keys),
             km = crypto::KeyPair::generate(keys);
  int defeated = 0;
  // SRUDP_SIM_SEED=N runs seeds N..N+19 (so a failing seed replays first).
  const std::uint64_t first = sim::test_seed(600);
  for (std::uint64_t seed = first; seed < first + 20; ++seed) {
    for (bool pinned : {false, true}) {
      // PSK: Mallory guesses a PSK. Pinned XX: Mallory uses her own identity key and pins nothing.
      auto a_cfg = pinned ? identity_config(ka, kb.public_key, false) : psk_config(1);
      auto b_cfg = pinned ? identity_config(kb, ka.public_key, false) : psk_config(1);
      auto m_cfg = pinned ? identity_config(km, std::nullopt, false) : psk_config(66);

      sim::Network net(seed);
      SCOPED_TRACE(net.describe());
      SCOPED_TRACE(pinned ? "pinned XX" : "PSK");
      SeededRandom rng(net.seed());
      ConnNode a(kA, rng), b(kB, rng);
      MitmNode m(m_cfg.clone(), m_cfg.clone(), rng);
      net.add_host(a, kA);
      net.add_host(b, kB);
      net.add_host(m, kM);
      net.add_tap(net.internet(), [](Instant, sim::Datagram& d) {
        if (d.from == kA && d.to == kB) d.to = kM;
        if (d.from == kM && d.to == kA) d.from = kB;
        return sim::TapVerdict::pass;
      });
      a.app.to_send = pattern(50'000, seed);
      b.app.to_send = pattern(50'000, seed + 1000);
      b.listen(std::move(b_cfg));
      a.connect(std::move(a_cfg), kB, net.now());

      const auto r = net.run_until([&] { return a.app.closed.has_value(); }, seconds(25));
      ASSERT_TRUE(r) << r;
      ASSERT_TRUE(net.run_for(seconds(1)));  // let B's side settle too
      EXPECT_FALSE(a.app.established);
      EXPECT_FALSE(b.app.established);
      EXPECT_FALSE(m.established_any());
      if (pinned) {
        // Mallory answered A with her own key: A refuses it at once.
        EXPECT_EQ(*a.app.closed, errc::peer_key_mismatch);
        // B saw Mallory's key in message 3 and refused it.
        ASSERT_TRUE(b.app.conn.has_value());
        ASSERT_TRUE(b.app.closed.has_value());
        EXPECT_EQ(*b.app.closed, errc::peer_key_mismatch);
      } else {
        // Without the PSK, neither A's nor Mallory's Initiation passes mac1: silence, then timeout.
        EXPECT_EQ(*a.app.closed, errc::handshake_timeout);
        EXPECT_FALSE(b.app.conn.has_value());
        EXPECT_FALSE(m.facing_a().app.conn.has_value());
        ASSERT_NE(b.responder(), nullptr);
        EXPECT_EQ(b.responder()->counters().accepted, 0u);
        EXPECT_GT(b.responder()->counters().dropped_mac1, 0u);
      }
      EXPECT_EQ(a.app.bytes_received(), 0u);
      EXPECT_EQ(b.app.bytes_received(), 0u);
      EXPECT_EQ(m.bytes_received(), 0u);
      defeated += !a.app.established && !b.app.established && !m.established_any() && a.app.bytes_received() == 0 &&
                  b.app.bytes_received() == 0;
    }
  }
  EXPECT_EQ(defeated, 40);
}

}  // namespace
}  // namespace srudp::transport
