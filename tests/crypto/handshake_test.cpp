#include "crypto/handshake.hpp"

#include <gtest/gtest.h>

#include "crypto/handshake_responder.hpp"

namespace srudp::crypto {
namespace {

const SocketAddress kPeer = SocketAddress::v4(198, 51, 100, 1, 4000);

HandshakeConfig psk_config(std::uint8_t fill = 5) {
  HandshakeConfig c;
  std::array<std::uint8_t, 32> b{};
  b.fill(fill);
  c.psk = PresharedKey(std::span<const std::uint8_t, 32>(b));
  return c;
}

struct Pair {
  Result<Handshake> initiator = errc::invalid_state;
  std::optional<Handshake> responder;
};

// Runs a whole handshake in memory through the responder's front door.
Pair run(const HandshakeConfig& a, const HandshakeConfig& b, RandomSource& rng) {
  Pair p;
  wire::ConnectionId ca{}, cb{};
  rng.fill(ca);
  rng.fill(cb);
  p.initiator = Handshake::initiate(a, ca, rng);
  if (!p.initiator) return p;
  HandshakeResponder responder(b.clone(), {}, rng);
  auto d = responder.on_initiation(Instant{}, kPeer, p.initiator->initiation_datagram(Instant{}), 0, cb);
  auto* accept = std::get_if<HandshakeResponder::Accept>(&d);
  if (!accept) return p;
  p.responder.emplace(std::move(accept->handshake));
  auto msg2 = wire::decode_handshake(p.responder->last_flight());
  EXPECT_TRUE(msg2);
  if (p.initiator->handle_handshake_packet(*msg2)) return p;
  if (!p.initiator->last_flight().empty()) {
    auto msg3 = wire::decode_handshake(p.initiator->last_flight());
    EXPECT_TRUE(msg3);
    (void)p.responder->handle_handshake_packet(*msg3);
  }
  return p;
}

TEST(Handshake, ModeFollowsConfiguration) {
  SeededRandom rng(1);
  HandshakeConfig c;
  EXPECT_EQ(c.mode().error(), errc::invalid_argument);  // never unauthenticated
  c = psk_config();
  EXPECT_EQ(*c.mode(), HandshakeMode::psk);
  c.pinned_peer = PublicKey{};
  EXPECT_EQ(c.mode().error(), errc::invalid_argument);  // pinning needs identities
  c.pinned_peer.reset();
  c.identity = KeyPair::generate(rng);
  EXPECT_EQ(*c.mode(), HandshakeMode::identity_psk);
  c.psk.reset();
  EXPECT_EQ(*c.mode(), HandshakeMode::identity);
  c.payload.assign(513, 0);
  EXPECT_EQ(c.mode().error(), errc::invalid_argument);
}

TEST(Handshake, EveryModeDerivesMatchingDirectionalSecrets) {
  SeededRandom rng(2);
  const auto ka = KeyPair::generate(rng), kb = KeyPair::generate(rng);
  for (int mode = 0; mode < 3; ++mode) {
    SCOPED_TRACE(mode);
    HandshakeConfig a = mode == 1 ? HandshakeConfig{} : psk_config();
    HandshakeConfig b = mode == 1 ? HandshakeConfig{} : psk_config();
    if (mode > 0) {
      a.identity = ka.clone();
      b.identity = kb.clone();
      a.pinned_peer = kb.public_key;
      b.pinned_peer = ka.public_key;
    }
    a.payload = {1, 2, 3};
    b.payload = {4, 5};
    auto p = run(a, b, rng);
    ASSERT_TRUE(p.initiator);
    ASSERT_TRUE(p.responder);
    ASSERT_TRUE(p.initiator->is_complete());
    ASSERT_TRUE(p.responder->is_complete());
    auto oa = p.initiator->finish();
    auto ob = p.responder->finish();
    ASSERT_TRUE(oa);
    ASSERT_TRUE(ob);
    EXPECT_TRUE(oa->send_secret == ob->receive_secret);
    EXPECT_TRUE(oa->receive_secret == ob->send_secret);
    EXPECT_FALSE(oa->send_secret == oa->receive_secret);  // a reflected packet cannot open
    EXPECT_EQ(oa->handshake_hash, ob->handshake_hash);
    EXPECT_EQ(oa->peer_cid, ob->local_cid);
    EXPECT_EQ(ob->peer_cid, oa->local_cid);
    EXPECT_EQ(oa->peer_payload, (std::vector<std::uint8_t>{4, 5}));
    EXPECT_EQ(ob->peer_payload, (std::vector<std::uint8_t>{1, 2, 3}));
    if (mode > 0) {
      EXPECT_EQ(oa->peer_identity, kb.public_key);
      EXPECT_EQ(ob->peer_identity, ka.public_key);
    }
  }
}

TEST(Handshake, InitiationIsPaddedAndCarriesMacs) {
  SeededRandom rng(3);
  auto h = Handshake::initiate(psk_config(), wire::ConnectionId{1}, rng);
  ASSERT_TRUE(h);
  const auto d = h->initiation_datagram(Instant{});
  EXPECT_GE(d.size(), wire::kMinInitiationSize);
  auto decoded = wire::decode_initiation(d);
  ASSERT_TRUE(decoded);
  const auto p = psk_config();
  MacKeys keys(&*p.psk);
  EXPECT_TRUE(mac_equal(keys.mac1(decoded->mac1_covered), decoded->mac1));
  // Retransmissions resend the same Noise message (same ephemeral), so the responder can match.
  EXPECT_EQ(h->initiation_datagram(Instant{}), d);
}

TEST(Handshake, TamperedMessage2IsRejectedAndTheHandshakeSurvives) {
  SeededRandom rng(4);
  const auto a = psk_config(), b = psk_config();
  wire::ConnectionId ca{1}, cb{2};
  auto initiator = Handshake::initiate(a, ca, rng);
  HandshakeResponder responder(b.clone(), {}, rng);
  auto d = responder.on_initiation(Instant{}, kPeer, initiator->initiation_datagram(Instant{}), 0, cb);
  auto& accepted = std::get<HandshakeResponder::Accept>(d).handshake;
  const std::vector<std::uint8_t> good(accepted.last_flight().begin(), accepted.last_flight().end());
  for (std::size_t i = wire::kHandshakeFixedSize; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= 0x80;
    auto packet = wire::decode_handshake(bad);
    if (!packet) continue;
    EXPECT_TRUE(initiator->handle_handshake_packet(*packet)) << i;
    EXPECT_FALSE(initiator->is_complete());
  }
  auto packet = wire::decode_handshake(good);
  EXPECT_FALSE(initiator->handle_handshake_packet(*packet));
  EXPECT_TRUE(initiator->is_complete());
  // A duplicate after completion is refused harmlessly.
  EXPECT_EQ(initiator->handle_handshake_packet(*packet), errc::unexpected_packet);
}

// Mallory saw A's cleartext XX Initiation and answers it first with a well-formed message 2 under
// her own static key. A, pinning B, drops it and is still waiting: B's genuine answer completes.
TEST(Handshake, ForgedMessage2UnderAnotherIdentityIsDroppedAndTheGenuineOneCompletes) {
  SeededRandom rng(5);
  const auto ka = KeyPair::generate(rng), kb = KeyPair::generate(rng), km = KeyPair::generate(rng);
  for (const bool with_psk : {false, true}) {
    SCOPED_TRACE(with_psk);
    HandshakeConfig a = with_psk ? psk_config() : HandshakeConfig{};
    HandshakeConfig b = with_psk ? psk_config() : HandshakeConfig{};
    HandshakeConfig m = with_psk ? psk_config() : HandshakeConfig{};  // she may even know the token
    a.identity = ka.clone();
    a.pinned_peer = kb.public_key;
    b.identity = kb.clone();
    m.identity = km.clone();
    auto initiator = Handshake::initiate(a, wire::ConnectionId{1}, rng);
    ASSERT_TRUE(initiator);
    const auto initiation_datagram = initiator->initiation_datagram(Instant{});
    const auto initiation = wire::decode_initiation(initiation_datagram);
    ASSERT_TRUE(initiation);

    auto mallory = Handshake::respond(m, wire::ConnectionId{9}, *initiation, rng);
    ASSERT_TRUE(mallory);
    auto forged = wire::decode_handshake(mallory->last_flight());
    ASSERT_TRUE(forged);
    EXPECT_EQ(initiator->handle_handshake_packet(*forged), errc::peer_key_mismatch);
    EXPECT_FALSE(initiator->is_complete());
    EXPECT_TRUE(initiator->last_flight().empty());  // nothing revealed to her: no message 3
    // Again, as a flood would: still refused, still harmless.
    EXPECT_EQ(initiator->handle_handshake_packet(*forged), errc::peer_key_mismatch);

    auto genuine = Handshake::respond(b, wire::ConnectionId{2}, *initiation, rng);
    ASSERT_TRUE(genuine);
    auto message2 = wire::decode_handshake(genuine->last_flight());
    ASSERT_TRUE(message2);
    ASSERT_FALSE(initiator->handle_handshake_packet(*message2));
    auto message3 = wire::decode_handshake(initiator->last_flight());
    ASSERT_TRUE(message3);
    ASSERT_FALSE(genuine->handle_handshake_packet(*message3));
    auto oa = initiator->finish();
    auto ob = genuine->finish();
    ASSERT_TRUE(oa);
    ASSERT_TRUE(ob);
    EXPECT_TRUE(oa->send_secret == ob->receive_secret);
    EXPECT_EQ(oa->peer_identity, kb.public_key);
    EXPECT_EQ(oa->peer_cid, (wire::ConnectionId{2}));
  }
}

// The responder pins A. Mallory runs her own handshake with B under her own key: B drops her
// well-formed message 3 (wrong static key), stays incomplete and hands out no keys.
TEST(Handshake, ResponderDropsMessage3UnderAnotherIdentity) {
  SeededRandom rng(6);
  const auto ka = KeyPair::generate(rng), kb = KeyPair::generate(rng), km = KeyPair::generate(rng);
  HandshakeConfig a, b, m;
  a.identity = ka.clone();
  b.identity = kb.clone();
  b.pinned_peer = ka.public_key;
  m.identity = km.clone();
  // Mallory's own handshake with B, to get B into the state where message 3 is due.
  auto mallory = Handshake::initiate(m, wire::ConnectionId{9}, rng);
  ASSERT_TRUE(mallory);
  const auto minit_datagram = mallory->initiation_datagram(Instant{});
  const auto minit = wire::decode_initiation(minit_datagram);
  ASSERT_TRUE(minit);
  auto responder = Handshake::respond(b, wire::ConnectionId{2}, *minit, rng);
  ASSERT_TRUE(responder);
  auto m2 = wire::decode_handshake(responder->last_flight());
  ASSERT_FALSE(mallory->handle_handshake_packet(*m2));
  auto m3 = wire::decode_handshake(mallory->last_flight());
  ASSERT_TRUE(m3);
  EXPECT_EQ(responder->handle_handshake_packet(*m3), errc::peer_key_mismatch);
  EXPECT_FALSE(responder->is_complete());
  EXPECT_FALSE(responder->finish());
}

TEST(HandshakeResponder, DropsBadMac1WrongVersionAndReplays) {
  SeededRandom rng(5);
  HandshakeResponder responder(psk_config(1), {}, rng);
  auto stranger = Handshake::initiate(psk_config(2), wire::ConnectionId{9}, rng);
  auto d = responder.on_initiation(Instant{}, kPeer, stranger->initiation_datagram(Instant{}), 0, {});
  ASSERT_TRUE(std::holds_alternative<HandshakeResponder::Drop>(d));
  EXPECT_EQ(std::get<HandshakeResponder::Drop>(d).reason, DropReason::bad_mac1);

  auto friendly = Handshake::initiate(psk_config(1), wire::ConnectionId{8}, rng);
  const auto initiation = friendly->initiation_datagram(Instant{});
  EXPECT_TRUE(std::holds_alternative<HandshakeResponder::Accept>(
      responder.on_initiation(Instant{}, kPeer, initiation, 0, {})));
  for (int i = 0; i < 1000; ++i) {
    auto again = responder.on_initiation(Instant{} + std::chrono::milliseconds(i), kPeer, initiation, 0, {});
    ASSERT_TRUE(std::holds_alternative<HandshakeResponder::Drop>(again));
    EXPECT_EQ(std::get<HandshakeResponder::Drop>(again).reason, DropReason::replayed);
  }
  EXPECT_EQ(responder.counters().accepted, 1u);

  HandshakeConfig v2 = psk_config(1);
  v2.version = 2;
  auto future = Handshake::initiate(v2, wire::ConnectionId{7}, rng);
  auto dv = responder.on_initiation(Instant{}, kPeer, future->initiation_datagram(Instant{}), 0, {});
  EXPECT_EQ(std::get<HandshakeResponder::Drop>(dv).reason, DropReason::unsupported_version);

  std::vector<std::uint8_t> junk(1200, 0x41);
  auto dj = responder.on_initiation(Instant{}, kPeer, junk, 0, {});
  EXPECT_TRUE(std::holds_alternative<HandshakeResponder::Drop>(dj));
}

TEST(HandshakeResponder, CookiesUnderLoadAndCapacityLimit) {
  SeededRandom rng(6);
  ResponderLimits limits;
  limits.cookie_threshold = 10;
  limits.max_half_open = 20;
  HandshakeResponder responder(psk_config(), limits, rng);
  auto h = Handshake::initiate(psk_config(), wire::ConnectionId{1}, rng);
  const auto first = h->initiation_datagram(Instant{});
  auto d = responder.on_initiation(Instant{}, kPeer, first, 10, {});
  auto* cookie = std::get_if<HandshakeResponder::SendCookie>(&d);
  ASSERT_NE(cookie, nullptr);
  EXPECT_EQ(cookie->datagram.size(), wire::kCookieReplySize);
  EXPECT_LT(cookie->datagram.size() * 3, first.size());  // no amplification
  auto reply = wire::decode_cookie_reply(cookie->datagram);
  ASSERT_TRUE(reply);
  ASSERT_FALSE(h->handle_cookie_reply(Instant{}, *reply));
  const auto second = h->initiation_datagram(Instant{});
  EXPECT_TRUE(std::holds_alternative<HandshakeResponder::Accept>(
      responder.on_initiation(Instant{}, kPeer, second, 10, {})));
  // The same cookie from another address is worthless.
  auto h2 = Handshake::initiate(psk_config(), wire::ConnectionId{2}, rng);
  (void)h2->handle_cookie_reply(Instant{}, *reply);  // wrong cid: refused
  auto d3 = responder.on_initiation(Instant{}, SocketAddress::v4(1, 2, 3, 4, 5), second, 10, {});
  EXPECT_TRUE(std::holds_alternative<HandshakeResponder::SendCookie>(d3));
  auto full = responder.on_initiation(Instant{}, kPeer, first, 20, {});
  EXPECT_EQ(std::get<HandshakeResponder::Drop>(full).reason, DropReason::over_capacity);
}

}  // namespace
}  // namespace srudp::crypto
