#include "crypto/secure_session.hpp"

#include <gtest/gtest.h>

#include "crypto/session_nodes.hpp"
#include "sim/network.hpp"

namespace srudp::crypto {
namespace {

using test::bytes_of;
using test::PeerNode;
using test::ServerNode;

const SocketAddress kA = SocketAddress::v4(198, 51, 100, 1, 4000);
const SocketAddress kB = SocketAddress::v4(203, 0, 113, 2, 5000);
const SocketAddress kM = SocketAddress::v4(192, 0, 2, 66, 6000);

PresharedKey psk_from(std::uint8_t fill) {
  std::array<std::uint8_t, 32> b{};
  b.fill(fill);
  return PresharedKey(std::span<const std::uint8_t, 32>(b));
}

SessionConfig psk_config(std::uint8_t fill = 7) {
  SessionConfig c;
  c.handshake.psk = psk_from(fill);
  return c;
}

SessionConfig identity_config(const KeyPair& me, std::optional<PublicKey> pin, bool with_psk) {
  SessionConfig c;
  c.handshake.identity = me.clone();
  c.handshake.pinned_peer = pin;
  if (with_psk) c.handshake.psk = psk_from(9);
  return c;
}

// Two peers on the simulated internet: A connects to a server B.
struct ClientServer {
  explicit ClientServer(std::uint64_t seed, SessionConfig a_config, SessionConfig b_config,
                        ResponderLimits limits = {})
      : net(seed), rng(seed), a(kA), b(kB, std::move(b_config), limits, rng) {
    host_a = &net.add_host(a, kA);
    host_b = &net.add_host(b, kB);
    sim::LinkConfig link;
    link.delay = std::chrono::milliseconds(10);
    net.set_link(*host_a, *host_b, link);
    a.connect(std::move(a_config), kB, net.now(), rng);
  }
  using Entry = ServerNode::Entry;
  Entry* b_session() { return b.sessions.empty() ? nullptr : &b.sessions.begin()->second; }

