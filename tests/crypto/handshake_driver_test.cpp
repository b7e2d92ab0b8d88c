#include "crypto/handshake_driver.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "crypto/handshake_responder.hpp"

namespace srudp::crypto {
namespace {

const SocketAddress kA = SocketAddress::v4(198, 51, 100, 1, 4000);
const SocketAddress kB = SocketAddress::v4(203, 0, 113, 2, 5000);

HandshakeConfig psk_config() {
  HandshakeConfig c;
  c.psk.emplace();
  c.psk->bytes()[0] = 3;
  return c;
}

std::vector<std::uint8_t> poll(HandshakeDriver& d, Instant now) {
  std::vector<std::uint8_t> out(1500);
  auto size = d.poll_transmit(now, out);
  if (!size) return {};
  out.resize(*size);
  return out;
}

TEST(RetransmitPolicy, DoublesUpToTheCap) {
  RetransmitPolicy p{std::chrono::milliseconds(300), std::chrono::seconds(1)};
  EXPECT_EQ(p.interval(0), std::chrono::milliseconds(300));
  EXPECT_EQ(p.interval(1), std::chrono::milliseconds(600));
  EXPECT_EQ(p.interval(2), std::chrono::seconds(1));
  EXPECT_EQ(p.interval(50), std::chrono::seconds(1));
}

TEST(HandshakeDriver, InitiatorResendsTheSameInitiationWithBackoff) {
  SeededRandom rng(1);
  const Instant t0{};
  auto d = HandshakeDriver::connect(psk_config(), kB, t0, rng);
  ASSERT_TRUE(d);
  const auto first = poll(*d, t0);
  ASSERT_GE(first.size(), 1200u);
  EXPECT_TRUE(poll(*d, t0).empty());  // nothing more until the timer
  std::vector<Instant> sent_at;
  Instant now = t0;
  for (int i = 0; i < 5; ++i) {
    now = *d->poll_timeout();
    d->handle_timeout(now);
    EXPECT_EQ(poll(*d, now), first);  // same ephemeral key: the responder can match it
    sent_at.push_back(now);
  }
  EXPECT_EQ(sent_at[0] - t0, std::chrono::milliseconds(300));
  EXPECT_EQ(sent_at[1] - sent_at[0], std::chrono::milliseconds(600));
  EXPECT_EQ(sent_at[2] - sent_at[1], std::chrono::seconds(1));
  EXPECT_EQ(d->retransmits(), 5);
}

TEST(HandshakeDriver, ResponderAnswersRetransmittedInitiationsButNeverOnATimer) {
  SeededRandom rng(2);
  const Instant t0{};
  auto a = HandshakeDriver::connect(psk_config(), kB, t0, rng);
  const auto initiation = poll(*a, t0);
  HandshakeResponder responder(psk_config(), {}, rng);
  auto decision = responder.on_initiation(t0, kA, initiation, 0, wire::ConnectionId{7});
  auto b = HandshakeDriver::accept(psk_config(), std::move(std::get<HandshakeResponder::Accept>(decision).handshake),
                                   kA, t0);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->is_complete());  // NNpsk0: the responder is done after message 2
  const auto message2 = poll(*b, t0);
  ASSERT_FALSE(message2.empty());
  EXPECT_FALSE(b->poll_timeout());
  EXPECT_TRUE(poll(*b, t0).empty());
  ASSERT_FALSE(b->handle_packet(t0, kA, initiation));  // the Initiation again: message 2 again
  EXPECT_EQ(poll(*b, t0), message2);
  ASSERT_FALSE(b->handle_packet(t0, kB, initiation));  // from another address: ignored
  EXPECT_TRUE(poll(*b, t0).empty());

