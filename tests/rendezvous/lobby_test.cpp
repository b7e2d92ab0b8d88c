#include "rendezvous/lobby.hpp"

#include <gtest/gtest.h>

namespace srudp::rendezvous {
namespace {

using O = LobbyJoin::Outcome;
const Instant t0{};

IpBytes ip(std::uint8_t last) { return SocketAddress::v4(192, 0, 2, last, 0).ip; }

TEST(Lobby, PairsOppositeMethodsEitherOrder) {
  Lobby lobby({});
  const auto d = lobby.join(t0, "tok", RdvMethod::dial, ip(1));
  ASSERT_EQ(d.outcome, O::waiting);
  EXPECT_EQ(lobby.size(), 1u);
  const auto a = lobby.join(t0 + 1s, "tok", RdvMethod::accept, ip(2));
  ASSERT_EQ(a.outcome, O::paired);
  EXPECT_EQ(a.dialer, d.ticket);
  EXPECT_EQ(a.acceptor, a.ticket);
  EXPECT_NE(a.ticket, d.ticket);
  EXPECT_EQ(lobby.size(), 0u);
  EXPECT_EQ(lobby.next_deadline(), std::nullopt);

  const auto a2 = lobby.join(t0, "other", RdvMethod::accept, ip(2));
  const auto d2 = lobby.join(t0, "other", RdvMethod::dial, ip(1));
  ASSERT_EQ(d2.outcome, O::paired);
  EXPECT_EQ(d2.dialer, d2.ticket);
  EXPECT_EQ(d2.acceptor, a2.ticket);
}

TEST(Lobby, TokensAreSeparate) {
  Lobby lobby({});
  lobby.join(t0, "one", RdvMethod::dial, ip(1));
  EXPECT_EQ(lobby.join(t0, "two", RdvMethod::accept, ip(1)).outcome, O::waiting);
  EXPECT_EQ(lobby.size(), 2u);
}

TEST(Lobby, SameMethodReplacesTheOlderWaiter) {
  Lobby lobby({});
  const auto first = lobby.join(t0, "tok", RdvMethod::dial, ip(1));
  const auto second = lobby.join(t0 + 1s, "tok", RdvMethod::dial, ip(3));
  ASSERT_EQ(second.outcome, O::waiting);
  EXPECT_EQ(second.replaced, first.ticket);
  EXPECT_EQ(lobby.size(), 1u);
  EXPECT_FALSE(lobby.leave(first.ticket));  // already gone
  // The third joiner pairs with the newer dialer.
  const auto accept = lobby.join(t0 + 2s, "tok", RdvMethod::accept, ip(2));
  ASSERT_EQ(accept.outcome, O::paired);
  EXPECT_EQ(accept.dialer, second.ticket);
  // After pairing the token is free again: a fourth joiner waits.
  EXPECT_EQ(lobby.join(t0 + 3s, "tok", RdvMethod::dial, ip(4)).outcome, O::waiting);
}

TEST(Lobby, ExpiresAtTheDeadline) {
  LobbyLimits limits;
  limits.timeout = 10s;
  Lobby lobby(limits);
  const auto a = lobby.join(t0, "a", RdvMethod::dial, ip(1));
  const auto b = lobby.join(t0 + 5s, "b", RdvMethod::accept, ip(1));
  EXPECT_EQ(lobby.next_deadline(), t0 + 10s);
  EXPECT_TRUE(lobby.expire(t0 + 10s - 1ns).empty());
  EXPECT_EQ(lobby.expire(t0 + 10s), std::vector<LobbyTicket>{a.ticket});
  EXPECT_EQ(lobby.next_deadline(), t0 + 15s);
  EXPECT_EQ(lobby.expire(t0 + 60s), std::vector<LobbyTicket>{b.ticket});
  EXPECT_EQ(lobby.size(), 0u);
  // An expired waiter no longer pairs.
  EXPECT_EQ(lobby.join(t0 + 61s, "a", RdvMethod::accept, ip(2)).outcome, O::waiting);
}

TEST(Lobby, LeaveFreesTheSlot) {
  Lobby lobby({});
  const auto d = lobby.join(t0, "tok", RdvMethod::dial, ip(1));
  EXPECT_TRUE(lobby.leave(d.ticket));
  EXPECT_EQ(lobby.waiting_from(ip(1)), 0u);
  EXPECT_EQ(lobby.join(t0, "tok", RdvMethod::accept, ip(2)).outcome, O::waiting);
}

TEST(Lobby, CapsPerSourceAndInTotal) {
  LobbyLimits limits;
  limits.max_waiting = 3;
  limits.max_waiting_per_source = 2;
  Lobby lobby(limits);
  EXPECT_EQ(lobby.join(t0, "1", RdvMethod::dial, ip(1)).outcome, O::waiting);
  EXPECT_EQ(lobby.join(t0, "2", RdvMethod::dial, ip(1)).outcome, O::waiting);
  EXPECT_EQ(lobby.join(t0, "3", RdvMethod::dial, ip(1)).outcome, O::full);
  EXPECT_EQ(lobby.waiting_from(ip(1)), 2u);
  // Replacing one's own waiter does not count twice.
  EXPECT_EQ(lobby.join(t0, "2", RdvMethod::dial, ip(1)).outcome, O::waiting);
  EXPECT_EQ(lobby.join(t0, "4", RdvMethod::dial, ip(2)).outcome, O::waiting);
  EXPECT_EQ(lobby.join(t0, "5", RdvMethod::dial, ip(3)).outcome, O::full);
  // Pairing needs no room.
  EXPECT_EQ(lobby.join(t0, "1", RdvMethod::accept, ip(1)).outcome, O::paired);
  EXPECT_EQ(lobby.size(), 2u);
  // A rejected joiner does not replace anyone.
  Lobby small({.timeout = 1s, .max_waiting = 1, .max_waiting_per_source = 1});
  const auto keep = small.join(t0, "x", RdvMethod::dial, ip(1));
  EXPECT_EQ(small.join(t0, "y", RdvMethod::dial, ip(1)).outcome, O::full);
  EXPECT_TRUE(small.leave(keep.ticket));
}

TEST(Lobby, IPv6CountsPerSlash64) {
  Lobby lobby({.timeout = 1s, .max_waiting = 100, .max_waiting_per_source = 1});
  const auto a = *SocketAddress::parse("[2001:db8:1:2::1]:1");
  const auto b = *SocketAddress::parse("[2001:db8:1:2::2]:1");
  const auto c = *SocketAddress::parse("[2001:db8:1:3::1]:1");
  EXPECT_EQ(lobby.join(t0, "1", RdvMethod::dial, a.ip).outcome, O::waiting);
  EXPECT_EQ(lobby.join(t0, "2", RdvMethod::dial, b.ip).outcome, O::full);
  EXPECT_EQ(lobby.join(t0, "3", RdvMethod::dial, c.ip).outcome, O::waiting);
}

TEST(Lobby, CloseEvictsEveryoneAndRefusesJoins) {
  Lobby lobby({});
  const auto a = lobby.join(t0, "a", RdvMethod::dial, ip(1));
  const auto b = lobby.join(t0, "b", RdvMethod::accept, ip(1));
  auto evicted = lobby.close();
  std::sort(evicted.begin(), evicted.end());
  EXPECT_EQ(evicted, (std::vector<LobbyTicket>{a.ticket, b.ticket}));
  EXPECT_TRUE(lobby.closed());
  EXPECT_EQ(lobby.size(), 0u);
  EXPECT_EQ(lobby.join(t0, "a", RdvMethod::accept, ip(1)).outcome, O::closed);
}

}  // namespace
}  // namespace srudp::rendezvous