  sim::Network net;
  SeededRandom rng;
  PeerNode a;
  ServerNode b;
  sim::Host* host_a = nullptr;
  sim::Host* host_b = nullptr;
};

bool both_established(ClientServer& t) { return t.a.record.established && t.b.established() == 1; }

void exchange_datagrams(ClientServer& t) {
  ASSERT_FALSE(t.a.session->send_datagram(bytes_of("hello from A")));
  auto* entry = t.b_session();
  ASSERT_NE(entry, nullptr);
  ASSERT_FALSE(entry->session.send_datagram(bytes_of("hello from B")));
  t.net.wake(t.a);
  t.net.wake(t.b);
  ASSERT_TRUE(t.net.run_until([&] { return !t.a.record.datagrams.empty() && !entry->record.datagrams.empty(); },
                              std::chrono::seconds(2)));
  EXPECT_EQ(t.a.record.datagrams.front(), bytes_of("hello from B"));
  EXPECT_EQ(entry->record.datagrams.front(), bytes_of("hello from A"));
}

TEST(SecureSession, PskHandshakeEstablishesAndCarriesDatagrams) {
  ClientServer t(1, psk_config(), psk_config());
  SCOPED_TRACE(t.net.describe());
  ASSERT_TRUE(t.net.run_until([&] { return both_established(t); }, std::chrono::seconds(5))) << t.net.describe();
  EXPECT_TRUE(t.a.session->initiator());
  EXPECT_EQ(t.a.session->peer_cid(), t.b_session()->session.local_cid());
  EXPECT_EQ(t.b_session()->session.peer_cid(), t.a.session->local_cid());
  EXPECT_FALSE(t.a.session->peer_identity());
  // One round trip for NNpsk0 plus one for ESTABLISHED confirmation: 40 ms with 10 ms links.
  EXPECT_LE(t.net.elapsed(), std::chrono::milliseconds(60));
  exchange_datagrams(t);
}

TEST(SecureSession, IdentityHandshakesWithPinningBothWays) {
  SeededRandom keys(2);
  const KeyPair ka = KeyPair::generate(keys), kb = KeyPair::generate(keys);
  for (bool with_psk : {false, true}) {
    SCOPED_TRACE(with_psk ? "XXpsk3" : "XX");
    ClientServer t(3, identity_config(ka, kb.public_key, with_psk), identity_config(kb, ka.public_key, with_psk));
    ASSERT_TRUE(t.net.run_until([&] { return both_established(t); }, std::chrono::seconds(5))) << t.net.describe();
    ASSERT_TRUE(t.a.session->peer_identity());
    EXPECT_EQ(*t.a.session->peer_identity(), kb.public_key);
    EXPECT_EQ(*t.b_session()->session.peer_identity(), ka.public_key);
    exchange_datagrams(t);
  }
}

TEST(SecureSession, TransportParametersReachThePeer) {
  auto a = psk_config(), b = psk_config();
  a.handshake.payload = bytes_of("params of A");
  b.handshake.payload = bytes_of("params of B");
  ClientServer t(4, std::move(a), std::move(b));
  ASSERT_TRUE(t.net.run_until([&] { return both_established(t); }, std::chrono::seconds(5)));
  EXPECT_EQ(t.a.session->peer_payload(), bytes_of("params of B"));
  EXPECT_EQ(t.b_session()->session.peer_payload(), bytes_of("params of A"));
}

TEST(SecureSession, WrongPskFailsWithClearErrorAndResponderKeepsNoState) {
  ClientServer t(5, psk_config(1), psk_config(2));
  ASSERT_TRUE(t.net.run_until([&] { return t.a.record.closed.has_value(); }, std::chrono::seconds(25)));
  EXPECT_EQ(*t.a.record.closed, errc::handshake_timeout);
  EXPECT_NE(t.a.record.closed->message().find("pre-shared key"), std::string::npos);
  EXPECT_TRUE(t.b.sessions.empty());
  EXPECT_EQ(t.b.responder.counters().accepted, 0u);
  EXPECT_GT(t.b.responder.counters().dropped_mac1, 0u);
  EXPECT_EQ(t.host_b->datagrams_sent(), 0u);  // silence to the unauthenticated
}

TEST(SecureSession, WrongPinnedKeyFailsOnBothSides) {
  SeededRandom keys(6);
  const KeyPair ka = KeyPair::generate(keys), kb = KeyPair::generate(keys), other = KeyPair::generate(keys);
  {
    SCOPED_TRACE("initiator pins the wrong responder key");
    ClientServer t(7, identity_config(ka, other.public_key, false), identity_config(kb, std::nullopt, false));
    ASSERT_TRUE(t.net.run_until([&] { return t.a.record.closed.has_value(); }, std::chrono::seconds(25)));
    EXPECT_EQ(*t.a.record.closed, errc::peer_key_mismatch);
    EXPECT_EQ(t.b.established(), 0u);
  }
  {
    SCOPED_TRACE("responder pins the wrong initiator key");
    ClientServer t(8, identity_config(ka, kb.public_key, false), identity_config(kb, other.public_key, false));
    ASSERT_TRUE(t.net.run_until([&] { return t.a.record.closed.has_value(); }, std::chrono::seconds(25)));
    EXPECT_EQ(*t.a.record.closed, errc::handshake_timeout);  // never confirmed
    EXPECT_FALSE(t.a.record.established);
    ASSERT_NE(t.b_session(), nullptr);
    // B dropped message 3 (another key than its pin) and reports why when its handshake times out.
    ASSERT_TRUE(t.net.run_until([&] { return static_cast<bool>(t.b_session()->session.error()); },
                                std::chrono::seconds(5)));
    EXPECT_EQ(t.b_session()->session.error(), errc::peer_key_mismatch);
    EXPECT_EQ(t.a.session->send_datagram(bytes_of("x")), errc::invalid_state);
  }
}

// Mallory sits on the path, answers A as if she were B and connects to B herself, relaying
// whatever either side sends. She knows neither the PSK nor the pinned identity keys.
class MitmNode final : public sim::Node {
 public:
  MitmNode(SessionConfig as_responder, SessionConfig as_initiator, RandomSource& rng)
      : rng_(rng), server_(kM, std::move(as_responder), {}, rng), to_b_config_(std::move(as_initiator)), to_b_(kM) {}

  void handle_datagram(Instant now, const sim::Datagram& d) override {
    if (d.from == kA) {
      if (!to_b_.session) to_b_.connect(to_b_config_.clone(), kB, now, rng_);
      server_.handle_datagram(now, d);
    } else {
      to_b_.handle_datagram(now, d);
    }
    relay();
  }
  std::optional<sim::Datagram> poll_transmit(Instant now) override {
    relay();
    if (auto d = server_.poll_transmit(now)) return d;  // to A (the tap rewrites its source to B)
    return to_b_.poll_transmit(now);
  }
  std::optional<Instant> poll_timeout() override {
    auto a = server_.poll_timeout(), b = to_b_.poll_timeout();
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
  }
  void handle_timeout(Instant now) override {
    server_.handle_timeout(now);
    if (to_b_.session) to_b_.handle_timeout(now);
  }
  bool established_any() const { return server_.established() > 0 || to_b_.record.established; }