  ASSERT_FALSE(a->handle_packet(t0, kB, message2));
  ASSERT_TRUE(a->is_complete());
  EXPECT_TRUE(a->heard_authenticated_reply());
  EXPECT_FALSE(a->poll_timeout());  // nothing left to resend in a two-message pattern
  auto oa = a->take_outcome(), ob = b->take_outcome();
  ASSERT_TRUE(oa);
  ASSERT_TRUE(ob);
  EXPECT_TRUE(oa->send_secret == ob->receive_secret);
  EXPECT_EQ(a->take_outcome().error(), errc::invalid_state);  // once
}

// The handshake's round trip, the transport's first RTT sample: the initiator times its Initiation
// to message 2, the responder its message 2 to the peer's first authenticated packet.
TEST(HandshakeDriver, EachSideTimesTheRoundTripOfItsFlight) {
  using std::chrono::milliseconds;
  SeededRandom rng(4);
  const Instant t0{};
  auto a = HandshakeDriver::connect(psk_config(), kB, t0, rng);
  const auto initiation = poll(*a, t0 + milliseconds(1));  // sent a little after connect()
  EXPECT_FALSE(a->round_trip());
  HandshakeResponder responder(psk_config(), {}, rng);
  const Instant at_b = t0 + milliseconds(11);
  auto decision = responder.on_initiation(at_b, kA, initiation, 0, wire::ConnectionId{7});
  auto b = HandshakeDriver::accept(psk_config(), std::move(std::get<HandshakeResponder::Accept>(decision).handshake),
                                   kA, at_b);
  ASSERT_TRUE(b);
  const auto message2 = poll(*b, at_b + milliseconds(2));  // the responder's key agreement took 2 ms
  ASSERT_FALSE(a->handle_packet(at_b + milliseconds(12), kB, message2));
  ASSERT_TRUE(a->is_complete());
  ASSERT_TRUE(a->round_trip());
  EXPECT_EQ(*a->round_trip(), milliseconds(22));  // 20 ms of path and the responder's 2
  EXPECT_FALSE(b->round_trip());  // nothing from A yet
  b->peer_has_keys(at_b + milliseconds(22));
  ASSERT_TRUE(b->round_trip());
  EXPECT_EQ(*b->round_trip(), milliseconds(20));
  b->peer_has_keys(at_b + milliseconds(90));  // later packets change nothing
  EXPECT_EQ(*b->round_trip(), milliseconds(20));
}

// An XX responder's message 2 is answered by message 3.
TEST(HandshakeDriver, XxResponderTimesMessage2ToMessage3) {
  using std::chrono::milliseconds;
  SeededRandom rng(5);
  const auto ka = KeyPair::generate(rng), kb = KeyPair::generate(rng);
  HandshakeConfig a_cfg, b_cfg;
  a_cfg.identity = ka.clone();
  b_cfg.identity = kb.clone();
  const Instant t0{};
  auto a = HandshakeDriver::connect(a_cfg, kB, t0, rng);
  const auto initiation = poll(*a, t0);
  HandshakeResponder responder(b_cfg, {}, rng);
  auto decision = responder.on_initiation(t0 + milliseconds(5), kA, initiation, 0, wire::ConnectionId{7});
  auto b = HandshakeDriver::accept(b_cfg, std::move(std::get<HandshakeResponder::Accept>(decision).handshake), kA,
                                   t0 + milliseconds(5));
  ASSERT_TRUE(b);
  const auto message2 = poll(*b, t0 + milliseconds(5));
  ASSERT_FALSE(a->handle_packet(t0 + milliseconds(10), kB, message2));
  const auto message3 = poll(*a, t0 + milliseconds(10));
  ASSERT_FALSE(message3.empty());
  EXPECT_EQ(a->round_trip(), milliseconds(10));
  ASSERT_FALSE(b->handle_packet(t0 + milliseconds(15), kA, message3));
  ASSERT_TRUE(b->is_complete());
  EXPECT_EQ(b->round_trip(), milliseconds(10));
}

// A flight that went out twice gives no sample: the answer may be to either copy (Karn).
TEST(HandshakeDriver, AResentFlightGivesNoRoundTrip) {
  using std::chrono::milliseconds;
  SeededRandom rng(6);
  const Instant t0{};
  auto a = HandshakeDriver::connect(psk_config(), kB, t0, rng);
  const auto initiation = poll(*a, t0);
  const Instant resent = *a->poll_timeout();
  a->handle_timeout(resent);
  ASSERT_EQ(poll(*a, resent), initiation);
  HandshakeResponder responder(psk_config(), {}, rng);
  auto decision = responder.on_initiation(resent, kA, initiation, 0, wire::ConnectionId{7});
  auto b = HandshakeDriver::accept(psk_config(), std::move(std::get<HandshakeResponder::Accept>(decision).handshake),
                                   kA, resent);
  ASSERT_TRUE(b);
  const auto message2 = poll(*b, resent);
  ASSERT_FALSE(b->handle_packet(resent + milliseconds(1), kA, initiation));  // the Initiation again
  ASSERT_EQ(poll(*b, resent + milliseconds(1)), message2);
  ASSERT_FALSE(a->handle_packet(resent + milliseconds(2), kB, message2));
  ASSERT_TRUE(a->is_complete());
  EXPECT_FALSE(a->round_trip());
  b->peer_has_keys(resent + milliseconds(3));
  EXPECT_FALSE(b->round_trip());
}

TEST(HandshakeDriver, SimultaneousOpenTieBreakIsDeterministic) {
  for (std::uint64_t seed = 0; seed < 32; ++seed) {
    SeededRandom rng(seed);
    const Instant t0{};
    auto a = HandshakeDriver::connect(psk_config(), kB, t0, rng);
    auto b = HandshakeDriver::connect(psk_config(), kA, t0, rng);
    const auto ia = poll(*a, t0), ib = poll(*b, t0);
    ASSERT_FALSE(a->handle_packet(t0, kB, ib));
    ASSERT_FALSE(b->handle_packet(t0, kA, ia));
    // Exactly one side answers the winning Initiation (with message 2), beside its own attempt.
    const auto from_a = poll(*a, t0), from_b = poll(*b, t0);
    ASSERT_NE(from_a.empty(), from_b.empty()) << seed;
    HandshakeDriver& loser = from_a.empty() ? *b : *a;
    HandshakeDriver& winner = from_a.empty() ? *a : *b;
    const auto& message2 = from_a.empty() ? from_b : from_a;
    EXPECT_TRUE(loser.poll_timeout());  // its own Initiation is still being resent
    const SocketAddress loser_address = &loser == &*a ? kA : kB;
    ASSERT_FALSE(winner.handle_packet(t0, loser_address, message2));
    ASSERT_TRUE(winner.is_complete());
    // NNpsk0: the loser's answer stays provisional until a packet under its keys arrives.
    EXPECT_FALSE(loser.is_complete());
    ASSERT_EQ(loser.provisional_count(), 1u);
    auto ow = winner.take_outcome();
    ASSERT_TRUE(ow);
    EXPECT_TRUE(loser.provisional_outcome(0).receive_secret == ow->send_secret);
    loser.confirm_provisional(0);
    ASSERT_TRUE(loser.is_complete());
    EXPECT_FALSE(loser.initiator());
    auto ol = loser.take_outcome();
    ASSERT_TRUE(ol);
    EXPECT_TRUE(ol->send_secret == ow->receive_secret);
    EXPECT_EQ(ol->peer_cid, ow->local_cid);
    EXPECT_FALSE(loser.poll_timeout());  // its own attempt is over
    EXPECT_TRUE(winner.round_trip());   // its Initiation, answered by message 2
    loser.peer_has_keys(t0);
    EXPECT_FALSE(loser.round_trip());   // it never timed the answer it adopted
  }
}

// An Initiation of the same PSK recorded earlier (the peer's, from an old connection), replayed
// from the peer's address with a connection id that wins the tie-break: we answer it, but keep our
// own attempt alive, so the genuine responder's message 2 still completes the handshake.
TEST(HandshakeDriver, ReplayedInitiationCannotTakeOverTheHandshake) {
  SeededRandom rng(5);
  const Instant t0{};
  auto a = HandshakeDriver::connect(psk_config(), kB, t0, rng);
  ASSERT_TRUE(a);
  const auto initiation = poll(*a, t0);
  std::vector<std::uint8_t> replayed;
  {
    SeededRandom old_rng(6);
    auto old = Handshake::initiate(psk_config(), wire::ConnectionId{}, old_rng);  // the smallest id
    ASSERT_TRUE(old);
    replayed = old->initiation_datagram(t0);
  }
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(a->handle_packet(t0, kB, replayed));
  EXPECT_TRUE(a->initiator());
  EXPECT_FALSE(a->is_complete());
  EXPECT_EQ(a->provisional_count(), 1u);  // one answer, however often it is replayed
  EXPECT_FALSE(poll(*a, t0).empty());     // its message 2, towards the real peer, who drops it
  EXPECT_TRUE(poll(*a, t0).empty());
  // Our own attempt goes on: the Initiation is resent on the timer...
  const Instant t1 = *a->poll_timeout();
  a->handle_timeout(t1);
  EXPECT_EQ(poll(*a, t1), initiation);
  // ... and the genuine responder's answer completes it.
  HandshakeResponder responder(psk_config(), {}, rng);
  auto decision = responder.on_initiation(t1, kA, initiation, 0, wire::ConnectionId{7});
  auto& accepted = std::get<HandshakeResponder::Accept>(decision).handshake;
  const std::vector<std::uint8_t> message2(accepted.last_flight().begin(), accepted.last_flight().end());
  ASSERT_FALSE(a->handle_packet(t1, kB, message2));
  ASSERT_TRUE(a->is_complete());
  EXPECT_TRUE(a->initiator());
  EXPECT_EQ(a->provisional_count(), 0u);
  auto oa = a->take_outcome();
  auto ob = accepted.finish();
  ASSERT_TRUE(oa);
  ASSERT_TRUE(ob);
  EXPECT_TRUE(oa->send_secret == ob->receive_secret);
}

// XX with pinning: an attacker who sees our messages crafts an Initiation from the peer's address
// (XX needs no PSK, so she can) with a winning id, then completes our answer with a message 3 under
// her own key. We drop it; the pinned peer's message 2 completes our own attempt.
TEST(HandshakeDriver, ForgedInitiationAndMessage3CannotTakeOverAPinnedHandshake) {
  SeededRandom rng(7);
  const auto ka = KeyPair::generate(rng), kb = KeyPair::generate(rng), km = KeyPair::generate(rng);
  HandshakeConfig a_cfg, b_cfg, m_cfg;
  a_cfg.identity = ka.clone();
  a_cfg.pinned_peer = kb.public_key;
  b_cfg.identity = kb.clone();
  m_cfg.identity = km.clone();
  const Instant t0{};
  auto a = HandshakeDriver::connect(a_cfg, kB, t0, rng);
  ASSERT_TRUE(a);
  const auto initiation = poll(*a, t0);

  auto mallory = Handshake::initiate(m_cfg, wire::ConnectionId{}, rng);
  ASSERT_TRUE(mallory);
  ASSERT_FALSE(a->handle_packet(t0, kB, mallory->initiation_datagram(t0)));
  const auto answer = poll(*a, t0);
  ASSERT_FALSE(answer.empty());
  auto message2 = wire::decode_handshake(answer);
  ASSERT_TRUE(message2);
  ASSERT_FALSE(mallory->handle_handshake_packet(*message2));
  const std::vector<std::uint8_t> message3(mallory->last_flight().begin(), mallory->last_flight().end());
  ASSERT_FALSE(a->handle_packet(t0, kB, message3));
  EXPECT_FALSE(a->is_complete());
  EXPECT_EQ(a->identity_rejection(), errc::peer_key_mismatch);
  EXPECT_TRUE(a->initiator());

  auto decoded = wire::decode_initiation(initiation);
  ASSERT_TRUE(decoded);
  auto genuine = Handshake::respond(b_cfg, wire::ConnectionId{8}, *decoded, rng);
  ASSERT_TRUE(genuine);
  const std::vector<std::uint8_t> genuine2(genuine->last_flight().begin(), genuine->last_flight().end());
  ASSERT_FALSE(a->handle_packet(t0, kB, genuine2));
  ASSERT_TRUE(a->is_complete());
  auto oa = a->take_outcome();
  ASSERT_TRUE(oa);
  EXPECT_EQ(oa->peer_identity, kb.public_key);
  EXPECT_TRUE(oa->initiator);
}

TEST(HandshakeDriver, ReflectedInitiationIsIgnored) {
  SeededRandom rng(3);
  auto a = HandshakeDriver::connect(psk_config(), kB, Instant{}, rng);
  const auto initiation = poll(*a, Instant{});
  ASSERT_FALSE(a->handle_packet(Instant{}, kB, initiation));  // our own packet, bounced back
  EXPECT_TRUE(a->initiator());
  EXPECT_TRUE(poll(*a, Instant{}).empty());
}

}  // namespace
}  // namespace srudp::crypto
