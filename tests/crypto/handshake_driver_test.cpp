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

TEST(HandshakeDriver, SimultaneousOpenTieBreakIsDeterministic) {
  for (std::uint64_t seed = 0; seed < 32; ++seed) {
    SeededRandom rng(seed);
    const Instant t0{};
    auto a = HandshakeDriver::connect(psk_config(), kB, t0, rng);
    auto b = HandshakeDriver::connect(psk_config(), kA, t0, rng);
    const auto ia = poll(*a, t0), ib = poll(*b, t0);
    ASSERT_FALSE(a->handle_packet(t0, kB, ib));
    ASSERT_FALSE(b->handle_packet(t0, kA, ia));
    // Exactly one side switched to responding; it answers the winning Initiation.
    ASSERT_NE(a->initiator(), b->initiator()) << seed;
    HandshakeDriver& responder = a->initiator() ? *b : *a;
    HandshakeDriver& initiator = a->initiator() ? *a : *b;
    const auto message2 = poll(responder, t0);
    ASSERT_FALSE(message2.empty());
    EXPECT_TRUE(poll(initiator, t0).empty());
    const SocketAddress responder_address = &initiator == &*a ? kB : kA;
    ASSERT_FALSE(initiator.handle_packet(t0, responder_address, message2));
    EXPECT_TRUE(initiator.is_complete());
  }
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