 private:
  void relay() {
    for (auto& [addr, e] : server_.sessions) {
      for (auto& dg : e.record.datagrams) {
        if (to_b_.session) (void)to_b_.session->send_datagram(dg);
      }
      e.record.datagrams.clear();
    }
  }
  RandomSource& rng_;
  ServerNode server_;
  SessionConfig to_b_config_;
  PeerNode to_b_;
};

TEST(SecureSession, ManInTheMiddleFailsEveryTime) {
  SeededRandom keys(10);
  const KeyPair ka = KeyPair::generate(keys), kb = KeyPair::generate(keys), km = KeyPair::generate(keys);
  int failures = 0;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    const int mode = static_cast<int>(seed % 3);  // PSK, pinned XX, pinned XXpsk3
    SessionConfig a_cfg = mode == 0 ? psk_config(1) : identity_config(ka, kb.public_key, mode == 2);
    SessionConfig b_cfg = mode == 0 ? psk_config(1) : identity_config(kb, ka.public_key, mode == 2);
    // Mallory guesses: her own PSK and her own identity key.
    SessionConfig m_cfg = mode == 0 ? psk_config(66) : identity_config(km, std::nullopt, mode == 2);
    if (mode == 2) m_cfg.handshake.psk = psk_from(66);

    sim::Network net(1000 + seed);
    SeededRandom rng(seed);
    PeerNode a(kA);
    ServerNode b(kB, std::move(b_cfg), {}, rng);
    MitmNode m(m_cfg.clone(), m_cfg.clone(), rng);
    net.add_host(a, kA);
    net.add_host(b, kB);
    net.add_host(m, kM);
    // Divert A's packets for B to Mallory; make Mallory's packets to A look like B's.
    net.add_tap(net.internet(), [](Instant, sim::Datagram& d) {
      if (d.from == kA && d.to == kB) d.to = kM;
      if (d.from == kM && d.to == kA) d.from = kB;
      return sim::TapVerdict::pass;
    });
    a.connect(std::move(a_cfg), kB, net.now(), rng);
    (void)net.run_until([&] { return a.record.closed.has_value(); }, std::chrono::seconds(25));
    ASSERT_TRUE(a.record.closed.has_value()) << net.describe();
    EXPECT_FALSE(a.record.established) << net.describe();
    EXPECT_EQ(b.established(), 0u) << net.describe();
    EXPECT_TRUE(a.record.datagrams.empty());
    for (auto& [addr, e] : b.sessions) EXPECT_TRUE(e.record.datagrams.empty());
    failures += !a.record.established && b.established() == 0;
  }
  EXPECT_EQ(failures, 100);
}

TEST(SecureSession, ReflectedAndReplayedPacketsAreIgnored) {
  ClientServer t(11, psk_config(), psk_config());
  std::vector<sim::Datagram> from_a;
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.from == kA) from_a.push_back(d);
    return sim::TapVerdict::pass;
  });
  ASSERT_TRUE(t.net.run_until([&] { return both_established(t); }, std::chrono::seconds(5)));
  ASSERT_FALSE(t.a.session->send_datagram(bytes_of("once")));
  t.net.wake(t.a);
  auto* entry = t.b_session();
  ASSERT_TRUE(t.net.run_until([&] { return entry->record.datagrams.size() == 1; }, std::chrono::seconds(1)));

  // Replay everything A ever sent, 1000 times over, from A's address and from elsewhere.
  const auto captured = from_a;
  ASSERT_GE(captured.size(), 3u);
  const std::uint64_t accepted_before = t.b.responder.counters().accepted;
  for (int i = 0; i < 1000; ++i) {
    for (const auto& d : captured) {
      sim::Datagram copy = d;
      if (i % 2) copy.from = kM;
      t.net.inject(t.net.internet(), copy, std::chrono::microseconds(i));
    }
  }
  // Reflect A's packets back to A as if they came from B, data packets also re-addressed to A's
  // own connection id so they reach decryption: keys differ per direction, so they cannot open.
  std::uint64_t reflected_data = 0;
  for (const auto& d : captured) {
    auto bytes = d.bytes;
    if (wire::peek_packet_type(bytes) && *wire::peek_packet_type(bytes) == wire::PacketType::Data) {
      const auto& cid = t.a.session->local_cid();
      std::copy(cid.begin(), cid.end(), bytes.begin() + 1);
      ++reflected_data;
    }
    t.net.inject(t.net.internet(), sim::Datagram{kB, kA, bytes});
  }
  ASSERT_TRUE(t.net.run_for(std::chrono::seconds(2)));
  ASSERT_GT(reflected_data, 0u);
  EXPECT_GE(t.a.session->stats().dropped_unauthenticated + t.a.session->stats().dropped_replayed, reflected_data);
  EXPECT_EQ(entry->record.datagrams.size(), 1u);                 // no duplicate delivery
  EXPECT_EQ(t.b.responder.counters().accepted, accepted_before);  // no new session
  EXPECT_EQ(t.b.sessions.size(), 1u);
  EXPECT_TRUE(t.a.record.datagrams.empty());                      // reflections delivered nothing
  EXPECT_TRUE(t.a.session->is_established());
  EXPECT_TRUE(entry->session.is_established());
  EXPECT_GE(entry->session.stats().dropped_replayed, 500u);
}

TEST(SecureSession, SimultaneousOpenYieldsOneSession) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    sim::Network net(seed);
    SeededRandom rng(seed);
    PeerNode a(kA), b(kB);
    auto& ha = net.add_host(a, kA);
    auto& hb = net.add_host(b, kB);
    sim::LinkConfig link;
    link.delay = std::chrono::milliseconds(20);
    net.set_link(ha, hb, link);
    a.connect(psk_config(), kB, net.now(), rng);
    b.connect(psk_config(), kA, net.now(), rng);
    ASSERT_TRUE(net.run_until([&] { return a.record.established && b.record.established; }, std::chrono::seconds(5)))
        << net.describe();
    EXPECT_NE(a.session->initiator(), b.session->initiator()) << net.describe();
    EXPECT_EQ(a.session->peer_cid(), b.session->local_cid());
    EXPECT_EQ(b.session->peer_cid(), a.session->local_cid());
    ASSERT_FALSE(a.session->send_datagram(bytes_of("ping")));
    net.wake(a);
    ASSERT_TRUE(net.run_until([&] { return b.record.datagrams.size() == 1; }, std::chrono::seconds(1)));
  }
}

TEST(SecureSession, CookieRoundTripUnderLoad) {
  ResponderLimits limits;
  limits.always_require_cookie = true;
  ClientServer t(12, psk_config(), psk_config(), limits);
  ASSERT_TRUE(t.net.run_until([&] { return both_established(t); }, std::chrono::seconds(5))) << t.net.describe();
  EXPECT_EQ(t.b.responder.counters().cookies_sent, 1u);
}

TEST(SecureSession, SpoofedFloodKeepsNoStateAndLegitimatePeerConnects) {
  ResponderLimits limits;
  limits.cookie_threshold = 0;  // under load from the start
  ClientServer t(13, psk_config(), psk_config(), limits);
  // The attacker knows the PSK (worst case) and replays valid Initiations from spoofed sources.
  std::optional<sim::Datagram> initiation;
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.from == kA && !initiation) initiation = d;
    return sim::TapVerdict::pass;
  });
  ASSERT_TRUE(t.net.run_until([&] { return initiation.has_value(); }, std::chrono::seconds(1)));
  for (std::uint32_t i = 0; i < 5000; ++i) {
    sim::Datagram spoofed = *initiation;
    spoofed.from = SocketAddress::v4(0x0A000000u + i, static_cast<std::uint16_t>(1024 + i % 60000));
    t.net.inject(t.net.internet(), std::move(spoofed), std::chrono::microseconds(i * 10));
  }
  ASSERT_TRUE(t.net.run_until([&] { return both_established(t); }, std::chrono::seconds(5))) << t.net.describe();
  EXPECT_EQ(t.b.sessions.size(), 1u);  // only the real peer got state
  EXPECT_GE(t.b.responder.counters().cookies_sent, 5000u);
}

TEST(SecureSession, ResponderRespectsAntiAmplificationLimit) {
  ClientServer t(14, psk_config(), psk_config());
  std::uint64_t to_b = 0, from_b = 0;
  // A can send but never receive: B's address validation never happens.
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.to == kB) to_b += d.bytes.size();
    if (d.from == kB) {
      from_b += d.bytes.size();
      return sim::TapVerdict::drop;
    }
    return sim::TapVerdict::pass;
  });
  ASSERT_TRUE(t.net.run_for(std::chrono::seconds(12)));
  EXPECT_GT(to_b, 0u);
  EXPECT_GT(from_b, 0u);
  EXPECT_LE(from_b, 3 * to_b);
}

TEST(SecureSession, ForgedHandshakePacketDoesNotAbortTheHandshake) {
  SeededRandom keys(15);
  const KeyPair ka = KeyPair::generate(keys), kb = KeyPair::generate(keys);
  ClientServer t(16, identity_config(ka, kb.public_key, true), identity_config(kb, ka.public_key, true));
  // Before B's message 2 arrives, a forger sends A a garbage message 2 addressed to A's cid.
  bool forged_once = false;
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.from == kB && d.bytes[0] == 0x42 && !forged_once) {
      forged_once = true;
      sim::Datagram forged = d;
      for (std::size_t i = 30; i < forged.bytes.size(); ++i) forged.bytes[i] ^= 0x5a;
      t.net.inject(t.net.internet(), forged);                                   // the forgery first,
      t.net.inject(t.net.internet(), d, std::chrono::milliseconds(5));          // the genuine one later
      return sim::TapVerdict::drop;
    }
    return sim::TapVerdict::pass;
  });
  ASSERT_TRUE(t.net.run_until([&] { return both_established(t); }, std::chrono::seconds(5))) << t.net.describe();
  EXPECT_TRUE(forged_once);
}

TEST(SecureSession, HandshakesCompleteUnderHeavyLoss) {
  int completed = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    ClientServer t(100 + seed, psk_config(), psk_config());
    sim::LinkConfig lossy;
    lossy.delay = std::chrono::milliseconds(15);
    lossy.loss = 0.3;
    t.net.set_link(*t.host_a, *t.host_b, lossy);
    const auto result = t.net.run_until([&] { return both_established(t); }, std::chrono::seconds(20));
    completed += static_cast<bool>(result);
    if (!result) {
      ADD_FAILURE() << result << " a: state " << static_cast<int>(t.a.session->state()) << " "
                    << t.a.session->error().message() << ", b sessions " << t.b.sessions.size();
    }
  }
  EXPECT_EQ(completed, 50);
}

TEST(SecureSession, KeyUpdatesDuringTrafficAreInvisible) {
  auto a = psk_config(), b = psk_config();
  a.limits = PacketProtectionLimits::defaults_for(a.aead);
  a.limits->key_update_after = 8;
  b.limits = a.limits;
  ClientServer t(17, std::move(a), std::move(b));
  ASSERT_TRUE(t.net.run_until([&] { return both_established(t); }, std::chrono::seconds(5)));
  auto* entry = t.b_session();
  for (int i = 0; i < 200; ++i) {
    ASSERT_FALSE(t.a.session->send_datagram(bytes_of("datagram " + std::to_string(i))));
    t.net.wake(t.a);
    ASSERT_TRUE(t.net.run_for(std::chrono::milliseconds(5)));
  }
  ASSERT_TRUE(t.net.run_until([&] { return entry->record.datagrams.size() == 200; }, std::chrono::seconds(2)));
  EXPECT_EQ(entry->record.datagrams.back(), bytes_of("datagram 199"));
}

TEST(SecureSession, CloseReachesThePeerAndIdleTimeoutDetectsDeadPeer) {
  ClientServer t(18, psk_config(), psk_config());
  ASSERT_TRUE(t.net.run_until([&] { return both_established(t); }, std::chrono::seconds(5)));
  t.a.session->close(0, "bye");
  t.net.wake(t.a);
  auto* entry = t.b_session();
  ASSERT_TRUE(t.net.run_until([&] { return entry->record.closed.has_value(); }, std::chrono::seconds(1)));
  EXPECT_EQ(*entry->record.closed, errc::connection_closed);

  ClientServer u(19, psk_config(), psk_config());
  ASSERT_TRUE(u.net.run_until([&] { return both_established(u); }, std::chrono::seconds(5)));
  u.net.add_tap(u.net.internet(), [](Instant, sim::Datagram& d) {
    return d.from == kB ? sim::TapVerdict::drop : sim::TapVerdict::pass;  // B goes silent
  });
  ASSERT_TRUE(u.net.run_until([&] { return u.a.record.closed.has_value(); }, std::chrono::seconds(61)));
  EXPECT_EQ(*u.a.record.closed, errc::connection_timed_out);
  EXPECT_LE(u.net.elapsed(), std::chrono::seconds(31));
}

TEST(SecureSession, RefusesUnauthenticatedConfiguration) {
  SeededRandom rng(20);
  SessionConfig none;
  EXPECT_EQ(SecureSession::connect(std::move(none), kB, Instant{}, rng).error(), errc::invalid_argument);
}

}  // namespace
}  // namespace srudp::crypto
